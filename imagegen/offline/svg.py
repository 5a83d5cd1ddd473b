"""The offline provider's SVG output (gpt-image-2.6's `svg` format): the scene as vector shapes.

A self-contained SVG 1.1 document: no scripts, no external references (fonts are generic family
names), every piece of the prompt XML-escaped. The only references are to the gradient and filter
defined in the document itself.
"""

import re
from xml.sax.saxutils import escape

from imagegen.offline.scene import Colour, Scene, Shape, caption

WATERMARK = "AI generated"
# Characters XML 1.0 does not allow in a document at all, escaped or not (and lone surrogates,
# which UTF-8 cannot encode).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def draw_svg(
    scene: Scene,
    prompt: str,
    width: int,
    height: int,
    *,
    transparent: bool,
    watermark: bool,
    detail: float,
) -> bytes:
    unit = min(width, height)
    defs = [_gradient(scene, transparent)]
    group = "<g>"
    if detail < 1:
        # A partial image: blur as the raster formats do, by about the shrink factor.
        blur = unit * (1 - max(0.02, detail)) / 40
        defs.append(f'<filter id="soft"><feGaussianBlur stdDeviation="{blur:.1f}"/></filter>')
        group = '<g filter="url(#soft)">'
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f"<title>{_text(prompt)}</title>",
        f"<defs>{''.join(defs)}</defs>",
        group,
    ]
    if not transparent:
        parts.append(f'<rect width="{width}" height="{height}" fill="url(#sky)"/>')
    parts += [_shape(shape, width, height, unit, transparent) for shape in scene.shapes]
    parts.append("</g>")
    if text := caption(prompt, latin_only=False):
        size = max(10, unit // 22)
        parts.append(_label(text, size, x=size, y=height - size, anchor="start"))
    if watermark:
        size = max(9, unit // 40)
        parts.append(_label(WATERMARK, size, x=width - size, y=height - size, anchor="end"))
    parts.append("</svg>\n")
    return "\n".join(parts).encode()


def _gradient(scene: Scene, transparent: bool) -> str:
    # In the box's own units the raster ramp is tilt*x + (1-tilt)*y, which runs from (0, 0) to
    # (tilt, 1-tilt) scaled so that the far corner reads 1.
    tilt = scene.tilt
    reach = 1 / (tilt**2 + (1 - tilt) ** 2)
    start, middle, end = scene.stops(transparent)
    stops = "".join(
        f'<stop offset="{offset}" stop-color="{_hex(colour)}"/>'
        for offset, colour in (("0", start), ("0.5", middle), ("1", end))
    )
    return (
        f'<linearGradient id="sky" x1="0" y1="0" x2="{tilt * reach:.4f}" '
        f'y2="{(1 - tilt) * reach:.4f}">{stops}</linearGradient>'
    )


def _shape(shape: Shape, width: int, height: int, unit: int, transparent: bool) -> str:
    x, y = shape.x * width, shape.y * height
    radius = shape.radius * unit
    # On a transparent background a shape is as solid as its mask in the raster drawing.
    opacity = shape.opacity / 255 if transparent else 170 / 255
    paint = f'fill="{_hex(shape.colour())}" fill-opacity="{opacity:.3f}"'
    if shape.kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" {paint}/>'
    if shape.kind == "square":
        side = 2 * radius
        return (
            f'<rect x="{x - radius:.1f}" y="{y - radius:.1f}" width="{side:.1f}" '
            f'height="{side:.1f}" rx="{radius * 0.3:.1f}" {paint}/>'
        )
    if shape.kind == "triangle":
        corners = [(x, y - radius), (x + radius, y + radius * 0.8), (x - radius, y + radius * 0.8)]
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in corners)
        return f'<polygon points="{points}" {paint}/>'
    ring = max(2.0, radius * 0.18)
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{max(0.5, radius - ring / 2):.1f}" fill="none" '
        f'stroke="{_hex(shape.colour())}" stroke-opacity="{opacity:.3f}" '
        f'stroke-width="{ring:.1f}"/>'
    )


def _label(text: str, size: int, *, x: float, y: float, anchor: str) -> str:
    """Light text with a dark halo, readable on any part of the gradient."""
    halo = max(1.0, size / 6)
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-family="sans-serif" '
        f'font-size="{size}" fill="#ffffff" fill-opacity="0.92" stroke="#000000" '
        f'stroke-opacity="0.45" stroke-width="{halo:.1f}" stroke-linejoin="round" '
        f'paint-order="stroke">{_text(text)}</text>'
    )


def _text(text: str) -> str:
    return escape(_NOT_XML.sub("", text))


def _hex(colour: Colour) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)
