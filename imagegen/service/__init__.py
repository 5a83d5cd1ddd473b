"""The only code that talks to the image endpoint (CometAPI, or the offline provider).

`generate()` posts a generation's JSON body, `edit()` an edit's multipart form (the images, the
mask, the model's options), each streaming when asked and retried with openai-python's policy
(api.md §4); `download_image()` fetches URL results; `list_models()` and `public_catalogue()`
read the live model lists. Every failure becomes an `UpstreamError`.

A person's own key goes as `api_key=`: that one request carries it in its Authorization header,
through the same shared client (never a client per key), so online and offline, site key or
theirs, the code path is one. Errors on their requests are scrubbed of the key and say that it
was *their* key that was refused (personal_keys.py).

What is sent comes from imagegen.catalogue (the schema). The modules here: clients.py (the
shared httpx clients), responses.py (one attempt and what its answer means). Beside them:
upstream_errors.py (error mapping and retry policy), event_stream.py (server-sent events),
downloads.py (bounded URL fetches) and edit_inputs.py (the files an edit sends).
"""

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx
from django.conf import settings

from imagegen.catalogue import ModelSpec, build_edit_fields, build_request_body
from imagegen.downloads import fetched_image, looks_like_image
from imagegen.edit_inputs import InputFile, check_mask
from imagegen.service.clients import download_client, get_client
from imagegen.service.personal_keys import for_personal_key
from imagegen.service.responses import (
    GenerationResult,
    PartialImage,
    Request,
    ReturnedImage,
    auth_headers,
    bad_response,
    send,
)
from imagegen.upstream_errors import (
    UpstreamError,
    error_from_exception,
    error_from_response,
    run_with_retries,
)

__all__ = [
    "GenerationResult",
    "InputFile",
    "PartialImage",
    "ReturnedImage",
    "UpstreamError",
    "build_edit_fields",
    "build_request_body",
    "download_image",
    "downloaded_image",
    "edit",
    "generate",
    "get_client",
    "list_models",
    "looks_like_image",
    "public_catalogue",
]

GENERATIONS_PATH = "images/generations"
EDITS_PATH = "images/edits"
MODELS_PATH = "models"


def generate(
    spec: ModelSpec,
    prompt: str,
    options: Mapping[str, Any],
    *,
    client: httpx.Client | None = None,
    on_partial: Callable[[PartialImage], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_retries: int | None = None,
    api_key: str | None = None,
) -> GenerationResult:
    """Generate images; raises UpstreamError, or ValueError for options the model refuses.

    `on_partial` runs in this thread for each streamed partial image; an exception it raises
    stops the generation and propagates unchanged. `max_retries` defaults to
    COMETAPI_MAX_RETRIES. `api_key`: a person's own key, else the site's.
    """
    body = build_request_body(spec, prompt, options)
    request = Request(GENERATIONS_PATH, json=body, api_key=api_key)
    what = f"image generation model={spec.name}"
    return _send(what, request, client, on_partial, sleep, max_retries)


def edit(
    spec: ModelSpec,
    prompt: str,
    options: Mapping[str, Any],
    images: Sequence[InputFile],
    *,
    mask: bytes | None = None,
    client: httpx.Client | None = None,
    on_partial: Callable[[PartialImage], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_retries: int | None = None,
    api_key: str | None = None,
) -> GenerationResult:
    """Edit `images` (the first one is changed where `mask` is transparent; without a mask all
    of them are references); as `generate`, raises UpstreamError, or ValueError for anything the
    endpoint would refuse: options the model does not take there, a mask that does not fit."""
    fields = build_edit_fields(spec, prompt, options, len(images))
    # One image goes as `image`, several as `image[]`, as openai-python sends them.
    name = "image" if len(images) == 1 else "image[]"
    files = [
        (name, (f"image-{n}.{i.format}", i.data, i.content_type)) for n, i in enumerate(images)
    ]
    if mask is not None:
        if problem := check_mask(mask, images[0].size):
            raise ValueError(f"The mask cannot be sent: {problem}")
        files.append(("mask", ("mask.png", mask, "image/png")))
    request = Request(EDITS_PATH, fields=fields, files=files, api_key=api_key)
    what = f"image edit model={spec.name} images={len(images)} mask={mask is not None}"
    return _send(what, request, client, on_partial, sleep, max_retries)


def _send(
    what: str,
    request: Request,
    client: httpx.Client | None,
    on_partial: Callable[[PartialImage], None] | None,
    sleep: Callable[[float], None],
    max_retries: int | None,
) -> GenerationResult:
    api = client or get_client()
    with for_personal_key(request.api_key):
        result, attempts = run_with_retries(
            lambda: send(api, request, on_partial),
            what=what,
            max_retries=settings.COMETAPI_MAX_RETRIES if max_retries is None else max_retries,
            sleep=sleep,
        )
    return replace(result, attempts=attempts)


def download_image(
    url: str,
    *,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    max_retries: int | None = None,
) -> bytes:
    """Fetch a URL result at once; raises UpstreamError(code="download_failed").

    Bounded by DOWNLOAD_MAX_BYTES and by DOWNLOAD_TIMEOUT seconds in all (retries included);
    https only when online; no Authorization header is ever sent. The bytes returned are no
    longer counted in the process's memory budget: a job uses `downloaded_image` instead.
    """
    with downloaded_image(
        url, client=client, sleep=sleep, clock=clock, max_retries=max_retries
    ) as data:
        return data


@contextlib.contextmanager
def downloaded_image(
    url: str,
    *,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    max_retries: int | None = None,
) -> Iterator[bytes]:
    """As download_image, the bytes counted in the process's DOWNLOAD_MEMORY_BUDGET until the
    block ends (imagegen.downloads): hold them only inside it."""
    with fetched_image(
        client or download_client(),
        url,
        sleep=sleep,
        clock=clock,
        max_retries=settings.COMETAPI_MAX_RETRIES if max_retries is None else max_retries,
    ) as data:
        yield data


def list_models(
    *, client: httpx.Client | None = None, api_key: str | None = None
) -> list[dict[str, Any]]:
    """The models a key may use (the site's, or a person's own `api_key`): `GET {base}/models`,
    OpenAI's list shape (api.md §8).

    One attempt, no retries: the sync runs again on its schedule. Raises UpstreamError.
    """
    with for_personal_key(api_key):
        payload = _get_json(client or get_client(), MODELS_PATH, auth_headers(api_key))
    items = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise bad_response("", 200)
    return [item for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)]


def public_catalogue(*, client: httpx.Client | None = None) -> list[dict[str, Any]]:
    """CometAPI's public catalogue (type, features, prices), sent without the key.

    Its envelope is not documented: a bare list and `{"data": [...]}` are both read.
    """
    payload = _get_json(client or download_client(), settings.COMETAPI_CATALOGUE_URL)
    items = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise bad_response("", 200)
    return [item for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)]


def _get_json(client: httpx.Client, url: str, headers: Mapping[str, str] | None = None) -> Any:
    try:
        response = client.get(url, headers={"Accept": "application/json", **(headers or {})})
    except httpx.HTTPError as exc:
        raise error_from_exception(exc) from None
    if not response.is_success:
        raise error_from_response(response)
    try:
        return response.json()
    except ValueError:
        web_page = "html" in response.headers.get("content-type", "")
        raise bad_response("", response.status_code, web_page=web_page) from None
