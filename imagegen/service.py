"""The only code that talks to the image endpoint (CometAPI, or the offline provider).

`build_request_body()` turns a model's schema and validated options into the JSON body,
`generate()` posts it (streaming when asked) with openai-python's retry policy (api.md §4), and
`download_image()` fetches URL results. Every failure becomes an `UpstreamError`.

The body comes from imagegen.catalogue (the schema); sibling modules hold the rest:
upstream_errors.py (error mapping and
retry policy), event_stream.py (server-sent events) and downloads.py (bounded URL fetches).
"""

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from django.conf import settings

from imagegen.catalogue import ModelSpec, build_request_body
from imagegen.downloads import fetch_image, looks_like_image
from imagegen.event_stream import iter_events
from imagegen.upstream_errors import (
    MESSAGES,
    AttemptFailed,
    UpstreamError,
    classify,
    error_details,
    error_from_exception,
    error_from_response,
    run_with_retries,
    should_retry_header,
)

__all__ = [
    "GenerationResult",
    "PartialImage",
    "ReturnedImage",
    "UpstreamError",
    "build_request_body",
    "download_image",
    "generate",
    "get_client",
    "list_models",
    "looks_like_image",
    "public_catalogue",
]

logger = logging.getLogger(__name__)

API_PATH = "images/generations"
MODELS_PATH = "models"
USER_AGENT = "image-studio/0.1"
WRITE_TIMEOUT = 30.0  # the body is a few KB of JSON
POOL_TIMEOUT = 60.0  # waiting for a free connection while every one is busy generating
ECHOED_SETTINGS = ("size", "quality", "background", "output_format")


@dataclass(frozen=True)
class ReturnedImage:
    index: int
    data: bytes | None  # decoded b64_json, checked to start like an image
    url: str | None  # a URL result, to be fetched at once with download_image()
    revised_prompt: str = ""


@dataclass(frozen=True)
class PartialImage:
    index: int  # partial_image_index, 0-based
    data: bytes


@dataclass(frozen=True)
class GenerationResult:
    images: list[ReturnedImage]
    created: int | None = None
    usage: dict[str, Any] | None = None
    returned_settings: dict[str, str] = field(default_factory=dict)
    request_id: str = ""
    attempts: int = 1
    upstream_ms: int = 0  # duration of the attempt that succeeded


# --- clients ---------------------------------------------------------------------------------

_clients: dict[str, tuple[tuple[Any, ...], Any]] = {}
_clients_lock = threading.RLock()  # re-entered: a client build asks for the transport


def get_client() -> httpx.Client:
    """The shared client for the endpoint, rebuilt when the settings it was built from change."""
    key = settings.COMETAPI_KEY
    config = (
        key,
        settings.COMETAPI_BASE_URL,
        settings.COMETAPI_CONNECT_TIMEOUT,
        settings.COMETAPI_READ_TIMEOUT,
        settings.COMETAPI_MAX_CONNECTIONS,
    )

    def build() -> httpx.Client:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return httpx.Client(
            base_url=settings.COMETAPI_BASE_URL,
            headers=headers,
            timeout=httpx.Timeout(
                connect=settings.COMETAPI_CONNECT_TIMEOUT,
                read=settings.COMETAPI_READ_TIMEOUT,
                write=WRITE_TIMEOUT,
                pool=POOL_TIMEOUT,
            ),
            limits=_limits(settings.COMETAPI_MAX_CONNECTIONS),
            # A wrong base URL answers 301 (api.md §5): report it, never re-POST elsewhere.
            follow_redirects=False,
            transport=None if key else _offline_transport(),
        )

    return _cached("api", config, build)


def _download_client() -> httpx.Client:
    """A client for URL results with no Authorization header: the key never reaches a CDN."""
    online = bool(settings.COMETAPI_KEY)
    config = (online, settings.DOWNLOAD_TIMEOUT, settings.COMETAPI_MAX_CONNECTIONS)

    def build() -> httpx.Client:
        return httpx.Client(
            headers={"Accept": "image/*", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(settings.DOWNLOAD_TIMEOUT),
            limits=_limits(settings.COMETAPI_MAX_CONNECTIONS),
            follow_redirects=False,  # downloads.py follows them itself, checking every hop
            transport=None if online else _offline_transport(),
        )

    return _cached("download", config, build)


def _offline_transport() -> httpx.BaseTransport:
    # Imported here so that this module loads even where the offline provider is left out.
    from imagegen.offline import OfflineProvider, catalogue_names

    # The offline key offers the models an administrator adds too, so they can be tried.
    return _cached("offline", (), lambda: OfflineProvider(extra_models=catalogue_names))


def _limits(max_connections: int) -> httpx.Limits:
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30.0,
    )


def _cached[T](purpose: str, config: tuple[Any, ...], build: Callable[[], T]) -> T:
    # A replaced client is left open: another thread may still be using it.
    with _clients_lock:
        current = _clients.get(purpose)
        if current is None or current[0] != config:
            current = (config, build())
            _clients[purpose] = current
        return current[1]


# --- generating ------------------------------------------------------------------------------


def generate(
    spec: ModelSpec,
    prompt: str,
    options: Mapping[str, Any],
    *,
    client: httpx.Client | None = None,
    on_partial: Callable[[PartialImage], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_retries: int | None = None,
) -> GenerationResult:
    """Generate images; raises UpstreamError, or ValueError for options the model refuses.

    `on_partial` runs in this thread for each streamed partial image; an exception it raises
    stops the generation and propagates unchanged. `max_retries` defaults to
    COMETAPI_MAX_RETRIES.
    """
    body = build_request_body(spec, prompt, options)
    api = client or get_client()

    def attempt() -> GenerationResult:
        if body.get("stream"):
            return _stream_once(api, body, on_partial)
        return _post_once(api, body)

    result, attempts = run_with_retries(
        attempt,
        what=f"image generation model={spec.name}",
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
    https only when online; no Authorization header is ever sent.
    """
    return fetch_image(
        client or _download_client(),
        url,
        sleep=sleep,
        clock=clock,
        max_retries=settings.COMETAPI_MAX_RETRIES if max_retries is None else max_retries,
    )


def list_models(*, client: httpx.Client | None = None) -> list[dict[str, Any]]:
    """The models the site key may use: `GET {base}/models`, OpenAI's list shape (api.md §8).

    One attempt, no retries: the sync runs again on its schedule. Raises UpstreamError.
    """
    payload = _get_json(client or get_client(), MODELS_PATH)
    items = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise _bad_response("", 200)
    return [item for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)]


def public_catalogue(*, client: httpx.Client | None = None) -> list[dict[str, Any]]:
    """CometAPI's public catalogue (type, features, prices), sent without the key.

    Its envelope is not documented: a bare list and `{"data": [...]}` are both read.
    """
    payload = _get_json(client or _download_client(), settings.COMETAPI_CATALOGUE_URL)
    items = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise _bad_response("", 200)
    return [item for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)]


def _get_json(client: httpx.Client, url: str) -> Any:
    try:
        response = client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise error_from_exception(exc) from None
    if not response.is_success:
        raise error_from_response(response)
    try:
        return response.json()
    except ValueError:
        web_page = "html" in response.headers.get("content-type", "")
        raise _bad_response("", response.status_code, web_page=web_page) from None


def _post_once(client: httpx.Client, body: dict[str, Any]) -> GenerationResult:
    started = time.monotonic()
    try:
        response = client.post(API_PATH, json=body)
    except httpx.HTTPError as exc:
        raise AttemptFailed(error_from_exception(exc)) from None
    _raise_for_status(response)
    return _result_from_json(response, started)


def _stream_once(
    client: httpx.Client, body: dict[str, Any], on_partial: Callable[[PartialImage], None] | None
) -> GenerationResult:
    started, streaming = time.monotonic(), False
    try:
        with client.stream("POST", API_PATH, json=body) as response:
            if not response.is_success:
                response.read()
                _raise_for_status(response)
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                response.read()  # the upstream ignored stream=true and answered in one piece
                return _result_from_json(response, started)
            streaming = True
            return _read_image_stream(response, on_partial, started)
    except httpx.HTTPError as exc:
        # Once the stream has begun the image may be billed: never retry automatically.
        error = error_from_exception(exc)
        raise AttemptFailed(error, auto_retry=False if streaming else None) from None


def _raise_for_status(response: httpx.Response) -> None:
    if not response.is_success:
        error = error_from_response(response)
        raise AttemptFailed(error, auto_retry=should_retry_header(response.headers))


def _result_from_json(response: httpx.Response, started: float) -> GenerationResult:
    request_id = response.headers.get("x-request-id", "")
    try:
        payload = response.json()
    except ValueError:  # an HTML page from a wrong base URL (api.md §5), or plain text
        web_page = "html" in response.headers.get("content-type", "")
        error = _bad_response(request_id, response.status_code, web_page=web_page)
        raise AttemptFailed(error) from None
    if isinstance(payload, dict) and payload.get("error") and not payload.get("data"):
        raise AttemptFailed(classify(None, error_details(payload), response.headers))
    items = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise AttemptFailed(_bad_response(request_id, response.status_code))
    return GenerationResult(
        images=[_returned_image(index, item, request_id) for index, item in enumerate(items)],
        created=_int_or_none(payload.get("created")),
        usage=_dict_or_none(payload.get("usage")),
        returned_settings=_echoed_settings(payload),
        request_id=request_id,
        upstream_ms=_ms_since(started),
    )


def _returned_image(index: int, item: Any, request_id: str) -> ReturnedImage:
    item = item if isinstance(item, dict) else {}
    revised = item.get("revised_prompt")
    revised_prompt = revised if isinstance(revised, str) else ""
    if isinstance(item.get("b64_json"), str) and item["b64_json"]:
        return ReturnedImage(
            index, _decode_image(item["b64_json"], request_id), None, revised_prompt
        )
    if isinstance(item.get("url"), str) and item["url"]:
        return ReturnedImage(index, None, item["url"], revised_prompt)
    raise AttemptFailed(_bad_response(request_id, 200))


def _read_image_stream(
    response: httpx.Response, on_partial: Callable[[PartialImage], None] | None, started: float
) -> GenerationResult:
    request_id = response.headers.get("x-request-id", "")
    for event in iter_events(response.iter_lines()):
        if event.data.strip() == "[DONE]":
            break
        payload = _json_or_none(event.data)
        if not isinstance(payload, dict):
            error = _bad_response(request_id, response.status_code)
            raise AttemptFailed(error, auto_retry=False)
        if "error" in payload or event.event == "error":
            error = classify(None, error_details(payload), response.headers)
            raise AttemptFailed(error, auto_retry=False)
        kind = payload.get("type") or event.event
        if kind == "image_generation.partial_image" and on_partial is not None:
            _deliver_partial(payload, on_partial, request_id)
        elif kind == "image_generation.completed":
            image = _decode_image(payload.get("b64_json"), request_id)
            return GenerationResult(
                images=[ReturnedImage(0, image, None)],
                created=_int_or_none(payload.get("created_at")),
                usage=_dict_or_none(payload.get("usage")),
                returned_settings=_echoed_settings(payload),
                request_id=request_id,
                upstream_ms=_ms_since(started),
            )
    incomplete = MESSAGES["stream_incomplete"]
    error = UpstreamError("stream_incomplete", incomplete, retryable=True, request_id=request_id)
    raise AttemptFailed(error, auto_retry=False)


def _deliver_partial(
    payload: dict[str, Any], on_partial: Callable[[PartialImage], None], request_id: str
) -> None:
    try:
        data = _decode_image(payload.get("b64_json"), request_id)
    except AttemptFailed:
        # A preview is not worth failing a generation that may still finish well.
        logger.warning("skipped a partial image that is not an image request_id=%s", request_id)
        return
    index = payload.get("partial_image_index")
    on_partial(PartialImage(index if type(index) is int else 0, data))


def _decode_image(b64: Any, request_id: str) -> bytes:
    text = b64 if isinstance(b64, str) else ""
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]  # some gateways send a data: URI
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not looks_like_image(data):
        error = UpstreamError(
            "bad_image", MESSAGES["bad_image"], retryable=False, request_id=request_id
        )
        raise AttemptFailed(error)
    return data


def _bad_response(request_id: str, status: int, *, web_page: bool = False) -> UpstreamError:
    return UpstreamError(
        "bad_response",
        MESSAGES["web_page" if web_page else "bad_response"],
        retryable=False,
        status=status,
        request_id=request_id,
    )


def _echoed_settings(payload: dict[str, Any]) -> dict[str, str]:
    return {key: payload[key] for key in ECHOED_SETTINGS if isinstance(payload.get(key), str)}


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _int_or_none(value: Any) -> int | None:
    return value if type(value) is int else None


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
