"""The gallery grid's tiles, from gallery.grid (templates/gallery/image_list.html)."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from gallery import grid

register = template.Library()


@register.simple_tag(takes_context=True)
def grid_tiles(context: Any) -> SafeString:
    """`{% grid_tiles %}`: the tile size control on a first page, then every tile of `images`."""
    return grid.tiles(context)
