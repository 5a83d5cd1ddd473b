"""Checking a model's schema before it is saved, so admin can never break the generate form.

Two layers. The shape (which keys, which types) is a JSON Schema, `SCHEMA_SHAPE`, checked with
the `jsonschema` library: the same document an operator can use to check an exported file with
any tool, and errors that carry the path to the exact entry. The meaning (a default among its
choices, a rule naming a parameter that exists, "banana" is not a size) is checked here in
Python, with the same paths.
"""

from collections.abc import Mapping
from typing import Any

import jsonschema
from django.utils.translation import gettext as _

from imagegen.catalogue.schema import check_value
from imagegen.catalogue.sizes import NAMED_SIZES, SizeRange, parse_size
from imagegen.catalogue.spec import ENDPOINTS, KINDS, RESERVED_NAMES, N, Parameter
from imagegen.catalogue.wording import list_text

_CONDITION = {
    "type": "object",
    "additionalProperties": {"type": "array", "minItems": 1},
}
SCHEMA_SHAPE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Image model parameters",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "parameters": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "kind"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
                    "kind": {"enum": list(KINDS)},
                    "label": {"type": "string", "maxLength": 100},
                    "help": {"type": "string", "maxLength": 500},
                    "choices": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"type": "string", "minLength": 1, "maxLength": 50},
                    },
                    "minimum": {"type": "number"},
                    "maximum": {"type": "number"},
                    "default": {},
                    "send_default": {"type": "boolean"},
                    "only_when": _CONDITION,
                    "excludes": {"type": "array", "items": {"type": "string"}},
                    "new_on_vary": {"type": "boolean"},
                    "advanced": {"type": "boolean"},
                    "endpoints": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"enum": list(ENDPOINTS)},
                    },
                    "custom": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "multiple_of": {"type": "integer", "minimum": 1},
                            "max_edge": {"type": "integer", "minimum": 16},
                            "max_ratio": {"type": "number", "minimum": 1},
                            "min_pixels": {"type": "integer", "minimum": 1},
                            "max_pixels": {"type": "integer", "minimum": 1},
                        },
                    },
                },
            },
        },
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "oneOf": [
                    {"required": ["if", "then"], "not": {"required": ["at_most"]}},
                    {"required": ["at_most", "total"], "not": {"required": ["if"]}},
                ],
                "properties": {
                    "if": _CONDITION | {"minProperties": 1},
                    "then": _CONDITION | {"minProperties": 1},
                    "at_most": {"type": "integer", "minimum": 1},
                    "total": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                },
            },
        },
    },
    "required": ["parameters"],
}
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA_SHAPE)


# The order a person reads a parameter's keys in (PostgreSQL's jsonb keeps no order of its own).
_KEY_ORDER = [
    "name", "kind", "label", "help", "choices", "minimum", "maximum", "default", "send_default",
    "only_when", "excludes", "endpoints", "new_on_vary", "advanced", "custom", "if", "then",
    "at_most", "total",
]  # fmt: skip


def readable(schema: Any) -> Any:
    """The schema with each entry's keys in reading order, for the admin editor and exports."""
    if not isinstance(schema, dict):
        return schema

    def ordered(entry: Any) -> Any:
        if not isinstance(entry, dict):
            return entry
        known = [key for key in _KEY_ORDER if key in entry]
        return {key: entry[key] for key in [*known, *sorted(set(entry) - set(known))]}

    return {
        "parameters": [ordered(entry) for entry in schema.get("parameters", [])],
        "rules": [ordered(rule) for rule in schema.get("rules", [])],
        **{key: value for key, value in schema.items() if key not in {"parameters", "rules"}},
    }


def schema_errors(schema: Any) -> list[str]:
    """Every problem with a schema document, each starting with where it is; [] when sound."""
    shape = sorted(_VALIDATOR.iter_errors(schema), key=lambda e: list(e.absolute_path))
    if shape:
        return [f"{_where(schema, list(e.absolute_path))}: {e.message}" for e in shape]
    return _meaning_errors(schema)


def _meaning_errors(schema: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    entries = schema["parameters"]
    by_name: dict[str, Parameter] = {}
    for index, entry in enumerate(entries):

        def report(message: str, *path: str | int, index: int = index) -> None:
            errors.append(f"{_where(schema, ['parameters', index, *path])}: {message}")

        name = entry["name"]
        if entry["kind"] == "images" and any(
            set(entry.get("endpoints", ENDPOINTS)) & set(other.get("endpoints", ENDPOINTS))
            for other in entries[:index]
            if other["kind"] == "images"
        ):
            report(_("An endpoint takes at most one list of reference images."), "kind")
        if name in RESERVED_NAMES:
            report(_("“%(name)s” is reserved; choose another name.") % {"name": name}, "name")
        if _shares_an_endpoint(entry, [e for e in entries[:index] if e["name"] == name]):
            report(_("Another parameter already has this name on the same endpoint."), "name")
        if entry["kind"] == "size" and [e["kind"] for e in entries].count("size") > 1:
            report(_("A model has at most one size parameter."), "kind")
        try:
            parameter = Parameter.from_json(entry)
        except TypeError:
            report(_("The custom size rules are not valid."), "custom")
            continue
        by_name.setdefault(name, parameter)
        for problem in _entry_errors(parameter, entry):
            report(*problem)
    known = set(by_name) | {N}
    for index, entry in enumerate(entries):
        for key in ("only_when", "excludes"):
            for name in entry.get(key, []):
                if name not in known or name == entry["name"]:
                    path = _where(schema, ["parameters", index, key])
                    errors.append(f"{path}: {_unknown(name)}")
        for name, values in entry.get("only_when", {}).items():
            errors += _condition_errors(schema, by_name, name, values, ["parameters", index])
    for index, rule in enumerate(schema.get("rules", [])):
        for key in ("if", "then"):
            for name, values in rule.get(key, {}).items():
                errors += _condition_errors(schema, by_name, name, values, ["rules", index, key])
        for name in rule.get("total", []):
            if name not in known:
                errors.append(f"{_where(schema, ['rules', index, 'total'])}: {_unknown(name)}")
    return errors


def _entry_errors(parameter: Parameter, entry: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    kind, errors = parameter.kind, []
    if kind == "choice" and not parameter.choices:
        errors.append((_("A choice needs a list of choices."), "choices"))
    if kind == "size":
        for position, size in enumerate(parameter.choices):
            if size not in NAMED_SIZES and parse_size(size) is None:
                message = _("“%(size)s” is not a size: use WxH (such as 1024x1024), %(named)s.")
                named = list_text(NAMED_SIZES)
                errors.append((message % {"size": size, "named": named}, "choices", position))
        if parameter.custom is None and not parameter.choices:
            errors.append((_("A size needs a list of sizes, custom rules, or both."), "choices"))
        if parameter.custom and _custom_errors(parameter.custom):
            errors.append((_custom_errors(parameter.custom), "custom"))
    if parameter.new_on_vary and (kind != "integer" or low_or_none(parameter) is None):
        errors.append((_("Only a whole number with a range can be picked anew."), "new_on_vary"))
    if parameter.advanced and kind == "images":
        # Reference images have slots of their own, never a field under "Advanced".
        errors.append((_("Reference images cannot be advanced."), "advanced"))
    if kind not in {"choice", "size"} and "choices" in entry:
        errors.append((_("Only choices and sizes have a list of choices."), "choices"))
    low, high = parameter.minimum, parameter.maximum
    if low is not None and high is not None and low > high:
        errors.append((_("The minimum is above the maximum."), "minimum"))
    if kind == "images" and (high is None or high < 1):
        errors.append((_("Say how many reference images it takes (maximum)."), "maximum"))
    if parameter.default is not None:
        if kind == "images":
            errors.append((_("A list of reference images has no default."), "default"))
        elif problem := check_value(parameter, parameter.default):
            message = _("The default is not allowed: %(problem)s") % {"problem": problem.message}
            errors.append((message, "default"))
    elif parameter.send_default:
        errors.append((_("Sending the default needs a default."), "send_default"))
    return errors


def _shares_an_endpoint(entry: Mapping[str, Any], others: list[Mapping[str, Any]]) -> bool:
    mine = set(entry.get("endpoints", ENDPOINTS))
    return any(mine & set(other.get("endpoints", ENDPOINTS)) for other in others)


def low_or_none(parameter: Parameter) -> float | None:
    """The lower bound of a range that has both ends."""
    return parameter.minimum if parameter.maximum is not None else None


def _custom_errors(custom: SizeRange) -> str:
    if custom.min_pixels > custom.max_pixels:
        return _("min_pixels is above max_pixels.")
    return ""


def _condition_errors(
    schema: Mapping[str, Any],
    by_name: Mapping[str, Parameter],
    name: str,
    values: list[Any],
    path: list[str | int],
) -> list[str]:
    where = _where(schema, path)
    if name == N:
        bad = [v for v in values if type(v) is not int or v < 1]
        message = _("“%(value)s” is not a number of images.")
        return [f"{where}: {message % {'value': value}}" for value in bad]
    parameter = by_name.get(name)
    if parameter is None:
        return [f"{where}: {_unknown(name)}"]
    errors = []
    for value in values:
        if value is not None and (problem := check_value(parameter, value)):
            errors.append(f"{where}: {name}: {problem.message}")
    return errors


def _unknown(name: str) -> str:
    return _("no parameter is called “%(name)s”.") % {"name": name}


def _where(schema: Any, path: list[str | int]) -> str:
    """A path such as parameters[3] “size” > choices[1], naming the parameter when it can."""
    parts: list[str] = []
    node = schema
    for step in path:
        if isinstance(step, int):
            parts[-1] += f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name"), str) and len(parts) == 1:
                parts[-1] += f" “{node['name']}”"
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return " > ".join(parts) or _("the schema")
