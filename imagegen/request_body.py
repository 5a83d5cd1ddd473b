"""The JSON body of `POST /images/generations`, built from a model's capability Profile.

The form validates first; this is the last guard, so nothing a model does not take is ever sent.
Used through `imagegen.service.build_request_body`.
"""

import re
from collections.abc import Mapping
from typing import Any

from imagegen.catalogue import COMPRESSIBLE_FORMATS, TRANSPARENT_FORMATS, Profile

# Option name -> the Profile attribute holding its choices; each has a `default_<name>` too.
CHOICE_PARAMETERS = {
    "quality": "qualities",
    "style": "styles",
    "response_format": "response_formats",
    "output_format": "output_formats",
    "background": "backgrounds",
    "moderation": "moderations",
}
_SIZE = re.compile(r"([1-9]\d{0,4})x([1-9]\d{0,4})")


def build_request_body(profile: Profile, prompt: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The body for `profile`; raises ValueError rather than build anything invalid.

    A parameter the model does not take is left out even when `options` carries one (a form may
    keep hidden fields); a value outside the model's choices is an error. Missing options take the
    profile's defaults.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("The prompt is empty.")
    if len(prompt) > profile.prompt_max_length:
        raise ValueError(f"The prompt is longer than {profile.prompt_max_length} characters.")
    n = _option(options, "n", 1)
    _check_int("n", n, 1, profile.max_images)
    size = _option(options, "size", profile.default_size)
    _check_size(profile, size)
    body: dict[str, Any] = {"model": profile.name, "prompt": prompt, "n": n, "size": size}
    for name, attribute in CHOICE_PARAMETERS.items():
        choices = getattr(profile, attribute)
        value = _option(options, name, getattr(profile, f"default_{name}"))
        if not choices or value is None:
            continue
        if value not in choices:
            raise ValueError(f"{name}={value!r} is not one of {choices} for {profile.name}.")
        body[name] = value
    output_format = body.get("output_format")
    transparent = body.get("background") == "transparent"
    if transparent and output_format is not None and output_format not in TRANSPARENT_FORMATS:
        raise ValueError(f"A transparent background needs png or webp, not {output_format}.")
    compression = _option(options, "output_compression", None)
    # Only jpeg and webp are compressed; with png the value is not sent at all.
    compressible = profile.supports_compression and output_format in COMPRESSIBLE_FORMATS
    if compression is not None and compressible:
        _check_int("output_compression", compression, 0, 100)
        body["output_compression"] = compression
    stream = _option(options, "stream", False)
    if not isinstance(stream, bool):
        raise ValueError(f"stream must be true or false, not {stream!r}.")
    if stream and profile.supports_streaming:
        # Stream events carry no image index, so several images could not be told apart.
        if n != 1:
            raise ValueError("Streaming returns one image: n must be 1.")
        partial_images = _option(options, "partial_images", 0)
        _check_int("partial_images", partial_images, 0, profile.max_partial_images)
        body["stream"] = True
        body["partial_images"] = partial_images
    return body


def _option(options: Mapping[str, Any], name: str, default: Any) -> Any:
    # An empty form field means "not chosen", like a missing key.
    value = options.get(name)
    if value is None or value == "":
        value = default
    return None if value is None or value == "" else value


def _check_size(profile: Profile, size: Any) -> None:
    if size in profile.sizes:
        return
    rules = profile.size_rules
    match = _SIZE.fullmatch(size) if rules and isinstance(size, str) else None
    if rules is None or match is None:
        raise ValueError(f"size={size!r} is not one of {profile.sizes} for {profile.name}.")
    if problem := rules.problem_with(int(match[1]), int(match[2])):
        raise ValueError(f"size={size!r}: {problem}")


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, not {value!r}.")
