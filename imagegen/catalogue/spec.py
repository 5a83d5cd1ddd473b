"""A model's description as the code reads it: `ModelSpec`, its `Parameter`s and `Rule`s, read
once from the schema JSON (see schema.py), and the `Problem` a check reports."""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from imagegen.catalogue.sizes import SizeRange

FAMILIES = [
    ("dall-e", "DALL·E"),
    ("gpt-image", "GPT image"),
    ("qwen", "Qwen image"),
    ("seedream", "Seedream"),
    ("other", "Other"),
]
RESULT_KINDS = [("url", "URL"), ("b64_json", "Base64")]
KINDS = ("choice", "integer", "number", "boolean", "text", "size", "images")
# The two routes a model's parameters are sent on: JSON to POST /images/generations, and
# multipart to POST /images/edits (api.md §7). A parameter names the ones it is taken on.
GENERATIONS, EDITS = "generations", "edits"
ENDPOINTS = (GENERATIONS, EDITS)
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
    endpoints: tuple[str, ...] = ENDPOINTS  # where the upstream takes it
    new_on_vary: bool = False  # "Vary" picks a new random value (a seed)
    # Shown under the form's closed "Advanced" (a transport detail such as response_format).
    # False unless a schema says so: a parameter an administrator adds, or one this code has
    # never heard of, must be in plain view; hiding it would need someone to decide it may be.
    advanced: bool = False

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
            endpoints=tuple(data.get("endpoints", ENDPOINTS)),
            new_on_vary=data.get("new_on_vary", False),
            advanced=data.get("advanced", False),
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
    can_edit: bool = False  # also served by POST /images/edits

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

    def for_endpoint(self, endpoint: str) -> "ModelSpec":
        """The model as one endpoint takes it: the parameters it accepts there, and the rules
        between those (a rule naming a parameter the endpoint does not take is left out; a
        count keeps the names it still has)."""
        kept = tuple(p for p in self.parameters if endpoint in p.endpoints)
        if len(kept) == len(self.parameters):
            return self
        names = {p.name for p in kept} | {N}
        rules = []
        for rule in self.rules:
            if rule.at_most is not None:
                total = tuple(name for name in rule.total if name in names)
                rules += [replace(rule, total=total)] if total else []
            elif rule.names() <= names:
                rules.append(rule)
        return replace(self, parameters=kept, rules=tuple(rules))

    def references(self, endpoint: str) -> Parameter | None:
        """The parameter that takes reference images on `endpoint`, if the model has one."""
        return next(
            (p for p in self.parameters if p.kind == "images" and endpoint in p.endpoints), None
        )

    @property
    def streams(self) -> bool:
        """Whether the model can send partial images as server-sent events."""
        stream = self.parameter("stream")
        return stream is not None and stream.kind == "boolean"


# The model-level facts a ModelSpec carries beside its schema: what `ImageModel.spec()` and
# `shipped_spec()` read from a row or from the shipped data.
SPEC_FACTS = [f.name for f in fields(ModelSpec) if f.name not in {"parameters", "rules"}]
