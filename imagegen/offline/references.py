"""Seedream's reference images: a generation's `image` list, read as the real endpoint reads it.

Each entry is an https URL or a `data:image/<png|jpeg|webp>;base64,<data>` URI (api.md §1, §7);
the schema has already checked the list's length and that references and outputs add up to at
most 15. A data URI is held to what Seedream documents and nothing looser: exactly those three
media types, spelled in lower case, strict base64, at most 10 MB decoded, bytes that really are
the format the URI names, and no more pixels than IMAGE_MAX_PIXELS (decoded as edits.py decodes
uploads, so a bomb is refused from its header). The offline provider has no internet: an https
URL is accepted without being fetched and shows as a grey placeholder tile with a cross; an http
URL is refused. Each problem is the endpoint's 400 with `param` "image" and a message naming the
entry, e.g. "Invalid 'image[2]': not a valid base64 data URI."

Only a model whose schema has an `images` parameter named `image` on the generations endpoint
reads references here; any other model's schema has already refused the parameter. A reference
is kept as a small square, which drawing.py shows as a thumbnail along the bottom of the result;
ReferenceStore keeps them for a URL result, whose picture is drawn again when the URL is fetched.
"""

import base64
import binascii
import dataclasses
import hashlib
import math
import re
import threading
from collections import OrderedDict

from PIL import Image, ImageDraw, ImageOps

from imagegen.catalogue import GENERATIONS
from imagegen.offline.edits import decode_image
from imagegen.offline.requests import Generation, Refused

PARAM = "image"
# Volcengine documents 10 MB as the most a Seedream reference image may weigh.
MAX_REFERENCE_BYTES = 10 * 1024 * 1024
# Base64 spends four characters on three bytes: a longer payload cannot decode to the limit or
# less, so it is refused before it is decoded.
_MAX_PAYLOAD = 4 * math.ceil(MAX_REFERENCE_BYTES / 3)
_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
_DATA_URI = re.compile(r"data:([^;,]*);base64,(.*)", re.DOTALL)
# The square a reference is kept as: enough for a thumbnail, and little memory for fourteen.
_EDGE = 256
_BACKDROP = (255, 255, 255)  # what a reference's transparent parts show
_PLACEHOLDER = (160, 160, 160)
_PLACEHOLDER_CROSS = (96, 96, 96)

type References = tuple[Image.Image, ...]


def read_references(generation: Generation) -> Generation:
    """The generation with its references decoded as squares, in order, or raise Refused for the
    first entry the endpoint would refuse."""
    parameter = generation.spec.references(GENERATIONS)
    entries = generation.received.get(PARAM)
    if parameter is None or parameter.name != PARAM or not entries:
        return generation
    references = tuple(_reference(index, entry) for index, entry in enumerate(entries))
    return dataclasses.replace(generation, references=references)


class ReferenceStore:
    """The references of recent requests, for their URL results: a URL's token names them by
    digest, and the file is drawn again when fetched (the service fetches it at once, so a few
    requests' worth is enough). One instance is safe to share between threads."""

    def __init__(self, capacity: int = 16) -> None:
        self._capacity = capacity
        self._kept: OrderedDict[str, References] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, references: References) -> str | None:
        """The key a token carries for these references; None when there are none."""
        if not references:
            return None
        key = _digest(references)
        with self._lock:
            self._kept[key] = references
            self._kept.move_to_end(key)
            while len(self._kept) > self._capacity:
                self._kept.popitem(last=False)
        return key

    def find(self, key: str | None) -> References | None:
        """The references a key names, () for no key, None once they have been let go."""
        if key is None:
            return ()
        with self._lock:
            return self._kept.get(key)


def _reference(index: int, entry: str) -> Image.Image:
    name = f"{PARAM}[{index}]"
    if entry.startswith("data:"):
        return _square(_decoded(name, entry))
    if entry.startswith("https://"):
        return _placeholder()
    if entry.startswith("http://"):
        raise _refused(name, "the URL must use https.", "invalid_value")
    message = "expected an https URL or a data URI (data:image/<png|jpeg|webp>;base64,...)."
    raise _refused(name, message, "invalid_value")


def _decoded(name: str, entry: str) -> Image.Image:
    found = _DATA_URI.fullmatch(entry)
    if found is None:
        raise _refused(name, "not a valid base64 data URI.", "invalid_base64")
    media_type, payload = found.groups()
    if media_type not in _FORMATS:
        message = (
            f"unsupported image type '{media_type}'. Supported types are 'image/png', "
            "'image/jpeg' and 'image/webp'."
        )
        raise _refused(name, message, "invalid_image_format")
    if len(payload) > _MAX_PAYLOAD:
        raise _too_large(name)
    try:
        data = base64.b64decode(payload, validate=True)
    except binascii.Error:
        data = b""
    if not data:
        raise _refused(name, "not a valid base64 data URI.", "invalid_base64")
    if len(data) > MAX_REFERENCE_BYTES:
        raise _too_large(name)
    fmt = _FORMATS[media_type]
    try:
        picture = decode_image(data, (fmt,), name)
    except Refused as refused:  # too many pixels, or damaged: reported for the whole parameter
        raise Refused(refused.message, PARAM, refused.code) from None
    if picture is None:
        message = f"the data URI says {media_type} but its data is not a {fmt} image."
        raise _refused(name, message, "invalid_image_format")
    return picture


def _square(picture: Image.Image) -> Image.Image:
    """The middle square of the picture, at most _EDGE wide, transparency shown over white."""
    edge = min(_EDGE, picture.width, picture.height)
    square = ImageOps.fit(picture.convert("RGBA"), (edge, edge), Image.Resampling.LANCZOS)
    backdrop = Image.new("RGBA", square.size, _BACKDROP)
    backdrop.alpha_composite(square)
    return backdrop.convert("RGB")


def _placeholder() -> Image.Image:
    """What stands for an https URL, which the offline provider does not fetch."""
    tile = Image.new("RGB", (_EDGE, _EDGE), _PLACEHOLDER)
    draw = ImageDraw.Draw(tile)
    width = _EDGE // 16
    draw.line((0, 0, _EDGE - 1, _EDGE - 1), fill=_PLACEHOLDER_CROSS, width=width)
    draw.line((0, _EDGE - 1, _EDGE - 1, 0), fill=_PLACEHOLDER_CROSS, width=width)
    return tile


def _digest(references: References) -> str:
    digest = hashlib.sha256()
    for reference in references:
        digest.update(f"{reference.mode} {reference.width}x{reference.height};".encode())
        digest.update(reference.tobytes())
    return digest.hexdigest()[:32]


def _refused(name: str, problem: str, code: str) -> Refused:
    return Refused(f"Invalid '{name}': {problem}", PARAM, code)


def _too_large(name: str) -> Refused:
    megabytes = MAX_REFERENCE_BYTES // (1024 * 1024)
    return _refused(name, f"the image is larger than {megabytes} MB.", "image_too_large")
