"""The gallery's filter form, drawn flat by gallery.filter_fields (gallery/image_list.html)."""

from django import template
from django.forms import Form
from django.utils.safestring import SafeString, mark_safe

from gallery.filter_fields import draw_field

register = template.Library()

# Drawn above the Filters panel, not in it.
OUTSIDE_PANEL = ("q", "sort")


@register.simple_tag
def filter_fields(form: Form, *names: str) -> SafeString:
    """`{% filter_fields filters "q" "sort" %}`: those fields, in that order."""
    return mark_safe("".join(draw_field(form[name]) for name in names))  # noqa: S308


@register.simple_tag
def filter_panel(form: Form, collection: object = None) -> SafeString:
    """`{% filter_panel filters collection %}`: every other field, in the form's order; not the
    collection on a collection's own page."""
    drawn = [
        draw_field(field)
        for field in form
        if field.name not in OUTSIDE_PANEL and not (collection and field.name == "collection")
    ]
    return mark_safe("".join(drawn))  # noqa: S308 (each drawn field is safe)
