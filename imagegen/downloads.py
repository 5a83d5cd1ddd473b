"""Fetching URL results, bounded in size and time and checked to be images.

URL results expire (an hour on OpenAI, api.md §1), so they are fetched at once. Used through
`imagegen.service.download_image`, which supplies a client that carries no API key.

Memory is bounded per process, whatever the number of threads downloading at once: a body is
written to a temporary file as it arrives (only its first SPOOL_IN_MEMORY bytes stay in memory),
and it is read into memory for ingest only within DOWNLOAD_MEMORY_BUDGET, a byte budget shared by
the process's threads. Ingest needs the whole file in memory (Pillow verifies it, the metadata is
spliced into a copy of it), so the budget counts IN_MEMORY_COPIES copies of each image's bytes
until ingest is done with them; a thread waits for its turn when the budget is spent. A download
never waits for the budget, so a slow turn cannot make it time out.
"""

import contextlib
import ctypes
import ipaddress
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import IO

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
# A body past this many bytes goes on to disk as it arrives: a few threads' small results stay
# in memory, 64 threads' large ones do not.
SPOOL_IN_MEMORY = 64 * 1024
# Held in memory at once while an image is ingested: the bytes as downloaded, and the copy with
# the metadata spliced in (gallery.embedding): measured, ingest of a 20 MB PNG allocated 1.08
# times its size beyond it. Pillow's decoded pixels are not counted (README).
IN_MEMORY_COPIES = 2


class MemoryBudget:
    """Bytes a process's threads may hold in memory at once; a reservation waits its turn.

    A reservation larger than the whole budget is cut to it: it waits until nothing else is
    held, then goes alone, so one image above the budget is still kept."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.held = 0
        self.peak = 0  # the most ever held at once, for the tests and the bench
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def reserve(self, size: int) -> Iterator[None]:
        size = min(size, self.capacity)
        with self._changed:
            self._changed.wait_for(lambda: self.held + size <= self.capacity)
            self.held += size
            self.peak = max(self.peak, self.held)
        try:
            yield
        finally:
            with self._changed:
                self.held -= size
                self._changed.notify_all()


_budget: MemoryBudget | None = None
_budget_lock = threading.Lock()
M_MMAP_THRESHOLD = -3  # glibc's mallopt() parameter


def memory_budget() -> MemoryBudget:
    """The process's budget, made on first use from DOWNLOAD_MEMORY_BUDGET."""
    global _budget
    with _budget_lock:
        if _budget is None:
            _give_large_blocks_back()
        if _budget is None or _budget.capacity != settings.DOWNLOAD_MEMORY_BUDGET:
            _budget = MemoryBudget(settings.DOWNLOAD_MEMORY_BUDGET)  # a test's setting too
        return _budget


def _give_large_blocks_back() -> None:
    """Blocks of 1 MiB and more are mapped for themselves and unmapped when freed.

    glibc raises that threshold each time such a block is freed, after which image-sized blocks
    come from its per-thread arenas, which keep them: 64 threads held up to 16 arenas of images
    long gone (measured: 156 MB resident for a 16 MiB budget, 51 MB with this)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its allocator's own policy
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 1024 * 1024)


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


@contextlib.contextmanager
def fetched_image(
    client: httpx.Client,
    url: str,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    max_retries: int,
) -> Iterator[bytes]:
    """The image at `url`, within DOWNLOAD_TIMEOUT seconds in all, retries included: fetched to
    a temporary file, then held in memory within the process's budget until the block ends."""
    deadline = clock() + settings.DOWNLOAD_TIMEOUT
    body, _attempts = run_with_retries(
        lambda: _fetch_once(client, url, deadline, clock),
        what=f"image download host={_host_of(url)}",
        max_retries=max_retries,
        sleep=sleep,
        time_left=lambda: deadline - clock(),
    )
    with body:
        size = body.seek(0, 2)
        body.seek(0)
        with memory_budget().reserve(IN_MEMORY_COPIES * size):
            yield body.read()


def _fetch_once(
    client: httpx.Client, url: str, deadline: float, clock: Callable[[], float]
) -> IO[bytes]:
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


def _read_bounded(
    response: httpx.Response, deadline: float, clock: Callable[[], float]
) -> IO[bytes]:
    """The body in a temporary file (in memory up to SPOOL_IN_MEMORY), checked to start like an
    image; deleted when closed."""
    limit = settings.DOWNLOAD_MAX_BYTES
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _failed(gettext_noop("the image is too large"), retryable=False)
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (returned)
    try:
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)  # decoded bytes, so a compressed body cannot balloon past the limit
            if total > limit:
                raise _failed(gettext_noop("the image is too large"), retryable=False)
            if clock() > deadline:
                raise _failed(gettext_noop("it took too long"), retryable=True)
            body.write(chunk)
        body.seek(0)
        if not looks_like_image(body.read(_SVG_SNIFF)):
            raise _failed(gettext_noop("the link did not lead to an image"), retryable=False)
    except BaseException:
        body.close()
        raise
    return body


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
