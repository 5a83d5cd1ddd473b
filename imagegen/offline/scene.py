"""What the offline provider's picture shows, decided once so every format draws the same thing.

A scene is a gradient and a handful of soft shapes, chosen by a random generator seeded from the
prompt (and the request's seed and the image's index). The raster renderer (drawing.py) and the
SVG renderer (svg.py) both read it. A scene can also be looked at a moment later in its loop
(`phase`): the shapes drift round small circles and their hues swing, which animates a GIF; at
phase 0 every shape is where the still picture has it.
"""

import colorsys
import hashlib
import math
import random
from dataclasses import dataclass

type Colour = tuple[int, int, int]

SHAPE_KINDS = ("circle", "square", "triangle", "ring")
# How far a shape drifts (a fraction of the shorter edge) and how far its hue swings in a loop.
_DRIFT = 0.07
_HUE_SWING = 0.12
_GOLDEN = 0.618034
_CAPTION_WORDS = 6
_CAPTION_CHARS = 48


@dataclass(frozen=True)
class Shape:
    kind: str  # one of SHAPE_KINDS
    x: float  # the centre, as a fraction of the width
    y: float  # the centre, as a fraction of the height
    radius: float  # a fraction of the shorter edge
    hue: float
    value: float  # HSV brightness
    opacity: int  # 0-255: how solid the shape is where the background is transparent
    orbit: float  # where on its little circle the shape sets off (0-1)

    def colour(self, phase: float = 0.0) -> Colour:
        return hsv(self.hue + _HUE_SWING * math.sin(2 * math.pi * phase), 0.6, self.value)

    def offset(self, phase: float) -> tuple[float, float]:
        """How far the shape has drifted at phase, in fractions of the shorter edge."""
        start = 2 * math.pi * self.orbit
        now = start + 2 * math.pi * phase
        dx = math.cos(now) - math.cos(start)
        dy = math.sin(now) - math.sin(start)
        return _DRIFT * dx, _DRIFT * dy


@dataclass(frozen=True)
class Scene:
    hue: float
    tilt: float  # 0 is a top-to-bottom gradient, 1 left-to-right
    # How far round the colour wheel from hue the gradient's middle and light colours are.
    middle_shift: float
    light_shift: float
    swapped: bool  # the light colour at the start of the gradient, not the dark one
    shapes: tuple[Shape, ...]

    def stops(self, transparent: bool) -> tuple[Colour, Colour, Colour]:
        """The gradient's colours from start to end, around the scene's hue.

        Shapes on a transparent background take the gradient half-way round the colour wheel, so
        they stay colourful against whatever they are shown on.
        """
        hue = self.hue + 0.5 if transparent else self.hue
        dark = hsv(hue, 0.55, 0.25)
        middle = hsv(hue + self.middle_shift, 0.5, 0.6)
        light = hsv(hue + self.light_shift, 0.35, 0.95)
        return (light, middle, dark) if self.swapped else (dark, middle, light)


def plan(prompt: str, variant: int = 0, seed: int | None = None) -> Scene:
    """The scene for a prompt: the same prompt, variant and seed always give the same scene."""
    # Without a seed the key is what it has always been, so unseeded pictures keep their bytes.
    key = f"{variant}\0{prompt}" if seed is None else f"seed {seed}\0{variant}\0{prompt}"
    rng = random.Random(hashlib.sha256(key.encode()).digest())
    hue = rng.random()
    tilt = rng.uniform(0.15, 0.85)
    middle_shift = rng.uniform(0.05, 0.15)
    light_shift = rng.uniform(0.15, 0.3)
    swapped = rng.random() < 0.5
    shapes = []
    for index in range(rng.randint(7, 13)):
        x, y = rng.random(), rng.random()
        radius = rng.uniform(0.06, 0.28)
        shape_hue = hue + rng.choice([0.33, 0.5, 0.66])
        value = rng.uniform(0.6, 1)
        opacity = rng.randint(170, 255)
        kind = rng.choice(SHAPE_KINDS)
        orbit = (index * _GOLDEN) % 1.0
        shapes.append(Shape(kind, x, y, radius, shape_hue, value, opacity, orbit))
    return Scene(hue, tilt, middle_shift, light_shift, swapped, tuple(shapes))


def caption(prompt: str, *, latin_only: bool) -> str:
    """The prompt's first words, short enough for a corner of the picture."""
    words = prompt.split()
    if latin_only:
        # Pillow's built-in font has Latin glyphs only: other scripts would be drawn as boxes.
        words = [word for word in words if all(ord(c) < 0x250 for c in word)]
    text = " ".join(words[:_CAPTION_WORDS])
    if len(text) > _CAPTION_CHARS:
        text = text[: _CAPTION_CHARS - 1] + "…"
    return text


def hsv(hue: float, saturation: float, value: float) -> Colour:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)
