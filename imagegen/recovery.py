"""End or retry the jobs that a killed worker, a lost enqueue or a hung upstream left behind.

django-tasks-db has no retries and leaves a task RUNNING for ever when its process is killed, so
every `run_workers` process runs `recover()` at start and every WORKER_STALE_AFTER / 2 seconds:

(a) a generation RUNNING on a process not seen for WORKER_STALE_AFTER is queued again with a new
    task if it has run fewer than MAX_RUNS times, otherwise failed with "worker_lost";
(b) a generation RUNNING for longer than GENERATION_DEADLINE is failed with "deadline" (the run,
    if it is still going, then saves nothing: ingest saves only while the job is RUNNING);
(c) a generation QUEUED for longer than WORKER_STALE_AFTER with no task waiting or running for it
    (its enqueue was lost, or its task crashed before claiming it) is enqueued again;
(d) a task RUNNING on a dead process is marked FAILED, so the task list tells the truth;
(e) a generation RUNNING whose task has ended (the task raised an unexpected error after
    claiming it) is failed with "worker_error", instead of waiting for the deadline;
(f) the files a run was writing when it stopped (gallery.PendingFile: recorded before their bytes)
    are deleted, with their records, as soon as their job is not running: a requeued job's in the
    transaction that requeues it (before its new task exists), a failed or cancelled job's in the
    same pass, so nothing waits for the orphan sweep.

Several processes may run this at once: every change is a conditional UPDATE, and a new task is
inserted in the same transaction as the update that requeues its generation, so a generation is
requeued once and a task is never inserted without it. A generation run twice saves each image
once, because ingest keeps the first row for a (generation, index).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus, task_backends
from django.utils import timezone
from django.utils.translation import gettext_noop
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from gallery.models import PendingFile
from imagegen.models import Generation, WorkerProcess
from imagegen.tasks import run_generation

logger = logging.getLogger(__name__)

MAX_RUNS = 2  # a job is started at most twice: at-least-once, but not a crash loop
FORGET_WORKERS_AFTER = timedelta(hours=1)  # rows of processes long gone are only noise in admin

# Stored in English on the job and translated when shown (imagegen.job_messages).
WORKER_LOST = gettext_noop("The worker stopped while making this image. Please try again.")
DEADLINE = gettext_noop("It took too long; the job was stopped.")
WORKER_ERROR = gettext_noop("Something went wrong while making this image. Please try again.")
TASK_LOST_TRACEBACK = "The worker process running this task stopped (killed or lost).\n"


class WorkerLost(Exception):
    """Recorded as the error of a task whose worker process was killed (rule d)."""


@dataclass(frozen=True)
class Recovered:
    """How many rows one pass changed, by rule."""

    requeued: int = 0
    worker_lost: int = 0
    past_deadline: int = 0
    reenqueued: int = 0
    worker_error: int = 0
    tasks_failed: int = 0
    files_discarded: int = 0

    def __bool__(self) -> bool:
        return any(vars(self).values())


def uses_database_backend() -> bool:
    return isinstance(task_backends[run_generation.backend], DatabaseBackend)


def process_of(task_worker_id: str) -> str:
    """`run_workers` names a thread "<process id>/<n>"; the process id is this_worker_id()."""
    return task_worker_id.rsplit("/", 1)[0]


def recover(now: datetime | None = None) -> Recovered:
    """One pass of rules (a)-(e); safe to run from any number of processes at once."""
    now = now or timezone.now()
    stale_after = timedelta(seconds=settings.WORKER_STALE_AFTER)
    tasks_failed = fail_tasks_of_dead_workers(now)
    past_deadline = fail_past_deadline(now)
    requeued, worker_lost = retry_jobs_of_dead_workers(now)
    recovered = Recovered(
        requeued=requeued,
        worker_lost=worker_lost,
        past_deadline=past_deadline,
        reenqueued=enqueue_lost_jobs(now - stale_after),
        worker_error=fail_jobs_whose_task_ended(now),
        tasks_failed=tasks_failed,
        # Last: the jobs the rules above requeued or failed are no longer running.
        files_discarded=PendingFile.objects.left_behind(now).discard(),
    )
    WorkerProcess.objects.filter(seen_at__lt=now - FORGET_WORKERS_AFTER).delete()
    if recovered:
        logger.warning("recovery: %s", recovered)
    return recovered


# Each rule reads the jobs first and the live workers second. A process records its heartbeat
# before it claims anything, so a job seen running is always by a process that is already seen
# alive; read the other way round, a process that started in between would look dead.


def alive_workers(now: datetime) -> set[str]:
    cutoff = now - timedelta(seconds=settings.WORKER_STALE_AFTER)
    return set(
        WorkerProcess.objects.filter(seen_at__gte=cutoff).values_list("worker_id", flat=True)
    )


def generations_with_live_tasks() -> set[str]:
    """Ids of generations that have a task waiting or running for them."""
    live = DBTaskResult.objects.filter(
        task_path=run_generation.module_path,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    )
    return {str(args["args"][0]) for args in live.values_list("args_kwargs", flat=True)}


def fail_tasks_of_dead_workers(now: datetime) -> int:
    """(d) The task rows a killed process left RUNNING."""
    running = list(
        DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).values_list("id", "worker_ids")
    )
    alive = alive_workers(now)
    dead = [
        pk
        for pk, worker_ids in running
        if not worker_ids or process_of(worker_ids[-1]) not in alive
    ]
    if not dead:
        return 0
    return DBTaskResult.objects.filter(pk__in=dead, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path=f"{__name__}.WorkerLost",
        traceback=TASK_LOST_TRACEBACK,
    )


def fail_past_deadline(now: datetime) -> int:
    """(b) Runs that outlived any plausible upstream answer."""
    cutoff = now - timedelta(seconds=settings.GENERATION_DEADLINE)
    late = Generation.objects.filter(status=Generation.Status.RUNNING, started_at__lt=cutoff)
    return _count(generation.mark_failed("deadline", DEADLINE) for generation in late)


def retry_jobs_of_dead_workers(now: datetime) -> tuple[int, int]:
    """(a) Jobs whose process stopped being seen: once more, or failed."""
    running = list(Generation.objects.filter(status=Generation.Status.RUNNING))
    alive = alive_workers(now)
    requeued = lost = 0
    for generation in running:
        if generation.worker_id in alive:
            continue
        if generation.runs >= MAX_RUNS:
            lost += generation.mark_failed("worker_lost", WORKER_LOST)
            continue
        with transaction.atomic():
            # Conditional on the same worker: a run that started meanwhile is not touched.
            updated = Generation.objects.filter(
                pk=generation.pk, status=Generation.Status.RUNNING, worker_id=generation.worker_id
            ).update(status=Generation.Status.QUEUED, worker_id="", preview=None)
            if updated:
                # The killed run's files go before the new task can be seen: the next run never
                # starts beside them (rule f would pass over them while the job runs again).
                PendingFile.objects.filter(generation=generation).discard()
                # Inserted in the same transaction as the update: both or neither.
                run_generation.enqueue(str(generation.pk))
        requeued += updated
    return requeued, lost


def fail_jobs_whose_task_ended(now: datetime) -> int:
    """(e) A task claims its generation only while the task row is RUNNING, so a RUNNING
    generation of a live worker with no live task was left by a task that raised after its claim."""
    # A task that ends between these reads has already ended its generation, and mark_failed()
    # changes only a generation that is still RUNNING.
    running = list(Generation.objects.filter(status=Generation.Status.RUNNING))
    live = generations_with_live_tasks()
    alive = alive_workers(now)  # a dead worker's jobs are rule (a)'s
    return _count(
        generation.mark_failed("worker_error", WORKER_ERROR)
        for generation in running
        if str(generation.pk) not in live and generation.worker_id in alive
    )


def enqueue_lost_jobs(created_before: datetime) -> int:
    """(c) Queued jobs that nothing will ever run."""
    # Old enough that a submission's enqueue, which follows its commit, has surely happened.
    waiting = list(
        Generation.objects.filter(
            status=Generation.Status.QUEUED, created_at__lt=created_before
        ).values_list("pk", flat=True)
    )
    if not waiting:
        return 0
    live = generations_with_live_tasks()
    enqueued = 0
    for pk in waiting:
        if str(pk) in live:
            continue
        with transaction.atomic():
            # Checked again inside the write transaction: another process may have just done it.
            still_lost = Generation.objects.filter(pk=pk, status=Generation.Status.QUEUED).exists()
            if still_lost and str(pk) not in generations_with_live_tasks():
                run_generation.enqueue(str(pk))
                enqueued += 1
    return enqueued


def _count(changes: Iterable[bool]) -> int:
    return sum(1 for changed in changes if changed)
