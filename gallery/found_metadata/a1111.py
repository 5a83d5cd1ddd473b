"""AUTOMATIC1111 and Forge: the `parameters` text, in a PNG text chunk or an EXIF UserComment.

The layout, as A1111's own parse_generation_parameters() reads it: prompt lines, then from a line
starting "Negative prompt:" the negative prompt's lines, then a last line of `Key: value` pairs
separated by commas, where a value holding commas or colons is a JSON-quoted string. A last line
with fewer than three pairs is part of the prompt.
"""

import json
import re
from itertools import islice

from gallery.found_metadata.result import FoundMetadata, Texts, parseable

# A1111's own pattern, with keys starting only at the line's start or after a comma: a long line
# without colons then costs linear time, where the unanchored pattern's cost is quadratic.
SETTING = re.compile(r'(?:^|(?<=,))\s*(\w[\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')
NEGATIVE = "Negative prompt:"
MAX_SETTINGS = 200  # A1111 with its common extensions writes a few dozen


def read(texts: Texts) -> FoundMetadata | None:
    text = texts.get("png:parameters", "")
    if text.strip() and parseable(text):
        return parse(text)  # the chunk's name says whose layout it is
    comment = texts.get("exif:UserComment", "")
    if parseable(comment):
        # Any text can be a UserComment: it is A1111's only when it has settings or a negative.
        found = parse(comment)
        if found.settings or found.negative_prompt:
            return found
    return None


def parse(text: str) -> FoundMetadata:
    *lines, last = text.strip().splitlines() or [""]
    pairs = [match.groups() for match in islice(SETTING.finditer(last), MAX_SETTINGS)]
    if len(pairs) < 3:
        lines, pairs = [*lines, last], []
    prompt: list[str] = []
    negative: list[str] = []
    for line in (line.strip() for line in lines):
        if line.startswith(NEGATIVE) and not negative:
            negative.append(line.removeprefix(NEGATIVE).strip())
        elif negative:
            negative.append(line)
        else:
            prompt.append(line)
    settings = {key.strip(): _unquote(value.strip()) for key, value in pairs}
    return FoundMetadata(
        "automatic1111",
        prompt="\n".join(prompt),
        negative_prompt="\n".join(negative),
        model=settings.get("Model", ""),
        settings=settings,
    )


def _unquote(value: str) -> str:
    if len(value) < 2 or not (value.startswith('"') and value.endswith('"')):
        return value
    try:
        unquoted = json.loads(value)
    except ValueError:
        return value  # as A1111 does: a malformed quoted value is kept as it is
    return unquoted if isinstance(unquoted, str) else value
