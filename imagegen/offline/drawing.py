"""Draws the offline provider's images: a seeded gradient, soft shapes and the prompt's first words.

The same inputs always give the same bytes, so tests can compare results and a URL result can be
re-drawn on fetch instead of being stored. Everything is drawn with Pillow's C primitives (no
per-pixel Python) on a small canvas that is scaled up, which keeps a 1024x1024 PNG well under
100 ms and a 4096x4096 one (Seedream's "4K") near a second. What is drawn is decided in scene.py;
SVG output is written by svg.py from the same scene.
"""

import io
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from imagegen.offline.scene import Scene, caption, plan
from imagegen.offline.svg import WATERMARK, draw_svg

MIME_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "svg": "image/svg+xml",
}
# Pillow's names for the formats it encodes (SVG is written as text).
FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}
OPAQUE_FORMATS = frozenset({"jpeg", "gif"})
FRAME_COUNTS = range(2, 17)  # gpt-image-2.6's frame_count (api.md §1)
# A GIF stores each frame's delay in hundredths of a second.
MIN_FRAME_DURATION_MS = 10

# Shapes are drawn on a canvas at most this wide and scaled up: drawing and blending cost grows
# with area, and the soft edges the upscale gives suit the look.
_WORK_EDGE = 640
# The frames of a GIF share one palette, taken from a strip of small copies of them all, so the
# colours do not flicker from frame to frame.
_PALETTE_EDGE = 96
# Reference thumbnails: each at most a sixth of the width, framed by one dark pixel.
_THUMBNAIL_SHARE = 6
_THUMBNAIL_FRAME = (24, 24, 24)


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
    seed: int | None = None,
    watermark: bool = False,
    frame_count: int = 9,
    frame_duration_ms: int = 200,
    references: Sequence[Image.Image] = (),
) -> bytes:
    """Encode a picture for prompt at exactly width x height in fmt (png, jpeg, webp, gif or svg).

    `variant` tells apart the images of one request; `seed`, when given, picks the picture
    together with the prompt and variant (the same seed gives the same bytes); `transparent`
    leaves the background fully transparent (png, webp and svg); `compression` is OpenAI's
    output_compression (0-100), used as the jpeg/webp quality and ignored by the other formats;
    `detail` below 1 blurs the picture, for partial images; `watermark` adds an "AI generated"
    mark in the lower right corner, as Seedream does. A gif is animated: `frame_count` frames
    (2-16) of `frame_duration_ms` each, looping for ever. An svg is UTF-8 text. `references`
    (Seedream's reference images) are shown in order as framed thumbnails in a row along the
    bottom edge, with the caption and watermark lifted above them; an svg leaves them out.
    """
    _check(fmt, width, height, transparent, frame_count, frame_duration_ms)
    scene = plan(prompt, variant, seed)
    if fmt == "svg":
        return draw_svg(
            scene,
            prompt,
            width,
            height,
            transparent=transparent,
            watermark=watermark,
            detail=detail,
        )
    options = {
        "transparent": transparent,
        "watermark": watermark,
        "detail": detail,
        "references": references,
    }
    if fmt == "gif":
        phases = [index / frame_count for index in range(frame_count)]
        frames = [_picture(scene, prompt, width, height, phase=p, **options) for p in phases]
        return _encode_gif(frames, frame_duration_ms)
    return encode_picture(_picture(scene, prompt, width, height, **options), fmt, compression)


def _check(
    fmt: str, width: int, height: int, transparent: bool, frame_count: int, frame_duration_ms: int
) -> None:
    if fmt not in MIME_TYPES:
        raise ValueError(f"Cannot draw {fmt!r}; choose one of {', '.join(MIME_TYPES)}.")
    if transparent and fmt in OPAQUE_FORMATS:
        raise ValueError(f"{fmt.upper()} output is drawn without an alpha channel.")
    if width < 1 or height < 1:
        raise ValueError("Width and height must be positive.")
    if fmt == "gif" and frame_count not in FRAME_COUNTS:
        raise ValueError(f"frame_count must be between 2 and 16, not {frame_count}.")
    if fmt == "gif" and frame_duration_ms < MIN_FRAME_DURATION_MS:
        raise ValueError(f"frame_duration_ms must be at least {MIN_FRAME_DURATION_MS}.")


def _picture(
    scene: Scene,
    prompt: str,
    width: int,
    height: int,
    *,
    transparent: bool,
    watermark: bool,
    detail: float,
    references: Sequence[Image.Image],
    phase: float = 0.0,
) -> Image.Image:
    picture = _compose(scene, width, height, transparent, phase)
    lift = _paste_references(picture, references)
    _write_caption(picture, caption(prompt, latin_only=True), lift)
    if watermark:
        _stamp_watermark(picture, lift)
    if detail < 1:
        picture = _blur(picture, detail)
    return picture


def _compose(scene: Scene, width: int, height: int, transparent: bool, phase: float) -> Image.Image:
    scale = min(1.0, _WORK_EDGE / max(width, height))
    work = (max(1, round(width * scale)), max(1, round(height * scale)))
    shapes = _gradient(scene, work, transparent)
    # The mask records where shapes were drawn; with a transparent background it becomes the
    # alpha channel, so only the shapes are visible.
    mask = Image.new("L", work, 0)
    _draw_shapes(scene, shapes, mask, phase)
    if transparent:
        shapes.putalpha(mask)
    # Shapes are drawn without anti-aliasing; a light blur before the upscale hides the steps.
    shapes = shapes.filter(ImageFilter.GaussianBlur(0.8))
    return shapes.resize((width, height), Image.Resampling.BICUBIC)


def _gradient(scene: Scene, size: tuple[int, int], transparent: bool) -> Image.Image:
    """A diagonal three-colour gradient at the scene's tilt."""
    vertical = Image.linear_gradient("L")
    horizontal = vertical.transpose(Image.Transpose.ROTATE_90)
    ramp = Image.blend(vertical, horizontal, scene.tilt).resize(size)
    start, middle, end = scene.stops(transparent)
    return ImageOps.colorize(ramp, black=start, white=end, mid=middle)


def _draw_shapes(scene: Scene, canvas: Image.Image, mask: Image.Image, phase: float) -> None:
    width, height = canvas.size
    unit = min(width, height)
    # "RGBA" mode lets translucent fills blend with what is already on the RGB canvas.
    paint = ImageDraw.Draw(canvas, "RGBA")
    outline = ImageDraw.Draw(mask)
    for shape in scene.shapes:
        dx, dy = shape.offset(phase)
        x, y = shape.x * width + dx * unit, shape.y * height + dy * unit
        radius = unit * shape.radius
        box = (x - radius, y - radius, x + radius, y + radius)
        colour = (*shape.colour(phase), 170)
        opacity = shape.opacity
        if shape.kind == "circle":
            paint.ellipse(box, fill=colour)
            outline.ellipse(box, fill=opacity)
        elif shape.kind == "square":
            corner = radius * 0.3
            paint.rounded_rectangle(box, radius=corner, fill=colour)
            outline.rounded_rectangle(box, radius=corner, fill=opacity)
        elif shape.kind == "triangle":
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


def _paste_references(picture: Image.Image, references: Sequence[Image.Image]) -> int:
    """Thumbnails of the references in a row along the bottom edge, in order, each in a 1-px
    frame; returns the height the row takes from the bottom (0 without references)."""
    if not references:
        return 0
    width, height = picture.size
    gap = max(1, min(width, height) // 64)
    edge = min(width // _THUMBNAIL_SHARE, (width - gap) // len(references) - gap, height // 3)
    edge = max(3, edge)  # a frame around at least one pixel
    top = height - gap - edge
    draw = ImageDraw.Draw(picture)
    for index, reference in enumerate(references):
        left = gap + index * (edge + gap)
        draw.rectangle((left, top, left + edge - 1, top + edge - 1), outline=_THUMBNAIL_FRAME)
        thumbnail = reference.resize((edge - 2, edge - 2), Image.Resampling.LANCZOS)
        picture.paste(thumbnail, (left + 1, top + 1))
    return edge + gap


def _write_caption(picture: Image.Image, text: str, lift: int) -> None:
    """The prompt's first words in the lower left corner, so a gallery of fakes is legible;
    `lift` pixels higher (above reference thumbnails)."""
    if not text:
        return
    width, height = picture.size
    size = max(10, min(width, height) // 22)
    font = _font(size)
    margin = size
    draw = ImageDraw.Draw(picture, "RGBA")
    origin = (margin, height - margin * 2 - lift)
    left, top, right, bottom = draw.textbbox(origin, text, font=font)
    pad = size // 3
    band = (left - pad, top - pad, right + pad, bottom + pad)
    draw.rounded_rectangle(band, radius=pad, fill=(0, 0, 0, 110))
    draw.text(origin, text, font=font, fill=(255, 255, 255, 235))


def _stamp_watermark(picture: Image.Image, lift: int) -> None:
    """Seedream's visible mark: small light text with a dark edge in the lower right corner,
    `lift` pixels higher (above reference thumbnails)."""
    width, height = picture.size
    size = max(9, min(width, height) // 40)
    font = _font(size)
    draw = ImageDraw.Draw(picture, "RGBA")
    edge = max(1, size // 10)
    _, _, right, bottom = draw.textbbox((0, 0), WATERMARK, font=font, stroke_width=edge)
    position = (width - size - right, height - size - bottom - lift)
    draw.text(
        position,
        WATERMARK,
        font=font,
        fill=(255, 255, 255, 220),
        stroke_width=edge,
        stroke_fill=(0, 0, 0, 150),
    )


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _blur(picture: Image.Image, detail: float) -> Image.Image:
    """A blurry preview: shrink to a fraction of the size and scale back up."""
    width, height = picture.size
    factor = max(0.02, detail)
    small = picture.resize((max(1, round(width * factor)), max(1, round(height * factor))))
    return small.resize((width, height), Image.Resampling.BICUBIC)


def encode_picture(picture: Image.Image, fmt: str, compression: int | None) -> bytes:
    """A still picture as png, jpeg or webp, as the upstream's compression setting asks."""
    buffer = io.BytesIO()
    if fmt == "png":
        # Level 1 is several times faster than the default 6 and gradients still compress well.
        picture.save(buffer, "PNG", compress_level=1)
    else:
        # output_compression 100 means best quality; Pillow advises against JPEG quality above 95.
        quality = 90 if compression is None else max(1, min(compression, 95))
        if fmt == "jpeg" and picture.mode != "RGB":
            picture = picture.convert("RGB")  # an edit's RGBA result has no alpha in JPEG
        options = {"method": 0} if fmt == "webp" else {}
        picture.save(buffer, FORMATS[fmt], quality=quality, **options)
    return buffer.getvalue()


def _encode_gif(frames: list[Image.Image], duration_ms: int) -> bytes:
    """An animated GIF that loops for ever, every frame mapped onto one shared palette."""
    strip = Image.new("RGB", (_PALETTE_EDGE * len(frames), _PALETTE_EDGE))
    for index, frame in enumerate(frames):
        strip.paste(frame.resize((_PALETTE_EDGE, _PALETTE_EDGE)), (index * _PALETTE_EDGE, 0))
    palette = strip.quantize(256, method=Image.Quantize.MEDIANCUT)
    # Without dithering the gradients band a little, but unchanged areas stay identical from
    # frame to frame, so the GIF stores only what moved.
    indexed = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    buffer = io.BytesIO()
    indexed[0].save(
        buffer,
        "GIF",
        save_all=True,
        append_images=indexed[1:],
        duration=duration_ms,
        loop=0,
    )
    return buffer.getvalue()
