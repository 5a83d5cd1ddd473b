"""Validating a generation request as the real endpoint does, against the model's own schema.

The schema is the studio's catalogue (`ImageModel` rows, else the shipped data): the same
`imagegen.catalogue.resolve` that the form and the request body use decides what is accepted,
so the offline provider accepts exactly what the schema accepts. Only the wording is the
upstream's: problems become OpenAI-shaped errors, in English.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError
from django.utils import translation
from PIL import Image

from imagegen.catalogue import GENERATIONS, ModelSpec, N, Problem, pixels_of, resolve, shipped_spec
from imagegen.offline.model_lists import RETIRED

# Unknown gpt-image-* names (new snapshots) get the newest shipped GPT image model's rules.
_GPT_FALLBACK = "gpt-image-2"
# Fields every model takes beside its schema's parameters.
_ALWAYS = {"model", "prompt", N, "user"}
_GPT_ONLY = {"safety_identifier"}
_RETIRED_NAMES = frozenset(RETIRED)


class Refused(Exception):
    """A request the endpoint refuses, with the fields of its OpenAI-shaped error."""

    def __init__(
        self, message: str, param: str | None, code: str | None, *, status: int = 400
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Generation:
    """A valid request, with every `auto` and default resolved to what the model would use."""

    spec: ModelSpec
    prompt: str
    n: int
    width: int
    height: int
    quality: str
    style: str
    background: str  # transparent or opaque
    output_format: str
    compression: int | None
    response_format: str  # url or b64_json
    stream: bool
    partial_images: int
    frame_count: int = 9
    frame_duration_ms: int = 200
    watermark: bool = False
    seed: int | None = None
    received: dict[str, Any] = field(default_factory=dict)  # every parameter, as sent
    # Seedream's `image` entries as small squares, decoded by references.py (read_references).
    references: tuple[Image.Image, ...] = ()

    @property
    def transparent(self) -> bool:
        return self.background == "transparent"

    def echoed_settings(self) -> dict[str, str]:
        """What GPT image models echo beside the images, and in every stream event."""
        return {
            "background": self.background,
            "output_format": self.output_format,
            "quality": self.quality,
            "size": f"{self.width}x{self.height}",
        }

    def revised_prompt(self) -> str:
        return f"A {self.style} digital illustration of {self.prompt.strip()}, in soft shapes."


def parse_generation(
    body: Any,
    find_spec: Callable[[str], ModelSpec | None] | None = None,
    *,
    endpoint: str = GENERATIONS,
) -> Generation:
    """The request as a Generation, or raise Refused with the error the endpoint would send.
    Only the parameters the model takes on `endpoint` are known."""
    if not isinstance(body, dict):
        raise Refused("The request body must be a JSON object.", None, "invalid_type")
    served = served_spec(_string(body, "model"), find_spec or catalogue_spec)
    spec = served.for_endpoint(endpoint)
    described = {p.name for p in spec.parameters}
    # Fields every model takes unchecked, unless the model's schema describes them itself.
    unchecked = (_ALWAYS | (_GPT_ONLY if spec.family == "gpt-image" else set())) - described
    accepted = unchecked | described | _ALWAYS
    for name in body:
        if name not in accepted:
            raise Refused(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
    prompt = _prompt(body, spec)
    n = body.get(N, 1)
    if type(n) is not int:
        raise Refused(_wrong_type(N, n, "an integer"), N, "invalid_type")
    if n > spec.max_images and spec.family == "qwen":
        raise Refused(f"{spec.name} does not support n > 1", N, "invalid_value")
    parameters = {name: value for name, value in body.items() if name not in unchecked}
    with translation.override("en"):  # the real endpoint answers in English
        sent, problems = resolve(spec, parameters | {N: n})
    if problems:
        raise _refusal(spec, problems[0], parameters)
    width, height = pixels_of(str(sent.get("size", "auto"))) or (1024, 1024)
    output_format = sent.get("output_format", "png")
    quality = sent.get("quality", "")
    if spec.family == "gpt-image" and quality in {"", "auto"}:
        quality = "medium"  # GPT image models report what `auto` became
    return Generation(
        spec=spec,
        prompt=prompt,
        n=n,
        width=width,
        height=height,
        quality=quality,
        style=sent.get("style", ""),
        background="transparent" if sent.get("background") == "transparent" else "opaque",
        output_format=output_format,
        compression=sent.get("output_compression"),
        # What the request left out takes the upstream's own default (api.md §1), which need
        # not be the default the studio's schema sends (the studio asks for base64).
        response_format=parameters.get("response_format", spec.result_kind),
        stream=bool(sent.get("stream", False)),
        partial_images=int(parameters.get("partial_images", 0)) if sent.get("stream") else 0,
        frame_count=int(parameters.get("frame_count", 9)),
        frame_duration_ms=int(parameters.get("frame_duration_ms", 200)),
        watermark=bool(parameters.get("watermark", spec.family == "seedream")),
        seed=sent.get("seed"),
        received=parameters,
    )


def catalogue_spec(name: str) -> ModelSpec | None:
    """The model as the studio's catalogue describes it, so models an administrator adds are
    served too; the shipped data where the database has no row (or cannot be read)."""
    from imagegen.models import ImageModel  # the provider also runs where no app is loaded

    try:
        row = ImageModel.objects.filter(name=name).first()
    except DatabaseError:
        row = None
    if row is not None:
        return row.spec()
    return shipped_spec(name)


def catalogue_names() -> list[str]:
    """Every model name in the studio's catalogue (for the offline key's model list)."""
    from imagegen.models import ImageModel

    try:
        return list(ImageModel.objects.values_list("name", flat=True))
    except DatabaseError:
        return []


def served_spec(model: str | None, find_spec: Callable[[str], ModelSpec | None]) -> ModelSpec:
    """The schema of a model the upstream still serves, or raise Refused (404 model_not_found)."""
    if model is None:
        raise Refused("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    # A retired model's dated snapshots (gpt-image-1.5-2025-12-16) went with it.
    retired = any(model == name or model.startswith(f"{name}-20") for name in _RETIRED_NAMES)
    spec = None if retired else find_spec(model)
    if spec is None and model.startswith("gpt-image") and not retired:
        fallback = find_spec(_GPT_FALLBACK)
        spec = fallback and dataclasses.replace(fallback, name=model)
    if spec is None:
        message = f"The model `{model}` does not exist or you do not have access to it."
        raise Refused(message, None, "model_not_found", status=404)
    return spec


def _prompt(body: dict[str, Any], spec: ModelSpec) -> str:
    prompt = _string(body, "prompt")
    if prompt is None:
        raise Refused(
            "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter"
        )
    if not prompt.strip():
        raise Refused("Invalid 'prompt': empty string.", "prompt", "empty_string")
    if len(prompt) > spec.prompt_max_length:
        message = (
            f"Invalid 'prompt': string too long. Expected a string with maximum length "
            f"{spec.prompt_max_length}, but got a string with length {len(prompt)} instead."
        )
        raise Refused(message, "prompt", "string_above_max_length")
    return prompt


def _refusal(spec: ModelSpec, problem: Problem, sent: dict[str, Any]) -> Refused:
    """A schema problem in the upstream's words where it has words for it."""
    name, value = problem.param, sent.get(problem.param)
    parameter = spec.parameter(name)
    if problem.code == "invalid_type" and parameter is not None:
        return Refused(_wrong_type(name, value, _EXPECTED[parameter.kind]), name, "invalid_type")
    if name == N:
        if spec.max_images == 1 and problem.code == "integer_above_max_value":
            return Refused("You must provide n=1 for this model.", N, "invalid_value")
        if problem.code == "integer_above_max_value":
            message = f"Invalid 'n': integer above maximum value. Expected <= {spec.max_images}."
            return Refused(message, N, problem.code)
        if problem.code == "integer_below_min_value":
            return Refused(
                "Invalid 'n': integer below minimum value. Expected >= 1.", N, problem.code
            )
    if problem.code.startswith("integer_") and parameter is not None:
        bound = parameter.maximum if problem.code.endswith("max_value") else parameter.minimum
        relation = "<=" if problem.code.endswith("max_value") else ">="
        direction = "above maximum" if relation == "<=" else "below minimum"
        message = (
            f"Invalid '{name}': {parameter.kind} {direction} value. Expected {relation} {bound}."
        )
        return Refused(message, name, problem.code)
    if parameter is not None and parameter.kind == "choice" and value not in parameter.choices:
        allowed = ", ".join(f"'{choice}'" for choice in parameter.choices)
        message = f"Invalid value: '{value}'. Supported values are: {allowed}."
        return Refused(message, name, "invalid_value")
    return Refused(f"Invalid '{name}': {problem.message}", name, problem.code)


_EXPECTED = {
    "choice": "a string",
    "size": "a string",
    "text": "a string",
    "integer": "an integer",
    "number": "a decimal",
    "boolean": "a boolean",
    "images": "an array of strings",
}


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise Refused(_wrong_type(name, value, "a string"), name, "invalid_type")
    return value


def _wrong_type(name: str, value: Any, expected: str) -> str:
    return f"Invalid type for '{name}': expected {expected}, but got {_kind(value)} instead."


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a decimal", str: "a string"}
    names |= {type(None): "null", dict: "an object", list: "an array"}
    return names.get(type(value), "a value")
