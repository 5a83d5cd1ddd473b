"""The words of the schema's checks: conditions, lists and problems, in the active language.

Messages are built from the schema's own labels, so a parameter an administrator adds is named in
them too; they are English where a translation does not know a label.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from imagegen.catalogue.labels import value_label
from imagegen.catalogue.spec import ModelSpec, N, Parameter, Problem


def condition_text(spec: ModelSpec, condition: Mapping[str, Sequence[Any]]) -> str:
    """`{"output_format": ["jpeg", "webp"]}` as "Output format is JPEG or WebP"."""
    parts = []
    for name, allowed in condition.items():
        shown = [value_label(v) for v in allowed]
        alternatives = (
            shown[0]
            if len(shown) == 1
            else _("%(some)s or %(last)s")
            % {
                "some": list_text(shown[:-1]),
                "last": shown[-1],
            }
        )
        parts.append(
            _("%(name)s is %(values)s") % {"name": label_of(spec, name), "values": alternatives}
        )
    return _(" and ").join(parts)


def list_text(items: Iterable[Any]) -> str:
    """Items joined as the active language lists them ("a, b" ; "أ، ب" ; "a、b")."""
    return pgettext("list separator", ", ").join(str(item) for item in items)


def label_of(spec: ModelSpec, name: str) -> str:
    if name == N:
        return _("Number of images")
    parameter = spec.parameter(name)
    return _(parameter.label) if parameter else name


def not_a_choice(parameter: Parameter, value: Any) -> Problem:
    allowed = list_text(value_label(choice) for choice in parameter.choices)
    message = _("“%(value)s” is not one of: %(allowed)s.") % {"value": value, "allowed": allowed}
    return Problem(parameter.name, "invalid_value", message)


def out_of_range(
    name: str, value: Any, low: float | None, high: float | None, label: str, kind: str = "integer"
) -> Problem:
    shown = {
        "label": label,
        "low": number_format(low or 0, force_grouping=True),
        "high": number_format(high or 0, force_grouping=True),
    }
    if kind == "text":
        message = _("%(label)s may be at most %(high)s characters long.")
    elif kind == "images":
        message = _("%(label)s takes at most %(high)s images.")
    elif high is None:
        message = _("%(label)s must be at least %(low)s.")
    elif low is None:
        message = _("%(label)s must be at most %(high)s.")
    else:
        message = _("%(label)s must be from %(low)s to %(high)s.")
    below = low is not None and isinstance(value, int | float) and value < low
    code = "integer_below_min_value" if below else "integer_above_max_value"
    return Problem(name, code, message % shown)


def only_when_problem(spec: ModelSpec, parameter: Parameter) -> Problem:
    message = _("%(label)s applies only when %(condition)s.") % {
        "label": _(parameter.label),
        "condition": condition_text(spec, parameter.only_when),
    }
    return Problem(parameter.name, "invalid_value", message)


def excludes_problem(spec: ModelSpec, parameter: Parameter, other: str) -> Problem:
    message = _("%(label)s cannot be combined with %(other)s.") % {
        "label": _(parameter.label),
        "other": label_of(spec, other),
    }
    return Problem(parameter.name, "invalid_value", message)
