"""What the offline provider's answers carry: the pictures, the token counts and the stream.

Shared by generations and edits (transport.py); a URL result's token carries
`drawing_options()` so the picture can be drawn again when the URL is fetched.
"""

import json
from collections.abc import Iterator
from typing import Any

import httpx

from imagegen.offline.drawing import draw_image
from imagegen.offline.edits import Edit, draw_edit
from imagegen.offline.requests import Generation

# OpenAI's output tokens for one 1024x1024 image; other sizes scale by area.
_OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160}
_MEGAPIXEL = 1024 * 1024


class EventStream(httpx.SyncByteStream):
    """A response body produced lazily, so partial images reach the client before the final."""

    def __init__(self, events: Iterator[bytes]) -> None:
        self._events = events

    def __iter__(self) -> Iterator[bytes]:
        yield from self._events


def draw(
    generation: Generation, index: int, detail: float = 1.0, *, edit: Edit | None = None
) -> bytes:
    if edit is not None:
        return draw_edit(edit, index, detail)
    return draw_image(
        generation.prompt,
        generation.width,
        generation.height,
        fmt=generation.output_format,
        compression=generation.compression,
        variant=index,
        detail=detail,
        **drawing_options(generation),
        references=generation.references,
    )


def drawing_options(generation: Generation) -> dict[str, Any]:
    """What else shapes the picture, also carried in a URL result's token to re-draw it."""
    return {
        "transparent": generation.transparent,
        "seed": generation.seed,
        "watermark": generation.watermark,
        "frame_count": generation.frame_count,
        "frame_duration_ms": generation.frame_duration_ms,
    }


def sse(data: dict[str, Any], *, name: str | None = None) -> bytes:
    return f"event: {name or data['type']}\ndata: {json.dumps(data)}\n\n".encode()


def seedream_usage(generation: Generation) -> dict[str, Any]:
    """Seedream's usage (api.md §1): the images made, and a token for each 16x16 pixels of
    them, as Volcengine counts an image's tokens."""
    tokens = generation.n * generation.width * generation.height // 256
    return {"generated_images": generation.n, "output_tokens": tokens, "total_tokens": tokens}


def usage(generation: Generation, edit: Edit | None = None) -> dict[str, Any]:
    """Plausible token counts: about four characters a text token, output by quality and area,
    and an edit's input images as edits.py counts them."""
    text_tokens = max(1, len(generation.prompt) // 4)
    image_tokens = 0 if edit is None else edit.image_tokens
    per_image = _OUTPUT_TOKENS.get(generation.quality, _OUTPUT_TOKENS["medium"])
    output_tokens = round(per_image * generation.width * generation.height / _MEGAPIXEL)
    output_tokens *= generation.n
    return {
        "input_tokens": text_tokens + image_tokens,
        "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
        "output_tokens": output_tokens,
        "total_tokens": text_tokens + image_tokens + output_tokens,
    }
