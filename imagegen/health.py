"""Health probes for a load balancer, systemd or a monitor: no sign-in, no session, no cookie.

- `GET /healthz`: this process is up and answering (200 "ok"). It touches nothing else, so a
  database outage never makes a supervisor restart healthy web processes.
- `GET /readyz`: this process can do its work: the database answers a trivial query, the file
  storage answers (local disk or object storage) and the job queue's table can be read. 200 with
  a small JSON of what was checked, or 503 naming what failed (the reason goes to the log, never
  to the answer: it may name hosts or buckets).

Live worker processes are counted as information, not as a condition: a web process with no
worker running still takes submits (they wait in the queue), and taking every web process out of
the load balancer because the workers are down would turn slow jobs into a site that is down.
Monitor `workers` (0 for longer than a restart takes) and `queued` to alert on that instead.
"""

import logging
import os
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult

from imagegen.models import WorkerProcess

logger = logging.getLogger(__name__)

PROBE_NAME = "readyz-probe"  # a key asked about, never written


@login_not_required
@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@login_not_required
@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    failed = []
    for name, check in (("database", check_database), ("storage", check_storage)):
        try:
            check()
        except Exception as error:  # any failure means "not ready"; the log says which
            logger.warning("readyz: %s failed: %s: %s", name, type(error).__name__, error)
            failed.append(name)
    queued = workers = None
    if "database" not in failed:  # the queue lives in the database: no second timeout
        try:
            queued, workers = queue_state()
        except DatabaseError as error:
            logger.warning("readyz: queue failed: %s: %s", type(error).__name__, error)
            failed.append("queue")
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed}, status=503)
    return JsonResponse({"status": "ok", "queued": queued, "workers": workers})


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_storage() -> None:
    """One question the storage must answer; for local disk, also that a file could be saved."""
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        # django-storages' S3: exists() takes a missing bucket for a missing key (both 404), so
        # ask about the bucket: one HEAD answers for the endpoint, the credentials and the bucket.
        default_storage.connection.meta.client.head_bucket(Bucket=bucket)
        return
    default_storage.exists(PROBE_NAME)
    location = getattr(default_storage, "location", None)
    if location is not None:
        # A fresh install has no media directory until its first image: then the nearest
        # existing parent must let this process make it.
        directory = Path(location)
        while not directory.exists() and directory != directory.parent:
            directory = directory.parent
        if not (directory.is_dir() and os.access(directory, os.W_OK | os.X_OK)):
            raise PermissionError(f"cannot write under {location}")


def queue_state() -> tuple[int, int]:
    """Jobs waiting for a worker, and worker processes seen alive lately."""
    queued = DBTaskResult.objects.filter(status=TaskResultStatus.READY).count()
    seen_since = timezone.now() - timedelta(seconds=settings.WORKER_STALE_AFTER)
    workers = WorkerProcess.objects.filter(seen_at__gte=seen_since).count()
    return queued, workers
