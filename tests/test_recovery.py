"""Recovery: jobs left behind by a killed worker, a lost enqueue, a hung upstream or a crash.

Each test sets up the rows such a fault leaves, runs one recovery pass, and checks the outcome;
where a job is queued again, the library's worker loop then runs it on the durable backend.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gallery.ingest import NotWanted, ingest_image
from gallery.models import Image
from imagegen.models import Generation, WorkerProcess
from imagegen.recovery import WORKER_LOST, Recovered, recover
from imagegen.tasks import run_generation
from tests.conftest import png_bytes
from tests.test_worker import run_queued_tasks

DEAD = "gone-host:4242"
ALIVE = "live-host:1717"
MODEL = "gpt-image-2"  # base64 results, several to a request
PARAMETERS = {"size": "1024x1024", "quality": "low", "output_format": "png"}


@pytest.fixture(autouse=True)
def durable(settings) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.WORKER_STALE_AFTER = 30
    settings.GENERATION_DEADLINE = 600


@pytest.fixture
def live_worker(db) -> WorkerProcess:
    return WorkerProcess.objects.create(worker_id=ALIVE, threads=4, seen_at=timezone.now())


def running(owner, worker_id: str, *, runs: int = 1, started: float = 5, n: int = 1) -> Generation:
    """A job a worker claimed `started` seconds ago, with its task row RUNNING as the library
    leaves it."""
    generation = Generation.objects.create(
        owner=owner,
        model_name=MODEL,
        prompt="a lighthouse at dusk",
        parameters={"n": n, **PARAMETERS},
        status=Generation.Status.RUNNING,
        worker_id=worker_id,
        runs=runs,
        started_at=timezone.now() - timedelta(seconds=started),
    )
    task_row(generation, TaskResultStatus.RUNNING, f"{worker_id}/0")
    return generation


def task_row(generation: Generation, status: str, worker_thread: str = "") -> DBTaskResult:
    result = run_generation.enqueue(str(generation.pk))
    DBTaskResult.objects.filter(pk=result.id).update(
        status=status, worker_ids=[worker_thread] if worker_thread else []
    )
    return DBTaskResult.objects.get(pk=result.id)


def tasks_for(generation: Generation, status: str | None = None) -> list[DBTaskResult]:
    rows = DBTaskResult.objects.filter(args_kwargs__args__0=str(generation.pk))
    return list(rows.filter(status=status) if status else rows)


def test_a_job_of_a_killed_worker_is_queued_again_and_then_succeeds(alice) -> None:
    generation = running(alice, DEAD, n=2)
    assert recover() == Recovered(requeued=1, tasks_failed=1)
    generation.refresh_from_db()
    assert generation.status == "queued"
    assert generation.worker_id == ""
    assert len(tasks_for(generation, TaskResultStatus.READY)) == 1
    run_queued_tasks()
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert generation.runs == 2
    assert sorted(generation.images.values_list("index", flat=True)) == [0, 1]


def test_a_job_whose_worker_stopped_being_seen_is_retried(alice) -> None:
    WorkerProcess.objects.create(worker_id=DEAD, seen_at=timezone.now() - timedelta(seconds=31))
    running(alice, DEAD)
    assert recover().requeued == 1


def test_a_job_killed_on_its_second_run_is_failed_with_a_reason(alice) -> None:
    generation = running(alice, DEAD, runs=2)
    assert recover() == Recovered(worker_lost=1, tasks_failed=1)
    generation.refresh_from_db()
    assert generation.status == "failed"
    assert generation.error_code == "worker_lost"
    assert generation.error_message == WORKER_LOST
    assert generation.finished_at is not None
    assert not tasks_for(generation, TaskResultStatus.READY)


def test_the_jobs_of_a_live_worker_are_left_alone(alice, live_worker) -> None:
    generation = running(alice, ALIVE)
    assert recover() == Recovered()
    generation.refresh_from_db()
    assert generation.status == "running"
    assert tasks_for(generation)[0].status == TaskResultStatus.RUNNING


def test_a_retry_keeps_the_image_saved_before_the_kill_and_saves_it_once(
    alice, media_root: Path
) -> None:
    generation = running(alice, DEAD, n=2)
    ingest_image(generation, 0, png_bytes())  # the killed run got this far
    recover()
    run_queued_tasks()
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert Image.objects.filter(generation=generation, index=0).count() == 1
    assert generation.images.count() == 2
    stored = [path for path in media_root.rglob("*") if path.is_file()]
    assert len(stored) == 6  # an original and two thumbnails per image, nothing more


def test_a_job_running_past_the_deadline_is_failed_and_then_saves_nothing(
    alice, live_worker, settings
) -> None:
    settings.GENERATION_DEADLINE = 600
    generation = running(alice, ALIVE, started=601)
    assert recover() == Recovered(past_deadline=1)
    generation.refresh_from_db()
    assert (generation.status, generation.error_code) == ("failed", "deadline")
    with pytest.raises(NotWanted):  # the run, still going, tries to save its image
        ingest_image(generation, 0, png_bytes(), still_wanted=generation.lock_if_running)
    assert not Image.objects.exists()


def test_a_job_within_the_deadline_keeps_running(alice, live_worker) -> None:
    generation = running(alice, ALIVE, started=599)
    recover()
    generation.refresh_from_db()
    assert generation.status == "running"


def test_a_queued_job_whose_enqueue_was_lost_is_enqueued_again(alice) -> None:
    generation = Generation.objects.create(
        owner=alice, model_name=MODEL, prompt="a kite", parameters={"n": 1, **PARAMETERS}
    )
    Generation.objects.filter(pk=generation.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert recover() == Recovered(reenqueued=1)
    assert len(tasks_for(generation, TaskResultStatus.READY)) == 1
    assert recover() == Recovered()  # the new task is waiting: nothing more to do


def test_a_queued_job_whose_task_crashed_before_claiming_it_is_enqueued_again(alice) -> None:
    generation = Generation.objects.create(
        owner=alice, model_name=MODEL, prompt="a kite", parameters={"n": 1, **PARAMETERS}
    )
    task_row(generation, TaskResultStatus.FAILED)
    Generation.objects.filter(pk=generation.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert recover().reenqueued == 1
    assert len(tasks_for(generation, TaskResultStatus.READY)) == 1


def test_a_queued_job_just_submitted_or_waiting_for_a_worker_is_left_alone(alice) -> None:
    fresh = Generation.objects.create(owner=alice, model_name=MODEL, prompt="a kite")
    waiting = Generation.objects.create(owner=alice, model_name=MODEL, prompt="a boat")
    task_row(waiting, TaskResultStatus.READY)
    Generation.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert recover() == Recovered()
    assert not tasks_for(fresh)
    assert len(tasks_for(waiting)) == 1


def test_a_task_left_running_by_a_killed_worker_is_marked_failed(alice, live_worker) -> None:
    orphan = task_row(
        Generation.objects.create(owner=alice, model_name=MODEL, prompt="a"),
        TaskResultStatus.RUNNING,
        f"{DEAD}/3",
    )
    busy = task_row(
        Generation.objects.create(owner=alice, model_name=MODEL, prompt="b"),
        TaskResultStatus.RUNNING,
        f"{ALIVE}/0",
    )
    assert recover().tasks_failed == 1
    orphan.refresh_from_db()
    busy.refresh_from_db()
    assert orphan.status == TaskResultStatus.FAILED
    assert orphan.finished_at is not None
    assert orphan.exception_class_path == "imagegen.recovery.WorkerLost"
    assert busy.status == TaskResultStatus.RUNNING


def test_a_running_job_whose_task_crashed_is_failed(alice, live_worker) -> None:
    generation = running(alice, ALIVE)
    DBTaskResult.objects.update(status=TaskResultStatus.FAILED)
    assert recover() == Recovered(worker_error=1)
    generation.refresh_from_db()
    assert (generation.status, generation.error_code) == ("failed", "worker_error")


def test_a_second_pass_changes_nothing(alice) -> None:
    running(alice, DEAD)
    running(alice, DEAD, runs=2)
    assert recover()
    assert recover() == Recovered()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


def test_records_of_workers_gone_for_an_hour_are_forgotten(db) -> None:
    now = timezone.now()
    WorkerProcess.objects.create(worker_id="old:1", seen_at=now - timedelta(minutes=61))
    WorkerProcess.objects.create(worker_id="recent:1", seen_at=now - timedelta(minutes=5))
    recover()
    assert list(WorkerProcess.objects.values_list("worker_id", flat=True)) == ["recent:1"]
