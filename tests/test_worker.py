"""Jobs on the durable backend: django-tasks-db's worker loop here, and real `run_workers`
processes (started, stopped and killed) on a SQLite database file they share with the test."""

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.tasks import TaskResultStatus
from django.test import TestCase
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from gallery.ingest import InvalidImage
from imagegen import service, tasks
from imagegen.forms import GenerateForm
from imagegen.models import Generation, WorkerProcess
from imagegen.offline import RETIRED
from imagegen.recovery import recover
from imagegen.submissions import submit_generation
from imagegen.tasks import this_worker_id
from imagegen.worker import Options, WorkerGroup
from tests.studio_process import (
    StudioDatabase,
    manage,
    start,
    studio_environment,
    submit_jobs,
    wait_for,
)


def run_queued_tasks() -> None:
    """Run every waiting task with django-tasks-db's own worker loop, in this thread."""
    Worker(
        queue_names=["default"],
        excluded_queue_names=[],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"{this_worker_id()}/0",
    ).run()


@pytest.fixture
def durable(settings) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


MODEL = "gpt-image-2"  # base64 results, several to a request
PARAMETERS = {"size": "1024x1024", "quality": "low", "output_format": "png"}


def submit(owner, **data: Any) -> Generation:
    data = {"model": MODEL, "prompt": "a kite", "n": 1, **PARAMETERS} | data
    form = GenerateForm(data=data)
    assert form.is_valid(), form.errors
    assert form.spec.name == data["model"]  # not a stand-in for a model new jobs may not use
    with TestCase.captureOnCommitCallbacks(execute=True):  # the request's commit
        return submit_generation(owner, form)


def test_a_submitted_job_waits_in_the_database_until_a_worker_runs_it(alice, durable) -> None:
    generation = submit(alice, n=2)
    task = DBTaskResult.objects.get()
    assert (generation.status, task.status) == ("queued", TaskResultStatus.READY)
    assert task.args_kwargs["args"] == [str(generation.pk)]
    run_queued_tasks()
    generation.refresh_from_db()
    task.refresh_from_db()
    assert generation.status == "succeeded"
    assert generation.images.count() == 2
    assert (generation.runs, generation.worker_id) == (1, this_worker_id())
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert task.return_value == "succeeded"


def test_a_job_cancelled_while_queued_never_runs(alice, durable) -> None:
    generation = submit(alice)
    assert generation.cancel()
    run_queued_tasks()
    generation.refresh_from_db()
    assert (generation.status, generation.runs, generation.started_at) == ("cancelled", 0, None)
    assert not generation.images.exists()
    assert DBTaskResult.objects.get().return_value == "cancelled"


def test_a_job_cancelled_while_the_upstream_works_saves_nothing(
    alice, durable, monkeypatch, media_root: Path
) -> None:
    generation = submit(alice, n=2)
    real_generate = service.generate

    def generate_then_cancel(*args: Any, **kwargs: Any) -> Any:
        result = real_generate(*args, **kwargs)
        Generation.objects.get(pk=generation.pk).cancel()  # the person pressed Cancel
        return result

    monkeypatch.setattr(service, "generate", generate_then_cancel)
    run_queued_tasks()
    generation.refresh_from_db()
    assert generation.status == "cancelled"
    assert not generation.images.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_some_images_saved_and_some_failed_is_done_on_the_durable_backend(
    alice, durable, monkeypatch
) -> None:
    real_ingest = tasks.ingest_image

    def ingest_all_but_the_second(generation: Generation, index: int, *args: Any, **kw: Any):
        if index == 1:
            raise InvalidImage("The image could not be read.")
        return real_ingest(generation, index, *args, **kw)

    monkeypatch.setattr(tasks, "ingest_image", ingest_all_but_the_second)
    generation = submit(alice, n=3)
    run_queued_tasks()
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert sorted(generation.images.values_list("index", flat=True)) == [0, 2]
    assert (generation.images_failed, generation.error_code) == (1, "bad_image")


def test_a_job_that_raises_is_a_failed_task_and_recovery_fails_the_job(
    alice, durable, monkeypatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "generate", broken)
    WorkerProcess.objects.create(worker_id=this_worker_id(), seen_at=timezone.now())
    generation = submit(alice)
    run_queued_tasks()
    task = DBTaskResult.objects.get()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == "builtins.RuntimeError"
    assert recover().worker_error == 1
    generation.refresh_from_db()
    assert (generation.status, generation.error_code) == ("failed", "worker_error")


# Housekeeping starts its chores (the orphan sweep, the model sync) as child processes.


def chores_started_at_start(monkeypatch: pytest.MonkeyPatch, *, sweep: bool = True) -> list[str]:
    """The chores one round of a process's housekeeping starts, the round it begins with."""
    group = WorkerGroup(Options(threads=1, interval=1.0, grace=0.0, sweep=sweep))
    started: list[str] = []
    monkeypatch.setattr(group, "start_chore", started.append)
    monkeypatch.setattr(connections, "close_all", lambda: None)  # the test's own connection
    group.housekeeping_done.set()  # one round, then return
    group.housekeep()
    return started


def test_housekeeping_reads_the_live_model_list_as_a_worker_starts(
    db, durable, settings, monkeypatch
) -> None:
    settings.MODEL_SYNC_INTERVAL = 21600
    assert chores_started_at_start(monkeypatch) == ["sync_models"]
    assert WorkerProcess.objects.filter(worker_id=this_worker_id()).exists()  # and beat


def test_housekeeping_never_syncs_the_models_when_model_sync_interval_is_0(
    db, durable, settings, monkeypatch
) -> None:
    settings.MODEL_SYNC_INTERVAL = 0
    assert chores_started_at_start(monkeypatch) == []
    assert WorkerProcess.objects.filter(worker_id=this_worker_id()).exists()  # the round ran


def test_only_the_sweeping_process_of_a_group_syncs_the_models(
    db, durable, settings, monkeypatch
) -> None:
    settings.MODEL_SYNC_INTERVAL = 21600
    assert chores_started_at_start(monkeypatch, sweep=False) == []


class FakeChild:
    """A chore's child process: running until the test says it has finished."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.exit_status: int | None = None

    def poll(self) -> int | None:
        return self.exit_status


class FakeChildren:
    """Stands in for subprocess.Popen, and remembers every child it started."""

    def __init__(self) -> None:
        self.started: list[FakeChild] = []

    def __call__(self, command: list[str], **kwargs: Any) -> FakeChild:
        self.started.append(FakeChild(command))
        return self.started[-1]


def test_a_chore_still_running_is_not_started_again(monkeypatch) -> None:
    children = FakeChildren()
    monkeypatch.setattr("imagegen.worker.subprocess.Popen", children)
    group = WorkerGroup(Options(threads=1, interval=1.0, grace=0.0))
    group.start_chore("sync_models")
    group.start_chore("sync_models")  # the upstream is slow today: the first still waits
    group.start_chore("sweep_orphan_files")  # another chore is not held up by it
    assert [child.command[2:4] for child in children.started] == [
        ["django", "sync_models"],
        ["django", "sweep_orphan_files"],
    ]
    children.started[0].exit_status = 0
    group.start_chore("sync_models")
    assert [child.command[3] for child in children.started][2:] == ["sync_models"]


# Real worker processes. The database is a SQLite file made by a real `migrate`, shared by the
# workers and the test, which reads it with plain SQL (the test's own Django database is another).


class Studio:
    """A database file, a media root and the worker processes started on them."""

    def __init__(self, directory: Path, template: Path) -> None:
        self.directory = directory
        self.database = directory / "studio.sqlite3"
        shutil.copy(template, self.database)
        self.media = directory / "media"
        self.env = studio_env(self.database, self.media)
        self.db = StudioDatabase(self.env["DATABASE_URL"])
        self.processes: list[subprocess.Popen[bytes]] = []

    def submit(self, count: int = 1, **parameters: Any) -> list[str]:
        return submit_jobs(self.env, MODEL, {"n": 1, **PARAMETERS} | parameters, count)

    def start_workers(self, *arguments: str, **env: str) -> subprocess.Popen[bytes]:
        """`run_workers` (its own supervisor: `--processes` as given, 1 by default)."""
        log = self.directory / f"worker-{len(self.processes)}.log"
        command = ["manage.py", "run_workers", "--interval=0.1", *arguments]
        process = start(self.env | env, command, log)
        self.processes.append(process)
        return process

    def rows(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        return self.db.rows(sql, *parameters)

    def change(self, sql: str, *parameters: Any) -> None:
        self.db.change(sql, *parameters)

    def upstream(self) -> dict[str, tuple[int, str | None]]:
        """What the live model list says of each model: (offered, shutdown date)."""
        rows = self.rows("SELECT name, offered, shutdown_on FROM imagegen_upstreammodel")
        return {name: (offered, day) for name, offered, day in rows}

    def job(self, pk: str) -> dict[str, Any]:
        columns = "status, runs, error_code, worker_id, started_at, finished_at"
        sql = f"SELECT {columns} FROM imagegen_generation WHERE id = ?"  # noqa: S608
        return dict(zip(columns.split(", "), self.rows(sql, pk)[0], strict=True))

    def images(self, pk: str) -> list[int]:
        sql = 'SELECT "index" FROM gallery_image WHERE generation_id = ? ORDER BY "index"'
        return [index for (index,) in self.rows(sql, pk)]

    def task_statuses(self) -> list[str]:
        return sorted(
            s for (s,) in self.rows("SELECT status FROM django_tasks_database_dbtaskresult")
        )

    def workers_seen(self) -> list[int]:
        """The process ids of the worker processes that have a record."""
        rows = self.rows("SELECT worker_id FROM imagegen_workerprocess")
        return sorted(int(worker_id.rsplit(":", 1)[1]) for (worker_id,) in rows)

    def orphan_files(self) -> set[str]:
        stored = {str(p.relative_to(self.media)) for p in self.media.rglob("*") if p.is_file()}
        names = self.rows("SELECT file, thumbnail, grid FROM gallery_image")
        return stored - {name for row in names for name in row}

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        # Sized for a loaded machine: a worker process's start alone takes seconds there.
        logs = sorted(self.directory.glob("worker-*.log"))
        wait_for(condition, timeout, "the workers to get there", logs)


def studio_env(database: Path, media: Path) -> dict[str, str]:
    return studio_environment(
        database, media, OFFLINE_LATENCY="3", WORKER_STALE_AFTER="2", ORPHAN_SWEEP_INTERVAL="0"
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database for the module; each test works on its own copy."""
    directory = tmp_path_factory.mktemp("template")
    manage(studio_env(directory / "db.sqlite3", directory / "media"), "migrate", "-v0")
    return directory / "db.sqlite3"


@pytest.fixture
def studio(tmp_path: Path, template: Path) -> Iterator[Studio]:
    studio = Studio(tmp_path, template)
    yield studio
    for process in studio.processes:  # whatever a failed test left running
        if process.poll() is None:
            process.kill()
            process.wait()


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_a_job_of_a_killed_worker_is_retried_by_the_next_and_saved_once(studio: Studio) -> None:
    [pk] = studio.submit(n=2)
    first = studio.start_workers("--processes=1", "--threads=2")
    studio.wait_for(lambda: studio.job(pk)["status"] == "running")
    first.kill()  # SIGKILL: no chance to clean up
    first.wait()
    assert studio.job(pk)["status"] == "running"
    second = studio.start_workers("--processes=1", "--threads=2")
    studio.wait_for(lambda: studio.job(pk)["status"] == "succeeded")
    assert studio.job(pk)["runs"] == 2
    assert studio.images(pk) == [0, 1]
    assert not studio.orphan_files()
    # The killed run's task no longer claims to be running; the retry's ended well.
    studio.wait_for(lambda: studio.task_statuses() == ["FAILED", "SUCCESSFUL"])
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0
    assert studio.workers_seen() == [first.pid]  # a clean exit removes its record


def test_a_job_killed_twice_is_failed_with_a_reason(studio: Studio) -> None:
    [pk] = studio.submit()
    for run in (1, 2):
        worker = studio.start_workers("--processes=1", "--threads=1")
        studio.wait_for(lambda run=run: studio.job(pk)["runs"] == run)
        worker.kill()
        worker.wait()
    studio.start_workers("--processes=1", "--threads=1")
    studio.wait_for(lambda: studio.job(pk)["status"] == "failed")
    assert studio.job(pk)["error_code"] == "worker_lost"
    assert studio.images(pk) == []
    assert not studio.orphan_files()


def test_jobs_run_at_once_in_several_threads_of_several_processes(studio: Studio) -> None:
    supervisor = studio.start_workers("--processes=2", "--threads=3", OFFLINE_LATENCY="1.5")
    studio.wait_for(lambda: len(studio.workers_seen()) == 2)
    ids = studio.submit(count=6)
    studio.wait_for(lambda: all(studio.job(pk)["status"] == "succeeded" for pk in ids))
    jobs = [studio.job(pk) for pk in ids]
    assert len({job["worker_id"] for job in jobs}) == 2
    starts = sorted(when(job["started_at"]) for job in jobs)
    first_end = min(when(job["finished_at"]) for job in jobs)
    assert sum(start < first_end for start in starts) >= 4  # more than one process's threads
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=60) == 0
    assert studio.workers_seen() == []


def test_a_stopped_worker_finishes_its_running_job_first(studio: Studio) -> None:
    [pk] = studio.submit()
    worker = studio.start_workers("--processes=1", "--threads=1", OFFLINE_LATENCY="1.5")
    studio.wait_for(lambda: studio.job(pk)["status"] == "running")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    assert studio.job(pk)["status"] == "succeeded"


def test_a_job_cut_short_by_the_grace_period_is_retried_at_the_next_start(
    studio: Studio,
) -> None:
    [pk] = studio.submit()
    worker = studio.start_workers("--processes=1", "--threads=1", "--grace=0.2")
    studio.wait_for(lambda: studio.job(pk)["status"] == "running")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 1  # the job was not done
    assert studio.workers_seen() == []  # so recovery need not wait for its record to go stale
    studio.start_workers("--processes=1", "--threads=1", OFFLINE_LATENCY="0.5")
    studio.wait_for(lambda: studio.job(pk)["status"] == "succeeded")
    assert studio.job(pk)["runs"] == 2


def test_a_job_past_the_deadline_is_failed_and_saves_nothing(studio: Studio) -> None:
    [pk] = studio.submit()
    studio.start_workers(
        "--processes=1",
        "--threads=1",
        GENERATION_DEADLINE="1",
        COMETAPI_READ_TIMEOUT="0.5",
        OFFLINE_LATENCY="3",
    )
    studio.wait_for(lambda: studio.job(pk)["status"] == "failed")
    assert studio.job(pk)["error_code"] == "deadline"
    # The run itself ends after the upstream answers, and keeps nothing.
    studio.wait_for(lambda: studio.task_statuses() == ["SUCCESSFUL"])
    assert studio.images(pk) == []
    assert not list(studio.media.rglob("*.png"))


def test_a_running_job_cancelled_from_another_process_saves_nothing(studio: Studio) -> None:
    [pk] = studio.submit(n=2)
    studio.start_workers("--processes=1", "--threads=1", OFFLINE_LATENCY="2")
    studio.wait_for(lambda: studio.job(pk)["status"] == "running")
    cancel = f"from imagegen.models import Generation; Generation.objects.get(pk='{pk}').cancel()"
    manage(studio.env, "shell", "-v0", "-c", cancel)
    studio.wait_for(lambda: studio.task_statuses() == ["SUCCESSFUL"])
    assert studio.job(pk)["status"] == "cancelled"
    [(returned,)] = studio.rows("SELECT return_value FROM django_tasks_database_dbtaskresult")
    assert json.loads(returned) == "cancelled"
    assert studio.images(pk) == []
    assert not list(studio.media.rglob("*.png"))


def test_a_worker_sweeps_away_old_files_that_no_image_refers_to(studio: Studio) -> None:
    orphan = studio.media / "originals" / "2026" / "11" / "left-by-a-killed-ingest.png"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half an image")
    two_hours_ago = time.time() - 7200
    os.utime(orphan, (two_hours_ago, two_hours_ago))
    studio.start_workers("--processes=1", "--threads=1", ORPHAN_SWEEP_INTERVAL="0.5")
    studio.wait_for(lambda: not orphan.exists())


def test_a_worker_purges_images_kept_in_the_trash_too_long(studio: Studio) -> None:
    [pk] = studio.submit()
    studio.start_workers("--processes=1", "--threads=1", ORPHAN_SWEEP_INTERVAL="0.5")
    studio.wait_for(lambda: studio.images(pk) == [0])
    [(original, thumbnail)] = studio.rows(
        "SELECT file, thumbnail FROM gallery_image WHERE generation_id = ?", pk
    )
    files = [studio.media / original, studio.media / thumbnail]
    assert all(path.exists() for path in files)
    studio.change("UPDATE gallery_image SET trashed_at = '2026-01-01 00:00:00'")
    studio.wait_for(lambda: studio.images(pk) == [] and not any(p.exists() for p in files))


def test_a_worker_reads_the_live_model_list_at_start_and_on_its_schedule(studio: Studio) -> None:
    studio.start_workers("--processes=1", "--threads=1", MODEL_SYNC_INTERVAL="0.5")
    # No key: the offline provider answered, as the real upstream would (api.md §8).
    studio.wait_for(lambda: studio.upstream().get("gpt-image-2") == (1, "2027-04-21"))
    live = studio.upstream()
    assert {name: live[name] for name in RETIRED} == dict.fromkeys(RETIRED, (0, None))
    assert live["flux-2-pro"] == (1, None)
    # A later sync puts right what changed since.
    studio.change("UPDATE imagegen_upstreammodel SET offered = 0 WHERE name = 'qwen-image'")
    studio.wait_for(lambda: studio.upstream()["qwen-image"] == (1, None))
    logs = "".join(log.read_text() for log in studio.directory.glob("worker-*.log"))
    assert "Could not read" not in logs


def test_a_worker_leaves_the_model_list_alone_when_model_sync_interval_is_0(
    studio: Studio,
) -> None:
    [pk] = studio.submit()
    worker = studio.start_workers("--processes=1", "--threads=1", MODEL_SYNC_INTERVAL="0")
    studio.wait_for(lambda: studio.job(pk)["status"] == "succeeded")  # 3 s of offline latency
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    assert studio.upstream() == {}
