"""Validating a generation request as the real endpoint does, per model (api.md §1)."""

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from django.utils import translation

from imagegen.catalogue import (
    DALL_E,
    GPT_IMAGE,
    QWEN,
    TRANSPARENT_FORMATS,
    Profile,
    shipped_profile,
)

# Unknown gpt-image-* names (new snapshots) get the newest shipped GPT image model's rules.
_GPT_FALLBACK = "gpt-image-2"
_SIZE = re.compile(r"(\d{1,5})x(\d{1,5})")


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

    profile: Profile
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


def parse_generation(body: Any) -> Generation:
    """The request as a Generation, or raise Refused with the error the endpoint would send."""
    if not isinstance(body, dict):
        raise Refused("The request body must be a JSON object.", None, "invalid_type")
    profile = _profile(_string(body, "model"))
    for name in body:
        if name not in _accepted(profile):
            raise Refused(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
    prompt = _prompt(body, profile)
    n = _integer(body, "n", 1, 1, profile.max_images, _too_many_images(profile))
    width, height = _size(body, profile)
    output_format = _choice(body, "output_format", profile.output_formats) or "png"
    background = _choice(body, "background", profile.backgrounds)
    if background == "transparent" and output_format not in TRANSPARENT_FORMATS:
        message = "Transparent backgrounds need the png or webp output format."
        raise Refused(message, "background", "invalid_value")
    compression = None
    if "output_compression" in body:
        if output_format == "png":
            message = "output_compression is only supported for the jpeg and webp output formats."
            raise Refused(message, "output_compression", "invalid_value")
        compression = _integer(body, "output_compression", 100, 0, 100)
    _choice(body, "moderation", profile.moderations)
    stream = _boolean(body, "stream")
    partial_images = _integer(body, "partial_images", 0, 0, profile.max_partial_images)
    # How n > 1 images interleave in one stream is undocumented (api.md §2): refuse, not guess.
    if stream and n > 1:
        raise Refused("Streaming supports n=1 only.", "n", "invalid_value")
    quality = _choice(body, "quality", profile.qualities)
    return Generation(
        profile=profile,
        prompt=prompt,
        n=n,
        width=width,
        height=height,
        quality=_resolved_quality(quality, profile),
        style=_choice(body, "style", profile.styles) or profile.default_style,
        background="transparent" if background == "transparent" else "opaque",
        output_format=output_format,
        compression=compression,
        response_format=_response_format(body, profile),
        stream=stream,
        partial_images=partial_images,
    )


def _profile(model: str | None) -> Profile:
    if model is None:
        raise Refused("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    if profile := shipped_profile(model):
        return profile
    if model.startswith("gpt-image") and (fallback := shipped_profile(_GPT_FALLBACK)):
        return dataclasses.replace(fallback, name=model)
    message = f"The model `{model}` does not exist or you do not have access to it."
    raise Refused(message, None, "model_not_found", status=404)


def _accepted(profile: Profile) -> set[str]:
    """The body fields this model takes; any other field is refused as an unknown parameter."""
    accepted = {"model", "prompt", "n", "size", "user"}
    optional = {
        "quality": profile.qualities,
        "style": profile.styles,
        "response_format": profile.response_formats,
        "output_format": profile.output_formats,
        "output_compression": profile.supports_compression,
        "background": profile.backgrounds,
        "moderation": profile.moderations,
        "stream": profile.supports_streaming,
        "partial_images": profile.supports_streaming,
        "safety_identifier": profile.family == GPT_IMAGE,
    }
    return accepted | {name for name, supported in optional.items() if supported}


def _prompt(body: dict[str, Any], profile: Profile) -> str:
    prompt = _string(body, "prompt")
    if prompt is None:
        raise Refused(
            "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter"
        )
    if not prompt.strip():
        raise Refused("Invalid 'prompt': empty string.", "prompt", "empty_string")
    if len(prompt) > profile.prompt_max_length:
        message = (
            f"Invalid 'prompt': string too long. Expected a string with maximum length "
            f"{profile.prompt_max_length}, but got a string with length {len(prompt)} instead."
        )
        raise Refused(message, "prompt", "string_above_max_length")
    return prompt


def _too_many_images(profile: Profile) -> str | None:
    if profile.family == QWEN:
        return f"{profile.name} does not support n > 1"
    if profile.max_images == 1:
        return "You must provide n=1 for this model."
    return None


def _size(body: dict[str, Any], profile: Profile) -> tuple[int, int]:
    size = _string(body, "size") or profile.default_size
    if size == "auto":
        return 1024, 1024
    match = _SIZE.fullmatch(size)
    if size in profile.sizes and match:
        return int(match[1]), int(match[2])
    if profile.custom_sizes and profile.size_rules and match:
        width, height = int(match[1]), int(match[2])
        with translation.override("en"):  # the real endpoint answers in English
            problem = profile.size_rules.problem_with(width, height)
        if problem:
            raise Refused(f"Invalid size '{size}'. {problem}", "size", "invalid_value")
        return width, height
    raise Refused(_not_one_of(size, profile.sizes), "size", "invalid_value")


def _resolved_quality(quality: str, profile: Profile) -> str:
    # GPT image models report what `auto` became; medium is what they usually pick.
    if profile.family == GPT_IMAGE and quality in {"", "auto"}:
        return "medium"
    return quality or profile.default_quality


def _response_format(body: dict[str, Any], profile: Profile) -> str:
    if profile.family == DALL_E:
        return _choice(body, "response_format", profile.response_formats) or "url"
    # GPT image models only return base64; qwen-image's format is undocumented and we pick url.
    return "b64_json" if profile.family == GPT_IMAGE else "url"


def _choice(body: dict[str, Any], name: str, choices: list[str]) -> str:
    """The value sent for an enum parameter, or "" when it was left out."""
    value = _string(body, name)
    if value is None:
        return ""
    if value not in choices:
        raise Refused(_not_one_of(value, choices), name, "invalid_value")
    return value


def _not_one_of(value: str, choices: list[str]) -> str:
    allowed = ", ".join(f"'{choice}'" for choice in choices)
    return f"Invalid value: '{value}'. Supported values are: {allowed}."


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        message = f"Invalid type for '{name}': expected a string, but got {_kind(value)} instead."
        raise Refused(message, name, "invalid_type")
    return value


def _integer(
    body: dict[str, Any], name: str, default: int, low: int, high: int, too_high: str | None = None
) -> int:
    value = body.get(name, default)
    # JSON true is a bool, and bool is an int in Python: refuse it as the API does.
    if not isinstance(value, int) or isinstance(value, bool):
        message = f"Invalid type for '{name}': expected an integer, but got {_kind(value)} instead."
        raise Refused(message, name, "invalid_type")
    if value < low:
        message = f"Invalid '{name}': integer below minimum value. Expected a value >= {low}."
        raise Refused(message, name, "integer_below_min_value")
    if value > high:
        message = too_high or f"Invalid '{name}': integer above maximum value. Expected <= {high}."
        raise Refused(message, name, "integer_above_max_value")
    return value


def _boolean(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        message = f"Invalid type for '{name}': expected a boolean, but got {_kind(value)} instead."
        raise Refused(message, name, "invalid_type")
    return value


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a decimal", str: "a string"}
    names |= {type(None): "null", dict: "an object", list: "an array"}
    return names.get(type(value), "a value")
