"""Draws the offline provider's images: a seeded gradient, soft shapes and the prompt's first words.

The same inputs always give the same bytes, so tests can compare results and a URL result can be
re-drawn on fetch instead of being stored. Everything is drawn with Pillow's C primitives (no
per-pixel Python), which keeps a 1024x1024 PNG well under 100 ms.
"""

import colorsys
import hashlib
import io
import random
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

# Shapes are drawn on a canvas at most this wide and scaled up: drawing and blending cost grows
# with area, and the soft edges the upscale gives suit the look.
_WORK_EDGE = 640
_CAPTION_WORDS = 6

type Colour = tuple[int, int, int]


def draw_image(
    prompt: str,
    width: int,
    height: int,
    *,
    fmt: str = "png",
    transparent: bool = False,
    compression: int | None = None,
    variant: int = 0,
    detail: float = 1.0,
) -> bytes:
    """Encode a picture for prompt at exactly width x height in fmt (png, jpeg or webp).

    `variant` tells apart the images of one request; `transparent` leaves the background fully
    transparent (png and webp only); `compression` is OpenAI's output_compression (0-100), used as
    the jpeg/webp quality; `detail` below 1 blurs the picture, for partial images.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Cannot draw {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if transparent and fmt == "jpeg":
        raise ValueError("JPEG has no alpha channel.")
    if width < 1 or height < 1:
        raise ValueError("Width and height must be positive.")
    rng = random.Random(hashlib.sha256(f"{variant}\0{prompt}".encode()).digest())
    picture = _compose(rng, width, height, transparent)
    _write_caption(picture, prompt)
    if detail < 1:
        picture = _blur(picture, detail)
    return _encode(picture, fmt, compression)


def _compose(rng: random.Random, width: int, height: int, transparent: bool) -> Image.Image:
    scale = min(1.0, _WORK_EDGE / max(width, height))
    work = (max(1, round(width * scale)), max(1, round(height * scale)))
    hue = rng.random()
    # On a transparent background the shapes take a gradient of their own, so they stay colourful.
    shapes = _gradient(rng, work, hue + 0.5 if transparent else hue)
    # The mask records where shapes were drawn; with a transparent background it becomes the
    # alpha channel, so only the shapes are visible.
    mask = Image.new("L", work, 0)
    _draw_shapes(rng, shapes, mask, hue)
    if transparent:
        shapes.putalpha(mask)
    # Shapes are drawn without anti-aliasing; a light blur before the upscale hides the steps.
    shapes = shapes.filter(ImageFilter.GaussianBlur(0.8))
    return shapes.resize((width, height), Image.Resampling.BICUBIC)


def _gradient(rng: random.Random, size: tuple[int, int], hue: float) -> Image.Image:
    """A diagonal three-colour gradient around hue, at an angle chosen by rng."""
    vertical = Image.linear_gradient("L")
    horizontal = vertical.transpose(Image.Transpose.ROTATE_90)
    ramp = Image.blend(vertical, horizontal, rng.uniform(0.15, 0.85)).resize(size)
    dark = _colour(hue, 0.55, 0.25)
    middle = _colour(hue + rng.uniform(0.05, 0.15), 0.5, 0.6)
    light = _colour(hue + rng.uniform(0.15, 0.3), 0.35, 0.95)
    if rng.random() < 0.5:
        dark, light = light, dark
    return ImageOps.colorize(ramp, black=dark, white=light, mid=middle)


def _draw_shapes(rng: random.Random, canvas: Image.Image, mask: Image.Image, hue: float) -> None:
    width, height = canvas.size
    unit = min(width, height)
    # "RGBA" mode lets translucent fills blend with what is already on the RGB canvas.
    paint = ImageDraw.Draw(canvas, "RGBA")
    outline = ImageDraw.Draw(mask)
    for _ in range(rng.randint(7, 13)):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        radius = unit * rng.uniform(0.06, 0.28)
        box = (x - radius, y - radius, x + radius, y + radius)
        colour = (*_colour(hue + rng.choice([0.33, 0.5, 0.66]), 0.6, rng.uniform(0.6, 1)), 170)
        opacity = rng.randint(170, 255)
        kind = rng.choice(["circle", "square", "triangle", "ring"])
        if kind == "circle":
            paint.ellipse(box, fill=colour)
            outline.ellipse(box, fill=opacity)
        elif kind == "square":
            corner = radius * 0.3
            paint.rounded_rectangle(box, radius=corner, fill=colour)
            outline.rounded_rectangle(box, radius=corner, fill=opacity)
        elif kind == "triangle":
            points = [
                (x, y - radius),
                (x + radius, y + radius * 0.8),
                (x - radius, y + radius * 0.8),
            ]
            paint.polygon(points, fill=colour)
            outline.polygon(points, fill=opacity)
        else:
            ring = max(2, round(radius * 0.18))
            paint.ellipse(box, outline=colour, width=ring)
            outline.ellipse(box, outline=opacity, width=ring)


def _write_caption(picture: Image.Image, prompt: str) -> None:
    """The prompt's first words in the lower left corner, so a gallery of fakes is legible."""
    # Pillow's built-in font has Latin glyphs only: other scripts would be drawn as empty boxes.
    latin_words = [word for word in prompt.split() if all(ord(c) < 0x250 for c in word)]
    caption = " ".join(latin_words[:_CAPTION_WORDS])
    if len(caption) > 48:
        caption = caption[:47] + "…"
    if not caption:
        return
    width, height = picture.size
    size = max(10, min(width, height) // 22)
    font = _font(size)
    margin = size
    draw = ImageDraw.Draw(picture, "RGBA")
    left, top, right, bottom = draw.textbbox((margin, height - margin * 2), caption, font=font)
    pad = size // 3
    band = (left - pad, top - pad, right + pad, bottom + pad)
    draw.rounded_rectangle(band, radius=pad, fill=(0, 0, 0, 110))
    draw.text((margin, height - margin * 2), caption, font=font, fill=(255, 255, 255, 235))


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _blur(picture: Image.Image, detail: float) -> Image.Image:
    """A blurry preview: shrink to a fraction of the size and scale back up."""
    width, height = picture.size
    factor = max(0.02, detail)
    small = picture.resize((max(1, round(width * factor)), max(1, round(height * factor))))
    return small.resize((width, height), Image.Resampling.BICUBIC)


def _encode(picture: Image.Image, fmt: str, compression: int | None) -> bytes:
    buffer = io.BytesIO()
    if fmt == "png":
        # Level 1 is several times faster than the default 6 and gradients still compress well.
        picture.save(buffer, "PNG", compress_level=1)
    else:
        # output_compression 100 means best quality; Pillow advises against JPEG quality above 95.
        quality = 90 if compression is None else max(1, min(compression, 95))
        options = {"method": 0} if fmt == "webp" else {}
        picture.save(buffer, FORMATS[fmt], quality=quality, **options)
    return buffer.getvalue()


def _colour(hue: float, saturation: float, value: float) -> Colour:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)
