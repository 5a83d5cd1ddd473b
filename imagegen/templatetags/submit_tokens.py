"""`{% submit_token %}`: the hidden field of a new token, for a form that makes jobs
(imagegen/forms/submit_token.py). `{% submit_token "vary-token-" image.uuid %}` gives it the id
made of those parts, so that an htmx answer can put a new one in its place once the form was
answered: `{% submit_token renewed_token oob=True %}`."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from imagegen.forms.submit_token import SUBMIT_TOKEN, new_submit_token

register = template.Library()


@register.simple_tag
def submit_token(*id_parts: object, oob: bool = False) -> SafeString:
    named = format_html(' id="{}"', "".join(map(str, id_parts))) if id_parts else ""
    swapped = mark_safe(' hx-swap-oob="true"') if oob else ""
    return format_html(
        '<input type="hidden" name="{}" value="{}"{}{}>',
        SUBMIT_TOKEN,
        new_submit_token(),
        named,
        swapped,
    )
