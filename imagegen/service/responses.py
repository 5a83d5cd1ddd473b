"""One request to the image endpoint and what its answer means: a JSON body or a stream of
server-sent events, read into a `GenerationResult`, or an `AttemptFailed` for the retry loop
(imagegen.upstream_errors). Generations and edits answer alike; only the event names differ
(`image_generation.*` and `image_edit.*`, api.md §7)."""

import base64
import binascii
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from imagegen.downloads import looks_like_image
from imagegen.event_stream import iter_events
from imagegen.upstream_errors import (
    MESSAGES,
    AttemptFailed,
    UpstreamError,
    classify,
    error_details,
    error_from_exception,
    error_from_response,
    should_retry_header,
)

logger = logging.getLogger(__name__)

ECHOED_SETTINGS = ("size", "quality", "background", "output_format")
PARTIAL_EVENTS = ("image_generation.partial_image", "image_edit.partial_image")
COMPLETED_EVENTS = ("image_generation.completed", "image_edit.completed")


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


@dataclass(frozen=True)
class Request:
    """One POST: a JSON body (generations), or text fields and files (an edit's multipart)."""

    path: str
    json: dict[str, Any] | None = None
    fields: dict[str, str] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None
    # A person's own key, sent in this request's Authorization header instead of the shared
    # client's (the site key); kept out of repr() so no log or traceback can show it.
    api_key: str | None = field(default=None, repr=False)

    @property
    def streams(self) -> bool:
        if self.json is not None:
            return bool(self.json.get("stream"))
        return (self.fields or {}).get("stream") == "true"

    def content(self) -> dict[str, Any]:
        sent: dict[str, Any] = {"headers": auth_headers(self.api_key)}
        if self.json is not None:
            return sent | {"json": self.json}
        return sent | {"data": self.fields, "files": self.files}


def auth_headers(api_key: str | None) -> dict[str, str]:
    """The per-request header for a person's own key; none for the site key, which the shared
    client already sends (or, offline, no key at all)."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def send(
    client: httpx.Client, request: Request, on_partial: Callable[[PartialImage], None] | None
) -> GenerationResult:
    """One attempt; raises AttemptFailed, saying whether it may be retried."""
    if request.streams:
        return _stream_once(client, request, on_partial)
    return _post_once(client, request)


def _post_once(client: httpx.Client, request: Request) -> GenerationResult:
    started = time.monotonic()
    try:
        response = client.post(request.path, **request.content())
    except httpx.HTTPError as exc:
        raise AttemptFailed(error_from_exception(exc)) from None
    _raise_for_status(response)
    return _result_from_json(response, started)


def _stream_once(
    client: httpx.Client, request: Request, on_partial: Callable[[PartialImage], None] | None
) -> GenerationResult:
    started, streaming = time.monotonic(), False
    try:
        with client.stream("POST", request.path, **request.content()) as response:
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
        error = bad_response(request_id, response.status_code, web_page=web_page)
        raise AttemptFailed(error) from None
    if isinstance(payload, dict) and payload.get("error") and not payload.get("data"):
        raise AttemptFailed(classify(None, error_details(payload), response.headers))
    items = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise AttemptFailed(bad_response(request_id, response.status_code))
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
    raise AttemptFailed(bad_response(request_id, 200))


def _read_image_stream(
    response: httpx.Response, on_partial: Callable[[PartialImage], None] | None, started: float
) -> GenerationResult:
    request_id = response.headers.get("x-request-id", "")
    for event in iter_events(response.iter_lines()):
        if event.data.strip() == "[DONE]":
            break
        payload = _json_or_none(event.data)
        if not isinstance(payload, dict):
            error = bad_response(request_id, response.status_code)
            raise AttemptFailed(error, auto_retry=False)
        if "error" in payload or event.event == "error":
            error = classify(None, error_details(payload), response.headers)
            raise AttemptFailed(error, auto_retry=False)
        kind = payload.get("type") or event.event
        if kind in PARTIAL_EVENTS and on_partial is not None:
            _deliver_partial(payload, on_partial, request_id)
        elif kind in COMPLETED_EVENTS:
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


def bad_response(request_id: str, status: int, *, web_page: bool = False) -> UpstreamError:
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
