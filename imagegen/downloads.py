"""Fetching URL results, bounded in size and time and checked to be images.

URL results expire (an hour on OpenAI, api.md §1), so they are fetched at once. Used through
`imagegen.service.download_image`, which supplies a client that carries no API key.
"""

import ipaddress
import re
from collections.abc import Callable

import httpx
from django.conf import settings
from django.utils.translation import gettext_noop

from imagegen.job_messages import DOWNLOAD_FAILED, DOWNLOAD_HOST_STATUS
from imagegen.upstream_errors import (
    AttemptFailed,
    UpstreamError,
    retry_after_seconds,
    run_with_retries,
)

MAX_REDIRECTS = 3
_IMAGE_STARTS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
# An SVG document: an optional BOM, whitespace, XML declaration and comments, then the <svg root.
# Nothing else may come first: not a DOCTYPE (ingest refuses those), and so never an HTML page.
_SVG_START = re.compile(
    rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml\s[^<>]*\?>\s*)?(?:<!--(?:(?!-->).)*-->\s*)*<svg[\s/>]",
    re.DOTALL,
)
# How far into the bytes the <svg root is looked for; a longer preamble is not a generated image.
_SVG_SNIFF = 64 * 1024


def looks_like_image(data: bytes) -> bool:
    """Whether `data` starts like a PNG, JPEG, GIF, WebP or SVG file (ingest verifies it later)."""
    return (
        data.startswith(_IMAGE_STARTS)
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
        or looks_like_svg(data)
    )


def looks_like_svg(data: bytes) -> bool:
    """Whether `data` is text whose root element is <svg> (gallery.svg decides if it is safe)."""
    return _SVG_START.match(data[:_SVG_SNIFF]) is not None


def fetch_image(
    client: httpx.Client,
    url: str,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    max_retries: int,
) -> bytes:
    """The image at `url`, within DOWNLOAD_TIMEOUT seconds in all, retries included."""
    deadline = clock() + settings.DOWNLOAD_TIMEOUT
    data, _attempts = run_with_retries(
        lambda: _fetch_once(client, url, deadline, clock),
        what=f"image download host={_host_of(url)}",
        max_retries=max_retries,
        sleep=sleep,
        time_left=lambda: deadline - clock(),
    )
    return data


def _fetch_once(
    client: httpx.Client, url: str, deadline: float, clock: Callable[[], float]
) -> bytes:
    for _hop in range(MAX_REDIRECTS + 1):
        remaining = deadline - clock()
        if remaining <= 0:
            raise _failed(gettext_noop("it took too long"), retryable=True)
        # The timeout bounds each read by what is left of the overall deadline.
        request = client.build_request("GET", _checked_url(url), timeout=httpx.Timeout(remaining))
        request.headers.pop("Authorization", None)  # even if handed the API client
        try:
            response = client.send(request, stream=True, follow_redirects=False)
            try:
                if response.is_redirect:
                    url = _redirect_target(response)
                    continue
                _check_status(response)
                return _read_bounded(response, deadline, clock)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise _failed(gettext_noop("it took too long"), retryable=True) from None
        except httpx.HTTPError:
            raise _failed(gettext_noop("the connection failed"), retryable=True) from None
    raise _failed(gettext_noop("it was redirected too many times"), retryable=False)


def _checked_url(url: str) -> httpx.URL:
    """The URL to fetch; every redirect hop is checked again."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = httpx.URL()
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise _failed(gettext_noop("the link is not a web address"), retryable=False)
    if settings.COMETAPI_KEY:  # online: https only, and never an address inside the network
        if parsed.scheme != "https":
            raise _failed(gettext_noop("the link is not https"), retryable=False)
        if _is_internal_host(parsed.host):
            raise _failed(gettext_noop("the link points inside the network"), retryable=False)
    return parsed


def _is_internal_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False  # a name; resolving it here would not stop DNS rebinding anyway


def _redirect_target(response: httpx.Response) -> str:
    try:
        return str(response.url.join(response.headers["location"]))
    except httpx.InvalidURL:
        return ""


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if status == 200:
        return
    if status in {403, 404, 410}:  # what a storage bucket says about an expired signed URL
        reason, retryable = gettext_noop("the link has expired or no longer exists"), False
    elif status in {408, 429} or status >= 500:
        reason, retryable = gettext_noop("the image host is unavailable"), True
    else:
        reason, retryable = DOWNLOAD_HOST_STATUS % {"status": status}, False
    raise _failed(
        reason,
        retryable=retryable,
        status=status,
        retry_after=retry_after_seconds(response.headers),
    )


def _read_bounded(response: httpx.Response, deadline: float, clock: Callable[[], float]) -> bytes:
    limit = settings.DOWNLOAD_MAX_BYTES
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _failed(gettext_noop("the image is too large"), retryable=False)
    chunks, total = [], 0
    for chunk in response.iter_bytes():
        total += len(chunk)  # decoded bytes, so a compressed body cannot balloon past the limit
        if total > limit:
            raise _failed(gettext_noop("the image is too large"), retryable=False)
        if clock() > deadline:
            raise _failed(gettext_noop("it took too long"), retryable=True)
        chunks.append(chunk)
    data = b"".join(chunks)
    if not looks_like_image(data):
        raise _failed(gettext_noop("the link did not lead to an image"), retryable=False)
    return data


def _failed(
    reason: str, *, retryable: bool, status: int | None = None, retry_after: float | None = None
) -> AttemptFailed:
    error = UpstreamError(
        "download_failed",
        DOWNLOAD_FAILED % {"reason": reason},
        retryable=retryable,
        status=status,
        retry_after=retry_after,
    )
    return AttemptFailed(error)


def _host_of(url: str) -> str:
    try:
        return httpx.URL(url).host or "-"
    except (httpx.InvalidURL, TypeError):
        return "-"
