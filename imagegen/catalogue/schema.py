"""The one description of a model's parameters, and the one check of values against it.

A model's schema is plain JSON, kept on its `ImageModel` row and editable in admin:

    {"parameters": [{"name": "quality", "kind": "choice", "label": "Quality",
                     "choices": ["auto", "low", "high"], "default": "auto", "send_default": true},
                    {"name": "output_compression", "kind": "integer", "label": "Compression",
                     "minimum": 0, "maximum": 100,
                     "only_when": {"output_format": ["jpeg", "webp"]}}, ...],
     "rules": [{"if": {"background": ["transparent"]}, "then": {"output_format": ["png", "webp"]}},
               {"at_most": 15, "total": ["image", "n"]}]}

`ModelSpec` is that JSON read once into frozen dataclasses. `resolve()` turns what a person chose
into the parameters to send, or the problems that stop it; the form, the request body and the
offline provider all call it, so they cannot disagree about what a model takes. The number of
images, `n`, is a model-level fact (`max_images`) that rules may name like a parameter.
"""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from imagegen.catalogue.sizes import parse_size
from imagegen.catalogue.spec import ModelSpec, N, Parameter, Problem
from imagegen.catalogue.wording import (
    condition_text,
    excludes_problem,
    label_of,
    list_text,
    not_a_choice,
    only_when_problem,
    out_of_range,
)


def resolve(spec: ModelSpec, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The parameters to send for what a person chose (`values`: name -> value; unset is absent,
    None or ""), and every problem that stops them from being sent.

    A parameter left unset, or set to its default, is sent (at its default) only when
    `send_default` says so and its `only_when` holds; a parameter the model does not take is
    ignored (a form may keep hidden fields). `n` is checked against the model's range and always
    sent.
    """
    problems: list[Problem] = []
    n = 1 if values.get(N) is None else values[N]
    if type(n) is not int or not 1 <= n <= spec.max_images:
        problems.append(out_of_range(N, n, 1, spec.max_images, _("Number of images")))
        n = 1
    chosen: dict[str, Any] = {}
    for parameter in spec.parameters:
        if parameter.is_set(values):
            value = values[parameter.name]
            if problem := check_value(parameter, value):
                problems.append(problem)
            else:
                chosen[parameter.name] = value
    effective = {p.name: chosen.get(p.name, p.default) for p in spec.parameters} | {N: n}
    sent: dict[str, Any] = {N: n}
    for parameter in spec.parameters:
        applies = _holds(parameter.only_when, effective)
        explicit = parameter.name in chosen and chosen[parameter.name] != parameter.default
        if not applies:
            effective[parameter.name] = None
            if explicit:
                problems.append(only_when_problem(spec, parameter))
            continue
        # A value equal to the default is left out unless the schema says to send it.
        if explicit or (parameter.name in chosen and parameter.send_default):
            sent[parameter.name] = chosen[parameter.name]
        elif parameter.send_default and parameter.default is not None:
            # A default is checked like any value: a hand-edited schema may be wrong.
            if problem := check_value(parameter, parameter.default):
                problems.append(problem)
            sent[parameter.name] = parameter.default
        if explicit:
            for other in parameter.excludes:
                if other in chosen and chosen[other] != _default_of(spec, other):
                    problems.append(excludes_problem(spec, parameter, other))
    problems += _broken_rules(spec, effective)
    return sent, problems


def check_value(parameter: Parameter, value: Any) -> Problem | None:
    """Whether one value has the parameter's kind and lies within its choices or range."""
    kind, name = parameter.kind, parameter.name
    if kind == "choice":
        if value not in parameter.choices:
            return not_a_choice(parameter, value)
    elif kind == "size":
        return _size_problem(parameter, value)
    elif kind == "boolean":
        if not isinstance(value, bool):
            return Problem(name, "invalid_type", _("Expected true or false."))
    elif kind in {"integer", "number"}:
        whole = type(value) is int
        if not whole and (kind == "integer" or type(value) is not float):
            kind_name = _("a whole number") if kind == "integer" else _("a number")
            message = _("Expected %(kind)s.") % {"kind": kind_name}
            return Problem(name, "invalid_type", message)
        return _range_problem(parameter, value, value)
    elif kind == "text":
        if not isinstance(value, str):
            return Problem(name, "invalid_type", _("Expected text."))
        return _range_problem(parameter, len(value), value)
    elif kind == "images":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return Problem(name, "invalid_type", _("Expected a list of image URLs."))
        return _range_problem(parameter, len(value), value)
    return None


def _holds(condition: Mapping[str, tuple[Any, ...]], effective: Mapping[str, Any]) -> bool:
    return all(effective.get(name) in allowed for name, allowed in condition.items())


def _default_of(spec: ModelSpec, name: str) -> Any:
    parameter = spec.parameter(name)
    return parameter.default if parameter else None


def _broken_rules(spec: ModelSpec, effective: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for rule in spec.rules:
        if rule.at_most is not None:
            total = sum(_count(effective.get(name)) for name in rule.total)
            if total > rule.at_most:
                names = list_text(label_of(spec, name) for name in rule.total)
                message = _("%(names)s may add up to at most %(limit)s; these add up to %(total)s.")
                params = {"names": names, "limit": rule.at_most, "total": total}
                problems.append(Problem(rule.total[-1], "invalid_value", message % params))
        elif _holds(rule.when, effective) and not _holds(rule.then, effective):
            message = _("When %(condition)s, %(requirement)s.") % {
                "condition": condition_text(spec, rule.when),
                "requirement": condition_text(spec, rule.then),
            }
            blamed = next(iter(rule.when))
            problems.append(Problem(blamed, "invalid_value", message[0].upper() + message[1:]))
    return problems


def _count(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, int) else 0


def _size_problem(parameter: Parameter, value: Any) -> Problem | None:
    if value in parameter.choices:
        return None
    size = parse_size(value) if isinstance(value, str) else None
    if parameter.custom is None or size is None:
        return not_a_choice(parameter, value)
    if problem := parameter.custom.problem_with(*size):
        return Problem(parameter.name, "invalid_value", problem)
    return None


def _range_problem(parameter: Parameter, measure: float, value: Any) -> Problem | None:
    low, high = parameter.minimum, parameter.maximum
    if (low is None or measure >= low) and (high is None or measure <= high):
        return None
    return out_of_range(parameter.name, value, low, high, _(parameter.label), parameter.kind)
