"""The result every layout gives, and the small conversions the layouts share to fill it."""

import json
from dataclasses import dataclass, field

PARSE_LIMIT = 1 << 20  # a longer text is kept raw only: never parsed as JSON, XML or settings

Texts = dict[str, str]  # every text found, keyed by where it was found ("png:parameters", "xmp")


@dataclass(frozen=True)
class FoundMetadata:
    # The layout recognised: "image-studio", "invokeai", "comfyui", "automatic1111", "xmp",
    # "exif", "comment", or "" when none was.
    source: str
    prompt: str = ""  # the positive prompt, or the description for xmp, exif and comment
    negative_prompt: str = ""
    model: str = ""  # the checkpoint or model, when the layout names one
    settings: dict[str, str] = field(default_factory=dict)  # {"Steps": "20", "Seed": "1234"}
    raw: dict[str, str] = field(default_factory=dict)  # every text found, as found (clipped)

    def search_text(self) -> str:
        """The prompts, the model and the settings' values, one per line, for the search index."""
        parts = [self.prompt, self.negative_prompt, self.model, *self.settings.values()]
        return "\n".join(part for part in parts if part)


def parseable(text: str) -> bool:
    """Whether `text` is short enough to parse: within PARSE_LIMIT bytes of UTF-8.

    Counted in bytes, as the texts were read: a text cut at PARSE_LIMIT + 1 bytes is over it
    however few characters it decoded to.
    """
    return len(text.encode()) <= PARSE_LIMIT


def load_json(text: str | None) -> object:
    """The JSON value of `text`, or None when it is missing, too long or malformed."""
    if not text or not parseable(text):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; deep nesting recurses
        return None


def as_text(value: object) -> str:
    """A setting's value as text: strings as they are, numbers and the rest as JSON writes them."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def string(value: object) -> str:
    """`value` if it is a string, else "": what a malformed document has in place of a prompt."""
    return value if isinstance(value, str) else ""


def pick(source: object, names: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """{label: value} for each (key, label) in `names` whose value in `source` is a scalar.

    The first key found wins a label, so a layout can list alternatives (seed, noise_seed).
    """
    settings: dict[str, str] = {}
    if not isinstance(source, dict):
        return settings
    for key, label in names:
        value = source.get(key)
        if isinstance(value, str | int | float) and label not in settings:
            settings[label] = as_text(value)
    return settings


def size(width: object, height: object) -> str:
    """ "512x768", or "" unless both are whole numbers."""
    if type(width) is int and type(height) is int:  # not bool, which is an int too
        return f"{width}x{height}"
    return ""
