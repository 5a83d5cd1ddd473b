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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from imagegen.catalogue.labels import value_label
from imagegen.catalogue.sizes import SizeRange, parse_size

FAMILIES = [
    ("dall-e", "DALL·E"),
    ("gpt-image", "GPT image"),
    ("qwen", "Qwen image"),
    ("seedream", "Seedream"),
    ("other", "Other"),
]
RESULT_KINDS = [("url", "URL"), ("b64_json", "Base64")]
KINDS = ("choice", "integer", "number", "boolean", "text", "size", "images")
N = "n"  # the number of images: not a parameter of the schema, but rules may count it
# Names the request body or the form already uses for something else.
RESERVED_NAMES = frozenset({"model", "prompt", N, "width", "height", "switch_model"})


@dataclass(frozen=True)
class Parameter:
    """One parameter a model takes, as sent upstream under `name`."""

    name: str
    kind: str
    label: str
    help: str = ""
    choices: tuple[str, ...] = ()  # choice: the values; size: the named sizes
    minimum: float | None = None  # integer/number: the range; text: length; images: count
    maximum: float | None = None
    default: Any = None
    send_default: bool = False  # send the default when the person leaves it unset
    only_when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    excludes: tuple[str, ...] = ()  # set to something other than its default, these must not be
    custom: SizeRange | None = None  # size: any WxH within this range is accepted too

    def is_set(self, values: Mapping[str, Any]) -> bool:
        return values.get(self.name) not in (None, "", [])

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Parameter":
        custom = data.get("custom")
        return cls(
            name=data["name"],
            kind=data["kind"],
            label=data.get("label") or data["name"],
            help=data.get("help", ""),
            choices=tuple(data.get("choices", ())),
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
            default=data.get("default"),
            send_default=data.get("send_default", False),
            only_when={key: tuple(values) for key, values in data.get("only_when", {}).items()},
            excludes=tuple(data.get("excludes", ())),
            custom=SizeRange(**custom) if custom else None,
        )


@dataclass(frozen=True)
class Rule:
    """Between parameters: `if` these have these values, `then` those must have those; or the
    named counts (images in a list, an integer's value) add up to `at_most`."""

    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    then: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    at_most: int | None = None
    total: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Rule":
        return cls(
            when={key: tuple(values) for key, values in data.get("if", {}).items()},
            then={key: tuple(values) for key, values in data.get("then", {}).items()},
            at_most=data.get("at_most"),
            total=tuple(data.get("total", ())),
        )

    def names(self) -> set[str]:
        return {*self.when, *self.then, *self.total}


@dataclass(frozen=True)
class Problem:
    """Why a value cannot be sent: the parameter to blame, a code in the upstream's own
    vocabulary, and a message in the active language."""

    param: str
    code: str
    message: str


@dataclass(frozen=True)
class ModelSpec:
    """Everything the studio and the offline provider know about one model."""

    name: str
    label: str
    family: str
    prompt_max_length: int
    max_images: int
    parameters: tuple[Parameter, ...]
    rules: tuple[Rule, ...] = ()
    result_kind: str = "b64_json"  # what comes back when no parameter says otherwise
    returns_revised_prompt: bool = False
    returns_usage: bool = False

    @classmethod
    def from_schema(cls, schema: Mapping[str, Any], **facts: Any) -> "ModelSpec":
        return cls(
            parameters=tuple(Parameter.from_json(p) for p in schema.get("parameters", [])),
            rules=tuple(Rule.from_json(r) for r in schema.get("rules", [])),
            **facts,
        )

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def size(self) -> Parameter | None:
        return next((p for p in self.parameters if p.kind == "size"), None)

    @property
    def streams(self) -> bool:
        """Whether the model can send partial images as server-sent events."""
        stream = self.parameter("stream")
        return stream is not None and stream.kind == "boolean"


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
        problems.append(_out_of_range(N, n, 1, spec.max_images, _("Number of images")))
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
                problems.append(_only_when(spec, parameter))
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
                    problems.append(_excludes(spec, parameter, other))
    problems += _broken_rules(spec, effective)
    return sent, problems


def check_value(parameter: Parameter, value: Any) -> Problem | None:
    """Whether one value has the parameter's kind and lies within its choices or range."""
    kind, name = parameter.kind, parameter.name
    if kind == "choice":
        if value not in parameter.choices:
            return _not_a_choice(parameter, value)
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


def _not_a_choice(parameter: Parameter, value: Any) -> Problem:
    allowed = list_text(value_label(choice) for choice in parameter.choices)
    message = _("“%(value)s” is not one of: %(allowed)s.") % {"value": value, "allowed": allowed}
    return Problem(parameter.name, "invalid_value", message)


def _size_problem(parameter: Parameter, value: Any) -> Problem | None:
    if value in parameter.choices:
        return None
    size = parse_size(value) if isinstance(value, str) else None
    if parameter.custom is None or size is None:
        return _not_a_choice(parameter, value)
    if problem := parameter.custom.problem_with(*size):
        return Problem(parameter.name, "invalid_value", problem)
    return None


def _range_problem(parameter: Parameter, measure: float, value: Any) -> Problem | None:
    low, high = parameter.minimum, parameter.maximum
    if (low is None or measure >= low) and (high is None or measure <= high):
        return None
    return _out_of_range(parameter.name, value, low, high, _(parameter.label), parameter.kind)


def _out_of_range(
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


def _only_when(spec: ModelSpec, parameter: Parameter) -> Problem:
    message = _("%(label)s applies only when %(condition)s.") % {
        "label": _(parameter.label),
        "condition": condition_text(spec, parameter.only_when),
    }
    return Problem(parameter.name, "invalid_value", message)


def _excludes(spec: ModelSpec, parameter: Parameter, other: str) -> Problem:
    message = _("%(label)s cannot be combined with %(other)s.") % {
        "label": _(parameter.label),
        "other": label_of(spec, other),
    }
    return Problem(parameter.name, "invalid_value", message)
