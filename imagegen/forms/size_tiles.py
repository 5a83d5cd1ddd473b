"""A size parameter offered as aspect ratios: one tile per size, named for its shape ("Portrait
2:3") and, where the size is fixed, its pixels ("1024 x 1536", with a times sign). The ratio is
worked out from the size string itself, so a model with new sizes needs no new code; the value
sent is the size, unchanged."""

import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from imagegen.catalogue import CUSTOM_SIZE, parse_size

# Ratios people know by name. A size whose exact ratio has large terms (2848x1600 is 89:50) is
# called by the nearest of these when it is within 4% of it (Alibaba's 1472x1140 is "4:3").
COMMON_RATIOS = [(1, 1), (5, 4), (4, 3), (3, 2), (16, 10), (16, 9), (2, 1), (21, 9), (3, 1)]
CLOSE_ENOUGH = math.log(1.04)
TIMES = "\N{MULTIPLICATION SIGN}"
# The tile's drawing: the shape fitted into a square of this many units.
BOX = 24


@dataclass(frozen=True)
class SizeTile:
    value: str  # what the form sends, unchanged
    name: str  # "Square 1:1", or a named size's label ("Automatic", "2K", "Custom…")
    pixels: str  # "1024 x 1536" (a times sign) for a fixed size, else ""
    selected: bool
    # The shape drawn in a BOX-unit square: x, y, width, height; a named size draws a dashed
    # square, since its shape is the model's to choose (or the person's, for a custom size).
    shape: tuple[int, int, int, int]
    fixed: bool


def aspect_ratio(width: int, height: int) -> str:
    """'2:3' for 1024x1536: exact when its terms are small, else the nearest common ratio, else
    the long edge as a multiple of the short one ('3.5:1')."""
    divisor = math.gcd(width, height)
    exact = (width // divisor, height // divisor)
    if max(exact) <= 16:
        return f"{exact[0]}:{exact[1]}"
    long, short = max(width, height), min(width, height)
    distance, (a, b) = min(
        (abs(math.log(long / short) - math.log(a / b)), (a, b)) for a, b in COMMON_RATIOS
    )
    if distance > CLOSE_ENOUGH:
        a, b = round(long / short, 1), 1
        a = int(a) if float(a).is_integer() else a
    return f"{a}:{b}" if width >= height else f"{b}:{a}"


def shape_name(width: int, height: int) -> str:
    if width == height:
        return _("Square")
    return _("Portrait") if height > width else _("Landscape")


def _shape(width: int, height: int) -> tuple[int, int, int, int]:
    scale = BOX / max(width, height)
    w, h = max(4, round(width * scale)), max(4, round(height * scale))
    return ((BOX - w) // 2, (BOX - h) // 2, w, h)


def size_tiles(options: list[tuple[str, Any, bool]]) -> tuple[SizeTile, ...]:
    """Tiles for a size field's options: (value, label, selected) as the form draws them."""
    tiles = []
    for value, label, selected in options:
        size = parse_size(value) if value != CUSTOM_SIZE else None
        if size is None:
            tiles.append(SizeTile(value, str(label), "", selected, (3, 3, 18, 18), False))
            continue
        width, height = size
        name = _("%(shape)s %(ratio)s") % {
            "shape": shape_name(width, height),
            "ratio": aspect_ratio(width, height),
        }
        pixels = f"{width} {TIMES} {height}"
        tiles.append(SizeTile(value, name, pixels, selected, _shape(width, height), True))
    return tuple(tiles)
