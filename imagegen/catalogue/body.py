"""What is sent for a model, built from its schema: the JSON body of `POST /images/generations`
and the text fields of the multipart `POST /images/edits` (api.md §7).

The form validates first; this is the last guard, so nothing a model does not take on that
endpoint is ever sent. Used through `imagegen.service`.
"""

from collections.abc import Mapping
from typing import Any

from django.utils import translation

from imagegen.catalogue.schema import resolve
from imagegen.catalogue.spec import EDITS, GENERATIONS, ModelSpec


def build_request_body(spec: ModelSpec, prompt: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The generations body for `spec`; raises ValueError rather than build anything invalid.

    A parameter the model does not take is left out even when `options` carries one; a value
    outside the model's choices or ranges, or a broken rule, is an error. Unset parameters take
    their defaults where the schema says to send them.
    """
    return {"model": spec.name, "prompt": prompt, **_checked(spec, GENERATIONS, prompt, options)}


def build_edit_fields(
    spec: ModelSpec, prompt: str, options: Mapping[str, Any], image_count: int
) -> dict[str, str]:
    """The text fields of an edit of `image_count` images (sent beside them as files), as the
    multipart form carries them: numbers in decimal, booleans as `true`/`false`."""
    if not spec.can_edit:
        raise ValueError(f"{spec.name} does not edit images.")
    images = spec.references(EDITS)
    if image_count < 1 or (images and images.maximum and image_count > images.maximum):
        raise ValueError(f"{spec.name} cannot edit {image_count} images at once.")
    counted = dict(options)
    if images is not None:
        counted[images.name] = [f"image {n}" for n in range(image_count)]  # only counted
    sent = _checked(spec, EDITS, prompt, counted)
    sent.pop(images.name if images else "", None)  # the images go as files
    fields = {"model": spec.name, "prompt": prompt}
    for name, value in sent.items():
        fields[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return fields


def _checked(
    spec: ModelSpec, endpoint: str, prompt: str, options: Mapping[str, Any]
) -> dict[str, Any]:
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("The prompt is empty.")
    if len(prompt) > spec.prompt_max_length:
        raise ValueError(f"The prompt is longer than {spec.prompt_max_length} characters.")
    with translation.override("en"):  # for logs and tracebacks, never shown to a person
        sent, problems = resolve(spec.for_endpoint(endpoint), options)
        if problems:
            details = "; ".join(f"{p.param}: {p.message}" for p in problems)
            raise ValueError(f"{spec.name} cannot take these options: {details}")
    return sent
