"""Image sizes: `WxH` strings, the named sizes some models take, and the rules for any WxH."""

import re
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _

_SIZE = re.compile(r"([1-9]\d{0,4})x([1-9]\d{0,4})")
# What a named size draws at when a model does not say (Seedream: 2K and 4K are square).
NAMED_SIZES = {"auto": (1024, 1024), "1K": (1024, 1024), "2K": (2048, 2048), "4K": (4096, 4096)}


def parse_size(size: str) -> tuple[int, int] | None:
    """(width, height) for a `WxH` string, else None."""
    match = _SIZE.fullmatch(size)
    return (int(match[1]), int(match[2])) if match else None


def pixels_of(size: str) -> tuple[int, int] | None:
    """The width and height a size stands for, named sizes included."""
    return NAMED_SIZES.get(size) or parse_size(size)


@dataclass(frozen=True)
class SizeRange:
    """Rules for any WxH size, for models that take sizes outside their named list."""

    multiple_of: int = 16
    max_edge: int = 3840
    max_ratio: float = 3.0
    min_pixels: int = 655_360
    max_pixels: int = 8_294_400

    def problem_with(self, width: int, height: int) -> str | None:
        """Why width x height is not allowed, or None when it is, in the active language."""
        if width % self.multiple_of or height % self.multiple_of:
            return _("Both edges must be multiples of %(multiple)s.") % {
                "multiple": number_format(self.multiple_of)
            }
        if max(width, height) > self.max_edge:
            return _("Neither edge may exceed %(max_edge)s pixels.") % {
                "max_edge": number_format(self.max_edge)
            }
        if max(width, height) / min(width, height) > self.max_ratio:
            ratio = int(self.max_ratio) if float(self.max_ratio).is_integer() else self.max_ratio
            return _("The long edge may be at most %(ratio)s times the short edge.") % {
                "ratio": number_format(ratio)
            }
        if not self.min_pixels <= width * height <= self.max_pixels:
            return _("The image must have between %(min)s and %(max)s pixels.") % {
                "min": number_format(self.min_pixels, force_grouping=True),
                "max": number_format(self.max_pixels, force_grouping=True),
            }
        return None
