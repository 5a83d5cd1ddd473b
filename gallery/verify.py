"""Whether bytes are an image the gallery keeps, and the still WebP thumbnails that show it.

PNG, JPEG and WebP must be stills; a GIF may be animated (its thumbnail is its first frame); an
SVG is checked as untrusted markup (gallery.svg) and drawn by resvg for its thumbnail. Pillow
decodes a raster image once, and that one decode both proves the file whole and feeds the
thumbnail, which is the cost that dominates (see bench/ingest.py).

Two stills are made: the thumbnail (THUMBNAIL_SIZE, 512 px: detail pages, share previews, a
grid tile on a dense screen) and the grid rendition (GRID_SIZE px, drawn from the thumbnail, not
from the original: a 512 -> 320 step costs about 1 ms), which a grid tile of the justified
gallery fills at device pixel ratio 1-2 (static/css/gallery.css; the browser picks between the
two by `srcset`).
"""

import io
import logging
import struct
import warnings
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_noop
from PIL import Image as PILImage

from gallery import gif, svg
from imagegen.job_messages import TOO_MANY_PIXELS

logger = logging.getLogger(__name__)

# Pillow's name for each raster format we keep, and ours.
FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif"}
# An animation's frames are each decoded to prove the file whole: this bounds that work.
GIF_MAX_FRAMES = 64
# What Pillow raises on malformed or hostile input; anything else is a bug and propagates.
DECODE_ERRORS = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
    zlib.error,
)
THUMBNAIL_QUALITY = 80
# WebP method 0 encodes a 512 px thumbnail in about 5 ms against 21 ms for the default 4, for
# files about a third larger (13 KB against 10 KB).
THUMBNAIL_METHOD = 0
# The grid rendition's longest edge. A medium tile is 180 CSS px tall on a desktop and 100 on a
# phone (static/css/gallery.css), so a square or 3:2 image at 320 px covers it at device pixel
# ratio 1 on a desktop and 1.75 on a phone; wider tiles and denser screens take the 512 px
# thumbnail. Encoded as the thumbnail is (method 4 would save 4-9 % of its bytes for twice the
# encoding time, which ingest pays: bench/ingest.py).
GRID_SIZE = 320
UNSUPPORTED = gettext_noop("The file is not a PNG, JPEG, WebP, GIF or SVG image.")
DAMAGED = gettext_noop("The image is damaged or incomplete.")


class InvalidImage(Exception):
    """The bytes are not an image we keep; `message` is safe to show the person.

    The message is English, stored on the job and translated when shown (imagegen.job_messages).
    """

    code = "bad_image"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class VerifiedImage:
    format: str
    width: int
    height: int
    thumbnail: bytes
    thumbnail_width: int
    thumbnail_height: int
    grid: bytes
    grid_width: int
    grid_height: int


def verify_image(data: bytes) -> VerifiedImage:
    """Check `data` is a whole image we keep, within the limits, and thumbnail it."""
    if len(data) > settings.DOWNLOAD_MAX_BYTES:
        raise InvalidImage(gettext_noop("The image file is too large."))
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):  # markup: no raster format starts so
        return _verify_svg(data)
    if data.startswith(gif.SIGNATURES):
        _check_gif_layout(data)
    try:
        # The global filter list is shared between threads, so this guard is a second line:
        # the explicit pixel check below, made on the header alone, is what refuses a bomb.
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
                fmt, (width, height) = FORMATS.get(probe.format or ""), probe.size
                if fmt is None:  # e.g. MPO, which Pillow's JPEG opener can hand back
                    raise InvalidImage(UNSUPPORTED)
                _check_pixels(width, height)
                if fmt == "gif":
                    _decode_every_frame(probe)
                elif getattr(probe, "n_frames", 1) > 1:
                    raise InvalidImage(gettext_noop("Only GIF images may be animated."))
                else:
                    probe.verify()  # chunk CRCs for PNG; cheap, and before any pixel is decoded
            with PILImage.open(io.BytesIO(data), formats=[probe.format or ""]) as im:
                return _thumbnail(im, fmt, width, height)  # a GIF's first frame
    except PILImage.UnidentifiedImageError:
        raise InvalidImage(UNSUPPORTED) from None
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise InvalidImage(gettext_noop("The image is too large.")) from None
    except DECODE_ERRORS as error:
        logger.info("refused an image: %r", error)
        raise InvalidImage(DAMAGED) from None


def _check_pixels(width: int, height: int) -> None:
    if width * height > settings.IMAGE_MAX_PIXELS:
        raise InvalidImage(TOO_MANY_PIXELS % {"width": width, "height": height})


def _check_gif_layout(data: bytes) -> None:
    """Frame count and every frame's extent, from the blocks alone, before Pillow decodes."""
    try:
        layout = gif.layout(data, max_frames=GIF_MAX_FRAMES)
    except gif.TooManyFrames:
        raise InvalidImage(gettext_noop("The animation has too many frames.")) from None
    except ValueError as error:
        logger.info("refused a GIF: %r", error)
        raise InvalidImage(DAMAGED) from None
    # The canvas holds every frame: Pillow grows it to take in a frame that reaches past the
    # logical screen, so a small header cannot hide a huge frame.
    _check_pixels(*layout.canvas)


def _decode_every_frame(im: PILImage.Image) -> None:
    # Seeking to a frame decodes the one before it; the last one is loaded here too. A damaged
    # frame anywhere fails now rather than in someone's browser.
    for frame in range(getattr(im, "n_frames", 1)):
        im.seek(frame)
        im.load()


def _verify_svg(data: bytes) -> VerifiedImage:
    try:
        drawing = svg.check(data)
        _check_pixels(drawing.width, drawing.height)
        rendered = svg.render_png(drawing, settings.THUMBNAIL_SIZE)
    except svg.NotSvg:
        raise InvalidImage(UNSUPPORTED) from None
    except svg.Refused as refused:
        raise InvalidImage(refused.message) from None
    with PILImage.open(io.BytesIO(rendered), formats=["PNG"]) as im:
        return _thumbnail(im, "svg", drawing.width, drawing.height)


def _thumbnail(im: PILImage.Image, fmt: str, width: int, height: int) -> VerifiedImage:
    size = settings.THUMBNAIL_SIZE
    if fmt == "jpeg":
        im.draft(None, (size, size))  # let libjpeg scale down while decoding: far less work
    im.load()  # the full decode: truncated or corrupt data fails here
    icc_profile = im.info.get("icc_profile")
    if im.mode in ("I", "I;16"):  # 16-bit grey: scale to 8 bits, where convert() would clip
        im = im.point(lambda value: value / 256, "L")
    if im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGBA" if im.has_transparency_data else "RGB")
    # reducing_gap=1.0 does an exact 2x step (1024 -> 512) as one box reduce: 1 ms instead of
    # 10 ms for bicubic, and 48 dB PSNR against LANCZOS, which no one can see in a thumbnail.
    im.thumbnail((size, size), PILImage.Resampling.BICUBIC, reducing_gap=1.0)
    thumbnail = _webp(im, icc_profile)
    grid, grid_width, grid_height = grid_rendition(im, icc_profile)
    return VerifiedImage(
        fmt, width, height, thumbnail, im.width, im.height, grid, grid_width, grid_height
    )


def grid_rendition(thumbnail: PILImage.Image, icc_profile: bytes | None) -> tuple[bytes, int, int]:
    """The grid's WebP, drawn from the decoded thumbnail (RGB or RGBA); its bytes and size.

    A thumbnail already within GRID_SIZE is encoded as it is: every image has a grid rendition,
    so the gallery never has to ask which ones do.
    """
    im = thumbnail
    if max(im.size) > GRID_SIZE:
        im = im.copy()
        im.thumbnail((GRID_SIZE, GRID_SIZE), PILImage.Resampling.BICUBIC)
    return _webp(im, icc_profile), im.width, im.height


def _webp(im: PILImage.Image, icc_profile: bytes | None) -> bytes:
    out = io.BytesIO()
    im.save(
        out, "WEBP", quality=THUMBNAIL_QUALITY, method=THUMBNAIL_METHOD, icc_profile=icc_profile
    )
    return out.getvalue()
