"""/healthz and /readyz (imagegen/health.py): in this process, and in studio processes whose
database, storage or queue is really missing."""

import json
import logging
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from imagegen.models import WorkerProcess
from imagegen.tasks import run_generation
from tests.postgres import free_port
from tests.studio_process import REPO, manage, studio_environment

PROBE = """
from django.test import Client
response = Client().get("/readyz")
print(response.status_code, response.content.decode())
"""


def probe_studio(environment: dict[str, str]) -> tuple[int, dict]:
    """GET /readyz inside a studio process of its own (its settings, its database)."""
    finished = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "shell", "-v0", "-c", PROBE],
        cwd=REPO,
        env=environment | {"ALLOWED_HOSTS": "testserver"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    status, body = finished.stdout.strip().splitlines()[-1].split(" ", 1)
    return int(status), json.loads(body)


def test_healthz_answers_ok_to_anyone_without_touching_the_database(db) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = Client().get("/healthz", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert len(queries) == 0
    assert "Set-Cookie" not in response
    assert "Content-Encoding" not in response  # two bytes are not worth compressing
    assert "no-cache" in response["Cache-Control"]


def test_the_probes_answer_get_and_head_only(db) -> None:
    assert Client().post("/healthz").status_code == 405
    assert Client().post("/readyz").status_code == 405
    assert Client().head("/readyz").status_code == 200


def test_readyz_counts_the_queued_jobs_and_the_live_workers(db, settings) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    run_generation.enqueue("00000000-0000-0000-0000-000000000001")
    run_generation.enqueue("00000000-0000-0000-0000-000000000002")
    now = timezone.now()
    WorkerProcess.objects.create(worker_id="web-1:10", seen_at=now)
    stale = now - timedelta(seconds=settings.WORKER_STALE_AFTER + 1)
    WorkerProcess.objects.create(worker_id="web-2:20", seen_at=stale)

    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "queued": 2, "workers": 1}
    assert "Set-Cookie" not in response
    assert "no-cache" in response["Cache-Control"]


def test_readyz_with_no_worker_running_is_still_ready(db) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "queued": 0, "workers": 0}


def test_a_ready_probe_writes_no_log_line(db, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert Client().get("/readyz").status_code == 200
    assert Client().get("/healthz").status_code == 200
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


def test_readyz_is_ready_on_object_storage(db, s3) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content


def test_readyz_names_a_missing_bucket_and_only_logs_why(
    db, s3, settings, caplog: pytest.LogCaptureFixture
) -> None:
    storage = settings.STORAGES["default"]
    missing = {**storage, "OPTIONS": {**storage["OPTIONS"], "bucket_name": "no-such-bucket"}}
    settings.STORAGES = {**settings.STORAGES, "default": missing}

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failed": ["storage"]}
    assert "readyz: storage failed" in caplog.text


def test_readyz_names_a_database_that_does_not_answer(tmp_path: Path) -> None:
    password = "do-not-show-this-password"
    unreachable = f"postgres://studio:{password}@127.0.0.1:{free_port()}/studio"
    environment = studio_environment(tmp_path / "unused.sqlite3", tmp_path / "media")
    status, body = probe_studio(environment | {"DATABASE_URL": unreachable})
    assert (status, body) == (503, {"status": "unavailable", "failed": ["database"]})


def test_readyz_names_storage_it_cannot_write_to(tmp_path: Path) -> None:
    database = tmp_path / "studio.sqlite3"
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("media cannot live under a file")
    environment = studio_environment(database, not_a_directory / "media")
    manage(environment, "migrate", "-v0")
    status, body = probe_studio(environment)
    assert (status, body) == (503, {"status": "unavailable", "failed": ["storage"]})


def test_readyz_names_a_queue_it_cannot_read(tmp_path: Path) -> None:
    # A database that answers but was never migrated: no queue table.
    environment = studio_environment(tmp_path / "empty.sqlite3", tmp_path / "media")
    status, body = probe_studio(environment)
    assert (status, body) == (503, {"status": "unavailable", "failed": ["queue"]})


def test_readyz_in_a_migrated_studio_process_is_ready(tmp_path: Path) -> None:
    environment = studio_environment(tmp_path / "studio.sqlite3", tmp_path / "media")
    manage(environment, "migrate", "-v0")
    status, body = probe_studio(environment)
    assert (status, body) == (200, {"status": "ok", "queued": 0, "workers": 0})


def test_the_probes_answer_plain_http_where_every_page_redirects_to_https(db, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/readyz").status_code == 200
    assert Client().get("/accounts/login/").status_code == 301
