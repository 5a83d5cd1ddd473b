"""django-storages' S3 backend, with one boto3 session for all of a process's threads, and signed
URLs that stay the same for half their life.

The backend gives each thread its own boto3 resource (resources are not thread-safe), made from a
new session each time; a new session loads S3's service model again. A worker runs 64 threads
(WORKER_THREADS): measured, their first calls took 479 MB and 26 s of CPU that way, and 98 MB and
2.4 s with one session shared, each thread still getting its own resource (made under a lock: a
session is not thread-safe either). imagegen.environment.object_storage names this class.

A signed URL carries the second it was signed, so a URL signed for every request is a new
address each time: a browser could never reuse the thumbnail it fetched a minute ago, and every
gallery page would download every tile again. So URLs are signed as of the start of a window of
half their life (AWS_QUERYSTRING_EXPIRE / 2): within a window the same file with the same answer
headers gets the same URL from every thread, process and machine (with clocks in step), with
nothing kept or shared, and a URL handed out always has at least half its life left. The view
that redirects to it still checks access on every request and is never cached
(gallery/media.py), so a revoked share reaches no URL.

botocore takes the signing time from botocore.auth.get_current_datetime and offers no argument
for it; that function is replaced, once, by one that answers the window's start while this
module signs (a thread-local), and the real time otherwise.

Pages show those files as <img> whose view redirects to the bucket, and a browser checks a
redirect's target against the page's Content-Security-Policy: S3Storage.origin is what
gallery.media.BucketImagesAllowed adds to `img-src`, or every tile would be blocked. This module
is imported only when object storage is configured (botocore costs every process 0.2 s and
16 MB).
"""

import threading
import time
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
from storages.backends import s3

_signing = threading.local()  # .moment: the time to sign as, while S3Storage.url signs
_current_datetime = botocore.auth.get_current_datetime


def _signing_datetime(remove_tzinfo: bool = True) -> datetime:
    """botocore.auth's clock: the window's start while S3Storage.url signs, else the time."""
    moment = getattr(_signing, "moment", None)
    if moment is None:
        return _current_datetime(remove_tzinfo)
    return moment.replace(tzinfo=None) if remove_tzinfo else moment


botocore.auth.get_current_datetime = _signing_datetime


class S3Storage(s3.S3Storage):
    _lock = threading.Lock()
    _sessions: dict[tuple[Any, ...], Any] = {}

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
            return super().url(name, parameters, expire, http_method)  # asked for: as asked
        window = max(1, self.querystring_expire // 2)
        now = int(time.time())
        _signing.moment = datetime.fromtimestamp(now - now % window, UTC)
        try:
            return super().url(name, parameters)
        finally:
            _signing.moment = None

    @cached_property
    def origin(self) -> str:
        """Where browsers fetch this storage's files from: scheme and host of its signed URLs,
        which botocore builds from the endpoint, the region and the addressing style."""
        address = urlsplit(super().url("origin"))
        return f"{address.scheme}://{address.netloc}"
