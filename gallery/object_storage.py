"""django-storages' S3 backend, with one boto3 session for all of a process's threads.

The backend gives each thread its own boto3 resource (resources are not thread-safe), made from a
new session each time; a new session loads S3's service model again. A worker runs 64 threads
(WORKER_THREADS): measured, their first calls took 479 MB and 26 s of CPU that way, and 98 MB and
2.4 s with one session shared, each thread still getting its own resource (made under a lock: a
session is not thread-safe either). imagegen.settings.object_storage names this class.
"""

import threading
from typing import Any

from storages.backends import s3


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
