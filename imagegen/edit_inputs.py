"""The files an edit sends (api.md §7): input images as the endpoint takes them, and the mask.

The endpoint takes PNG, JPEG and WebP inputs; a kept GIF goes as its first frame and an SVG as
its rendering, both PNG. The mask is a PNG of the first image's own size with an alpha channel:
fully transparent pixels mark where to edit. The form checks a painted mask with `check_mask`
(so a person is told), and the service checks it again before anything is sent.
"""

import base64
import io
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image as PILImage

SENT_AS_IS = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
MASK_MAX_BYTES = 4 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class InputFile:
    """One input image as sent: its bytes, format and pixel size."""

    data: bytes
    format: str
    size: tuple[int, int]

    @property
    def content_type(self) -> str:
        return SENT_AS_IS[self.format]


def sendable(data: bytes, fmt: str, size: tuple[int, int]) -> InputFile:
    """A kept image as the endpoint takes it: PNG, JPEG and WebP as they are, a GIF's first
    frame or an SVG's rendering as PNG."""
    if fmt in SENT_AS_IS:
        return InputFile(data, fmt, size)
    if fmt == "svg":
        from gallery import svg  # the gallery's checked SVG renderer

        data = svg.render_png(svg.check(data), max(size))
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        with PILImage.open(io.BytesIO(data), formats=["GIF", "PNG"]) as image:
            image.seek(0)
            image.convert("RGBA").save(out, "PNG", compress_level=1)
            size = image.size
    return InputFile(out.getvalue(), "png", size)


class InputGone(Exception):
    """An image the job starts from was deleted after the job was submitted."""


def read_inputs(inputs: Iterable[Any]) -> list[InputFile]:
    """The files of a job's sent inputs (gallery ImageInput rows, in order), as sent."""
    files = []
    for planned in inputs:
        image = planned.image
        if image is None:
            raise InputGone
        with image.file.open("rb") as stored:
            data = stored.read()
        files.append(sendable(data, image.format, (image.width, image.height)))
    return files


def data_uri(image: InputFile) -> str:
    """A reference as Seedream's `image` takes it inline (api.md §7): no public URL needed."""
    return f"data:{image.content_type};base64,{base64.b64encode(image.data).decode('ascii')}"


def check_mask(mask: bytes, size: tuple[int, int]) -> str | None:
    """Why this mask cannot go with an image of `size`, in the reader's language; None if it
    can. A mask with nothing transparent would change nothing, so it is refused too."""
    if len(mask) > MASK_MAX_BYTES:
        return _("The mask is larger than 4 MB.")
    if not mask.startswith(PNG_SIGNATURE):
        return _("The mask must be a PNG image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(mask), formats=["PNG"]) as image:
                if image.size != tuple(size):
                    return _(
                        "The mask is %(mask)s pixels; it must be the image's own size, %(image)s."
                    ) % {"mask": "x".join(map(str, image.size)), "image": "x".join(map(str, size))}
                if image.width * image.height > settings.IMAGE_MAX_PIXELS:
                    return _("The mask is too large.")
                if "A" not in image.getbands() and "transparency" not in image.info:
                    return _("The mask needs an alpha channel: transparent where to edit.")
                alpha = image.convert("RGBA").getchannel("A")
    except (OSError, SyntaxError, ValueError, EOFError, PILImage.DecompressionBombWarning):
        return _("The mask is not a readable PNG image.")
    if alpha.getextrema()[0] != 0:
        return _("The mask marks nothing to change: paint the area to edit.")
    return None
