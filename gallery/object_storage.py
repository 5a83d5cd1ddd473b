"""django-storages' S3 backend, with one boto3 session for all of a process's threads, and signed
URLs handed out again while they are young.

The backend gives each thread its own boto3 resource (resources are not thread-safe), made from a
new session each time; a new session loads S3's service model again. A worker runs 64 threads
(WORKER_THREADS): measured, their first calls took 479 MB and 26 s of CPU that way, and 98 MB and
2.4 s with one session shared, each thread still getting its own resource (made under a lock: a
session is not thread-safe either). imagegen.environment.object_storage names this class.

A signed URL carries the second it was signed, so a new one for every request is a new address
each time: a browser could never reuse the thumbnail it fetched a minute ago, and every gallery
page would download every tile again. The same file with the same answer headers gets the same
URL for the first half of its life (AWS_QUERYSTRING_EXPIRE / 2), so a URL handed out always has at
least half its life left. The view that redirects to it still checks access on every request and
is never cached (gallery/media.py), so a revoked share reaches no kept URL.

Pages show those files as <img> whose view redirects to the bucket, and a browser checks a
redirect's target against the page's Content-Security-Policy: BucketImagesAllowed adds the
bucket's origin (as botocore spells its URLs) to `img-src`, or every tile would be blocked.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.utils.csp import CSP, build_policy
from storages.backends import s3

# Signed URLs a process keeps for reuse, the least recently handed out dropped first: a few
# megabytes at most, enough for the tiles of many people's open galleries.
SIGNED_URLS_KEPT = 10_000


class S3Storage(s3.S3Storage):
    _lock = threading.Lock()
    _sessions: dict[tuple[Any, ...], Any] = {}

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._signed_urls: OrderedDict[tuple[Any, ...], tuple[str, float]] = OrderedDict()
        self._signed_urls_lock = threading.Lock()

    @property
    def connection(self) -> Any:
        connection = getattr(self._connections, "connection", None)
        if connection is None:
            with self._lock:
                connection = super().connection
        return connection

    def _create_session(self) -> Any:  # called under the lock, by `connection`
        identity = (self.session_profile, self.access_key, self.secret_key, self.security_token)
        if identity not in self._sessions:
            self._sessions[identity] = super()._create_session()
        return self._sessions[identity]

    def url(
        self,
        name: str,
        parameters: dict[str, str] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        if expire is not None or http_method is not None:
            return super().url(name, parameters, expire, http_method)  # asked for: not kept
        asked = (name, tuple(sorted((parameters or {}).items())))
        now = time.time()
        with self._signed_urls_lock:
            kept = self._signed_urls.get(asked)
            # Signed in the first half of its life, and not in the future (a clock set back).
            if kept is not None and kept[1] <= now < kept[1] + self.querystring_expire / 2:
                self._signed_urls.move_to_end(asked)
                return kept[0]
        url = super().url(name, parameters)
        with self._signed_urls_lock:
            self._signed_urls[asked] = (url, now)
            self._signed_urls.move_to_end(asked)
            while len(self._signed_urls) > SIGNED_URLS_KEPT:
                self._signed_urls.popitem(last=False)
        return url

    @cached_property
    def origin(self) -> str:
        """Where browsers fetch this storage's files from: scheme and host of its signed URLs,
        which botocore builds from the endpoint, the region and the addressing style."""
        address = urlsplit(super().url("origin"))
        return f"{address.scheme}://{address.netloc}"


class BucketImagesAllowed:
    """Middleware, after Django's CSP middleware in MIDDLEWARE (so it answers first): with object
    storage, each page's policy lets images come from the bucket too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origin = getattr(default_storage, "origin", None)
        if origin and settings.SECURE_CSP and CSP.HEADER_ENFORCE not in response:
            policy = dict(settings.SECURE_CSP)
            policy["img-src"] = [*policy.get("img-src", ["'self'"]), origin]
            # Django's middleware leaves a policy already set alone.
            response.headers[CSP.HEADER_ENFORCE] = build_policy(policy, get_nonce(request))
        return response
