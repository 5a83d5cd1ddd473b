"""The gallery grid's tiles and tile size control, from gallery.grid (templates/includes/
gallery_tile.html)."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from gallery import grid
from gallery.models import Image

register = template.Library()


@register.simple_tag(takes_context=True)
def grid_tile(context: Any, image: Image, counter: int) -> SafeString:
    """`{% grid_tile image forloop.counter %}`: the tile, drawn."""
    return grid.page_for(context).tile(image, counter)


@register.simple_tag(takes_context=True)
def tile_sizes(context: Any) -> list[tuple[str, str, bool]]:
    """`{% tile_sizes as sizes %}`: (value, label, chosen) for each tile size."""
    return grid.size_control(context)
