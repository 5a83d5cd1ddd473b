"""Smart collections' controls on the gallery page (templates/includes/save_search.html)."""

from django import template

from gallery.filters import GalleryFilters
from gallery.models.organise import saved_search as search_of

register = template.Library()


@register.simple_tag
def saved_search(filters: GalleryFilters) -> str:
    """`{% saved_search filters as search %}`: the search a smart collection would keep of
    these filters ("" when none is in use), to save, or to compare with the one it keeps."""
    return search_of(filters)
