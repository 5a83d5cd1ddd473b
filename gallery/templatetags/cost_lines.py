"""`{% job_cost job %}`, `{% image_cost image %}`, `{% entry_cost entry %}` and
`{% comparison_cost entries %}`: what gallery.cost_lines says each cost (escaped, plain text)."""

from typing import Any

from django import template

from gallery import cost_lines

register = template.Library()


@register.simple_tag
def job_cost(job: Any) -> str:
    return cost_lines.job_cost(job)


@register.simple_tag
def image_cost(image: Any) -> str:
    return cost_lines.image_cost(image)


@register.simple_tag
def entry_cost(entry: Any) -> str:
    return cost_lines.entry_cost(entry).text


@register.simple_tag
def comparison_cost(entries: Any) -> str:
    return cost_lines.comparison_total(entries)
