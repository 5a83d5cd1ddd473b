"""The failures the offline provider can imitate, each answered the way the real upstream answers.

Two kinds: a *response* fault replaces the whole answer (an HTTP error, a transport exception, a
body that is not JSON); a *body* fault lets the generation run and then spoils the successful
answer (see `BODY_FAULTS` and transport.py). Shapes follow shared/reference/api.md §3 and §5.
"""

import base64
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

type Headers = dict[str, str]


@dataclass(frozen=True)
class _Canned:
    """A fixed answer: status, content type, body and any extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: Headers = field(default_factory=dict)


# Applied by the provider after a valid request has been generated.
BODY_FAULTS = frozenset({"bad_base64", "not_an_image", "stream_cut", "stream_error", "expired_url"})

HTML_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>CometAPI</title></head>"
    "<body><div id='root'>Loading…</div><script src='/assets/index.js'></script></body></html>"
)
GATEWAY_TIMEOUT_PAGE = (
    "<html><head><title>504 Gateway Time-out</title></head><body><center>"
    "<h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>"
)
# What a CDN sends when the file behind a URL is gone: an error page, not an image.
NOT_AN_IMAGE = b"<html><body><h1>404 Not Found</h1></body></html>\n"
BAD_BASE64 = "iVBORw0KGgo!!this*is~not=base64"


def error_body(
    message: str, *, error_type: str, param: str | None, code: str | int | None
) -> bytes:
    """The OpenAI error shape: {"error": {"message", "type", "param", "code"}}."""
    error = {"message": message, "type": error_type, "param": param, "code": code}
    return json.dumps({"error": error}).encode()


def json_response(status: int, body: bytes, request_id: str) -> httpx.Response:
    headers = {"content-type": "application/json", "x-request-id": request_id}
    return httpx.Response(status, headers=headers, content=body)


def invalid_request(
    message: str,
    request_id: str,
    *,
    param: str | None = None,
    code: str | None = None,
    status: int = 400,
) -> httpx.Response:
    """An invalid_request_error, the answer to every request the endpoint would refuse."""
    body = error_body(message, error_type="invalid_request_error", param=param, code=code)
    return json_response(status, body, request_id)


def _comet_request_id(clock: Callable[[], float]) -> str:
    """CometAPI's request id: a UTC timestamp and random digits, reported inside the message."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(clock()))
    return stamp + "".join(random.choices("0123456789", k=12))


def _error(
    status: int,
    message: str,
    error_type: str,
    code: str | int | None,
    headers: Headers | None = None,
) -> _Canned:
    body = error_body(message, error_type=error_type, param=None, code=code)
    return _Canned(status, "application/json", body, headers or {})


_RESPONSES: dict[str, _Canned] = {
    "moderation_blocked": _error(
        400,
        "Your request was rejected by the safety system. If you believe this is an error, "
        "contact us at help.openai.com and include the request ID. safety_violations=[violence].",
        "image_generation_user_error",
        "moderation_blocked",
    ),
    "content_policy_violation": _error(
        400,
        "Your request was rejected as a result of our safety system. Your prompt may contain "
        "text that is not allowed by our safety system.",
        "invalid_request_error",
        "content_policy_violation",
    ),
    "unauthorized": _error(
        401,
        "Incorrect API key provided: sk-****. You can find your API key in your dashboard.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    "forbidden": _error(
        403,
        "Country, region, or territory not supported",
        "request_forbidden",
        "unsupported_country_region_territory",
    ),
    "model_not_found": _error(
        404,
        "The model does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    # retry-after is tiny so that tests exercising the service's retries stay fast.
    "rate_limit": _error(
        429,
        "Rate limit reached for images per minute. Please try again in 1s.",
        "requests",
        "rate_limit_exceeded",
        {"retry-after": "1", "retry-after-ms": "10"},
    ),
    # Needs a person to act, so it comes with no retry-after (api.md §3).
    "insufficient_quota": _error(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        "insufficient_quota",
    ),
    "server_error": _error(
        500,
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    # OpenAI's Cloudflare edge really does send an integer code here.
    "bad_gateway": _error(502, "Bad gateway.", "cf_bad_gateway", 502),
    "unavailable": _error(
        503,
        "The engine is currently overloaded, please try again later.",
        "server_error",
        "server_is_overloaded",
    ),
    # Gateways answer with their own HTML page, not the API's JSON.
    "gateway_timeout": _Canned(504, "text/html", GATEWAY_TIMEOUT_PAGE.encode()),
    "html": _Canned(200, "text/html; charset=utf-8", HTML_PAGE.encode()),
    "not_json": _Canned(200, "text/plain; charset=utf-8", b"ok\x00\x01 upstream said hello"),
}

_EXCEPTIONS: dict[str, Callable[[httpx.Request], httpx.TransportError]] = {
    "timeout": lambda request: httpx.ReadTimeout("The read operation timed out", request=request),
    "connection_error": lambda request: httpx.ConnectError(
        "[Errno 111] Connection refused", request=request
    ),
}

_BUILT = frozenset({"comet_invalid_request", "no_data"})
FAULT_NAMES = frozenset(_RESPONSES) | frozenset(_EXCEPTIONS) | _BUILT | BODY_FAULTS


def fault_response(
    name: str, request: httpx.Request, request_id: str, clock: Callable[[], float]
) -> httpx.Response | None:
    """The answer for a response fault (or raise its transport error); None for a body fault."""
    if name in _EXCEPTIONS:
        raise _EXCEPTIONS[name](request)
    if name == "comet_invalid_request":
        # CometAPI reports a bad request as a 500 with its own id in the message (api.md §5).
        message = f"invalid request: unsupported field (request id: {_comet_request_id(clock)})"
        body = error_body(message, error_type="comet_api_error", param="", code="invalid_request")
        return json_response(500, body, request_id)
    if name == "no_data":
        return json_response(200, json.dumps({"created": int(clock())}).encode(), request_id)
    if name in BODY_FAULTS:
        return None
    canned = _RESPONSES[name]
    headers = {"content-type": canned.content_type, "x-request-id": request_id} | canned.headers
    return httpx.Response(canned.status, headers=headers, content=canned.body)


def encode_image(data: bytes, fault: str | None = None) -> str:
    """The b64_json for an image, or what a body fault puts in its place."""
    if fault == "bad_base64":
        return BAD_BASE64
    if fault == "not_an_image":
        return base64.b64encode(NOT_AN_IMAGE).decode()
    return base64.b64encode(data).decode()


def unparseable(request: httpx.Request, request_id: str) -> httpx.Response:
    """The 400 for a body that is not a JSON document, worded as the endpoint words it."""
    content_type = request.headers.get("content-type", "application/json")
    if "json" not in content_type:
        message = (
            f"Unsupported content type: '{content_type}'. This API method only accepts "
            "'application/json' requests."
        )
    else:
        message = (
            "We could not parse the JSON body of your request. The API expects a JSON payload, "
            "but what was sent was not valid JSON."
        )
    return invalid_request(message, request_id)


def bucket_error(status: int, code: str, message: str, request_id: str) -> httpx.Response:
    """What a cloud storage bucket says about a bad or expired signed URL."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    headers = {"content-type": "application/xml", "x-request-id": request_id}
    return httpx.Response(status, headers=headers, content=body.encode())
