"""Failures of the image endpoint: one error type, the mapping onto it, and when to retry.

The mapping follows shared/reference/api.md §3-§5: OpenAI's error envelope and codes, CometAPI's
500 `invalid_request` and its request id inside the message. The retry policy is openai-python's
(§4). Messages built here are safe to show a person: upstream text is trimmed and scrubbed of
anything that looks like a key, and nothing from the request is ever included.
"""

import email.utils
import logging
import math
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext_noop

from imagegen.job_messages import REJECTED_WITH_REASON, REJECTED_WITH_STATUS

logger = logging.getLogger(__name__)


class UpstreamError(Exception):
    """Every failure talking to the endpoint, with a message that is safe to show a person."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        param: str | None = None,
        request_id: str = "",
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable  # whether trying again later may help
        self.status = status
        self.param = param
        self.request_id = request_id
        self.retry_after = retry_after  # seconds the upstream asked us to wait, if it said
        self.attempts = attempts  # requests made before giving up


# Stored in English on the job and translated when shown (imagegen.job_messages).
MESSAGES = {
    "moderation_blocked": gettext_noop(
        "The request was refused by the safety system. Try rewording the prompt."
    ),
    "invalid_request": gettext_noop("The image service rejected the request."),
    "auth_failed": gettext_noop(
        "The image service did not accept the API key. Ask the administrator."
    ),
    "forbidden": gettext_noop(
        "The image service refused access to this model for this account or region."
    ),
    "model_not_found": gettext_noop(
        "The image service does not offer this model (it may have been retired)."
    ),
    "rate_limited": gettext_noop(
        "The image service is limiting how many requests it takes. Try again shortly."
    ),
    "insufficient_quota": gettext_noop(
        "The image service account is out of credit or over its quota."
    ),
    "upstream_unavailable": gettext_noop(
        "The image service is unavailable or overloaded. Try again shortly."
    ),
    "timeout": gettext_noop("The image service did not answer in time. Try again."),
    "connection_failed": gettext_noop("Could not connect to the image service. Try again shortly."),
    "bad_response": gettext_noop("The image service sent an answer that is not an image result."),
    "redirected": gettext_noop(
        "The image service answered with a redirect: the configured base URL "
        "(COMETAPI_BASE_URL) looks wrong."
    ),
    "wrong_address": gettext_noop(
        "The image service has nothing at the configured address: the base URL "
        "(COMETAPI_BASE_URL) looks wrong."
    ),
    "web_page": gettext_noop(
        "The image service answered with a web page, not an image result: the configured base "
        "URL (COMETAPI_BASE_URL) may be wrong."
    ),
    "bad_image": gettext_noop("The image service returned data that is not a valid image."),
    "stream_incomplete": gettext_noop(
        "The image stream ended before the final image arrived. Try again."
    ),
}

MODERATION_CODES = frozenset({"moderation_blocked", "content_policy_violation"})
QUOTA_CODES = frozenset({"insufficient_quota", "credit_balance_exhausted"})
MAX_SHOWN_CHARS = 300
# openai-python's retry constants (api.md §4).
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 120.0

_REQUEST_ID_IN_MESSAGE = re.compile(r"\s*\(request id:\s*([^)]*)\)", re.IGNORECASE)
_KEY_LIKE = re.compile(r"\bsk-[\w*.-]+")


def error_from_response(response: httpx.Response) -> UpstreamError:
    """The error for a non-2xx answer (its body must have been read)."""
    try:
        payload = response.json()
    except ValueError:  # HTML from a gateway, plain text, an empty body
        payload = None
    return classify(response.status_code, error_details(payload), response.headers)


def error_details(payload: Any) -> Mapping[str, Any]:
    """The `error` object of an error body; empty when the body is not that JSON envelope."""
    if not isinstance(payload, dict):
        return {}
    details = payload.get("error", payload)
    if isinstance(details, str):
        return {"message": details}
    return details if isinstance(details, dict) else {}


def classify(
    status: int | None, details: Mapping[str, Any], headers: Mapping[str, str]
) -> UpstreamError:
    """Map an HTTP status (None for an error inside a 2xx answer) and error details."""
    code, kind = _text(details.get("code")), _text(details.get("type"))
    raw_message = _text(details.get("message"))
    found = _REQUEST_ID_IN_MESSAGE.search(raw_message)
    shown = safe_text(_REQUEST_ID_IN_MESSAGE.sub("", raw_message))

    def error(name: str, retryable: bool, message: str = "") -> UpstreamError:
        return UpstreamError(
            name,
            message or MESSAGES[name],
            retryable=retryable,
            status=status,
            param=_text(details.get("param")) or None,
            # CometAPI's own id, inside its message, is the one its support asks for.
            request_id=(found[1].strip() if found else "") or headers.get("x-request-id", ""),
            retry_after=retry_after_seconds(headers),
        )

    if status is not None and 300 <= status < 400:
        return error("bad_response", False, MESSAGES["redirected"])
    if code in MODERATION_CODES or (status in {400, None} and "safety system" in shown.lower()):
        return error("moderation_blocked", False)
    # A model is gone only when the upstream says so: the job then withdraws it from new jobs
    # until the next sync. An HTML page or a proxy's {"detail": "Not Found"} means the path is
    # wrong, not the model.
    speaks_of_a_model = code == "model_not_found" or "model" in raw_message.lower()
    if status == 404 and not speaks_of_a_model:
        return error("bad_response", False, MESSAGES["wrong_address"])
    if speaks_of_a_model and (code == "model_not_found" or status == 404):
        return error("model_not_found", False)
    if code in QUOTA_CODES or kind in QUOTA_CODES:
        return error("insufficient_quota", False)
    if status == 429 or code == "rate_limit_exceeded":
        return error("rate_limited", True)
    if status == 401:
        return error("auth_failed", False)
    if status == 403:
        return error("forbidden", False)
    if status == 408:
        return error("timeout", True)
    if status == 409:
        return error("upstream_unavailable", True)
    # CometAPI reports some bad requests as a 500 with code invalid_request (api.md §5).
    if code == "invalid_request" or (status is None and "invalid_request" in kind):
        return error("invalid_request", False, _rejection(shown, status))
    if status is None or status >= 500:
        return error("upstream_unavailable", True)
    return error("invalid_request", False, _rejection(shown, status))


def error_from_exception(exc: httpx.HTTPError) -> UpstreamError:
    """The error for a request that got no usable answer at all."""
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError("timeout", MESSAGES["timeout"], retryable=True)
    if isinstance(exc, httpx.TransportError):
        return UpstreamError("connection_failed", MESSAGES["connection_failed"], retryable=True)
    # Undecodable content, too many redirects: the answer itself is broken.
    return UpstreamError("bad_response", MESSAGES["bad_response"], retryable=False)


def should_retry_header(headers: Mapping[str, str]) -> bool | None:
    """The `x-should-retry` override (openai-python honours it), or None when absent."""
    value = headers.get("x-should-retry", "").strip().lower()
    return {"true": True, "false": False}.get(value)


def retry_after_seconds(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds to wait from `retry-after-ms`, else `retry-after` (seconds or an HTTP date)."""
    seconds: float | None = None
    try:
        seconds = float(headers["retry-after-ms"]) / 1000
    except (KeyError, ValueError):
        value = headers.get("retry-after", "")
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = email.utils.parsedate_to_datetime(value).timestamp() - now()
            except (TypeError, ValueError):
                return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def safe_text(text: str) -> str:
    """Upstream text fit to show or log: no key (even masked), one line, trimmed."""
    key = settings.COMETAPI_KEY
    if key:
        text = text.replace(key, "[redacted]")
    text = " ".join(_KEY_LIKE.sub("[redacted]", text).split())
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "…"


def _rejection(shown: str, status: int | None) -> str:
    if shown:
        return REJECTED_WITH_REASON % {"detail": shown}
    return REJECTED_WITH_STATUS % {"status": status}


def _text(value: Any) -> str:
    # Codes are strings in OpenAI's envelope, but Cloudflare's edge sends integers.
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)


class AttemptFailed(Exception):
    """One failed attempt, and whether an automatic retry is allowed."""

    def __init__(self, error: UpstreamError, *, auto_retry: bool | None = None) -> None:
        super().__init__(error.code)
        self.error = error
        # None: follow the error's own flag; the x-should-retry header or a started stream decide
        # otherwise.
        self.auto_retry = error.retryable if auto_retry is None else auto_retry


def run_with_retries[T](
    attempt: Callable[[], T],
    *,
    what: str,
    max_retries: int,
    sleep: Callable[[float], None],
    time_left: Callable[[], float] | None = None,
) -> tuple[T, int]:
    """Run `attempt` until it succeeds or may not be retried; returns (value, attempts made).

    Logs one WARNING line per failed attempt and raises the last UpstreamError.
    """
    retries = 0
    while True:
        try:
            return attempt(), retries + 1
        except AttemptFailed as failed:
            error = failed.error
            error.attempts = retries + 1
            delay = retry_delay(failed, retries, max_retries)
            if delay is not None and time_left is not None and delay >= time_left():
                delay = None
            logger.warning(
                "%s failed: code=%s status=%s request_id=%s attempt=%d %s",
                what,
                error.code,
                error.status,
                error.request_id or "-",
                error.attempts,
                "not retrying" if delay is None else f"retrying in {delay:.2f}s",
            )
            if delay is None:
                raise error from None
            sleep(delay)
            retries += 1


def retry_delay(failed: AttemptFailed, retries_taken: int, max_retries: int) -> float | None:
    """Seconds to wait before the next attempt, or None to give up."""
    if not failed.auto_retry or retries_taken >= max_retries:
        return None
    retry_after = failed.error.retry_after
    if retry_after is not None:
        if retry_after > MAX_RETRY_AFTER:
            return None  # the upstream wants minutes: let the person decide
        return retry_after
    backoff = min(INITIAL_RETRY_DELAY * 2**retries_taken, MAX_RETRY_DELAY)
    return backoff * (1 - 0.25 * random.random())
