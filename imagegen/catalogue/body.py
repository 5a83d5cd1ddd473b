"""The JSON body of `POST /images/generations`, built from a model's schema.

The form validates first; this is the last guard, so nothing a model does not take is ever sent.
Used through `imagegen.service.build_request_body`.
"""

from collections.abc import Mapping
from typing import Any

from django.utils import translation

from imagegen.catalogue.schema import resolve
from imagegen.catalogue.spec import ModelSpec


def build_request_body(spec: ModelSpec, prompt: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The body for `spec`; raises ValueError rather than build anything invalid.

    A parameter the model does not take is left out even when `options` carries one; a value
    outside the model's choices or ranges, or a broken rule, is an error. Unset parameters take
    their defaults where the schema says to send them.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("The prompt is empty.")
    if len(prompt) > spec.prompt_max_length:
        raise ValueError(f"The prompt is longer than {spec.prompt_max_length} characters.")
    with translation.override("en"):  # for logs and tracebacks, never shown to a person
        sent, problems = resolve(spec, options)
        if problems:
            details = "; ".join(f"{p.param}: {p.message}" for p in problems)
            raise ValueError(f"{spec.name} cannot take these options: {details}")
    return {"model": spec.name, "prompt": prompt, **sent}
