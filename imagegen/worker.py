"""One worker process: django-tasks-db's own worker loop in many threads, a heartbeat, recovery.

django-tasks-db's `db_worker` runs one task per process, and an image job spends nearly all its
time waiting for the upstream: dozens of jobs in flight would need dozens of idle processes. So each
thread here runs the library's `Worker.run()` loop (its claim, in an exclusive transaction, and its
retry of "database is locked"), each with its own worker id. This is safe in threads: `run()`
touches no signals (the command's `configure_signals()` does, and is not called here) and Django
gives every thread its own database connection.

The loop runs in its batch mode: it claims and runs tasks until the queue is empty, then returns,
and the thread waits until a sibling wakes it or its turn to look comes. Idle threads take turns, so
a process looks at an empty queue once per `interval` whatever its number of threads (64 threads
each polling every 0.5 s cost a third of a core and held SQLite's write lock 128 times a second);
a thread that claims a task wakes one idle sibling, so a burst of jobs is claimed one after another
at once rather than as each thread's turn comes.

Signals are handled here, in the main thread: the first SIGINT/SIGTERM stops the threads from
claiming and lets running jobs finish for up to `grace` seconds; a second one, or the end of the
grace period, ends the process at once. A job cut short that way, like one in a process that was
killed, is picked up by recovery (imagegen/recovery.py).
"""

import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.tasks import DEFAULT_TASK_QUEUE_NAME
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from imagegen import logs, recovery
from imagegen.models import WorkerProcess
from imagegen.tasks import run_generation, this_worker_id

logger = logging.getLogger(__name__)

DATABASE_RETRY_PAUSE = 5.0  # seconds a thread waits after a database error before trying again


@dataclass(frozen=True)
class Options:
    threads: int
    interval: float
    grace: float
    sweep: bool = True  # run sweep_orphan_files now and then (one process of a group does)
    parent_pid: int | None = None  # started by a supervisor: stop if it goes away


class IdleThreads:
    """Where a process's idle threads wait: for their turn to look at the queue, or a wake-up."""

    def __init__(self) -> None:
        self._condition = threading.Condition()

    def wait(self, timeout: float) -> None:
        with self._condition:
            self._condition.wait(timeout)

    def wake_one(self) -> None:
        with self._condition:
            self._condition.notify()

    def wake_all(self) -> None:
        with self._condition:
            self._condition.notify_all()


class ThreadWorker(Worker):
    """django-tasks-db's worker; a claimed task wakes an idle sibling before it runs."""

    def __init__(self, *, idle: IdleThreads, **options: Any) -> None:
        super().__init__(**options)
        self.idle = idle

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self.idle.wake_one()  # where there was one task there may be more
        with logs.job_context(logs.generation_of_task(db_task_result)):
            super().run_task(db_task_result)


class WorkerGroup:
    """The threads of one process, its heartbeat and its housekeeping."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.worker_id = this_worker_id()
        self.stopping = threading.Event()  # stop claiming; set by a signal or a failure
        self.forced = threading.Event()  # stop waiting for running jobs
        self.housekeeping_done = threading.Event()
        self.idle = IdleThreads()
        self.workers = [
            ThreadWorker(
                idle=self.idle,
                queue_names=[DEFAULT_TASK_QUEUE_NAME],
                excluded_queue_names=[],
                interval=options.interval,  # only used after "database is locked"
                batch=True,  # return when the queue is empty: the idle wait is ours
                backend_name=run_generation.backend,
                startup_delay=False,
                max_tasks=None,
                worker_id=f"{self.worker_id}/{index}",
            )
            for index in range(options.threads)
        ]
        self._chores: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def busy(self) -> int:
        return sum(worker.running_task for worker in self.workers)

    def run(self) -> int:
        """Run until a signal (or a failure) stops it; 0 if every running job finished."""
        self.install_signal_handlers()
        # Seen alive before the first claim: recovery elsewhere reads jobs first, then workers.
        self.heartbeat()
        housekeeping = threading.Thread(target=self.housekeep, name="housekeeping", daemon=True)
        housekeeping.start()
        threads = [
            threading.Thread(target=self.work, args=(worker,), name=f"worker-{n}", daemon=True)
            for n, worker in enumerate(self.workers)
        ]
        for thread in threads:
            thread.start()
        logger.info(
            "worker %s: %d threads, polling every %.2f s",
            self.worker_id,
            len(threads),
            self.options.interval,
        )
        while not self.stopping.wait(1.0):  # a timeout keeps the main thread responsive to signals
            pass
        for worker in self.workers:
            worker.running = False
        self.idle.wake_all()
        if self.busy:
            logger.warning(
                "worker %s stopping: waiting up to %.0f s for %d running job(s)",
                self.worker_id,
                self.options.grace,
                self.busy,
            )
        deadline = time.monotonic() + self.options.grace
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            if self.forced.wait(0.1):
                break
        unfinished = self.busy
        if unfinished:
            logger.warning(
                "worker %s: %d job(s) cut short; recovery retries them", self.worker_id, unfinished
            )
        self.housekeeping_done.set()
        housekeeping.join(timeout=10)
        self.leave()
        return 1 if unfinished else 0

    def install_signal_handlers(self) -> None:
        def handle(signum: int, frame: FrameType | None) -> None:
            name = signal.strsignal(signum)
            if self.stopping.is_set():
                logger.warning("%s again: stopping now", name)
                self.forced.set()
            else:
                logger.warning("%s: finishing running jobs (send it again to stop now)", name)
                self.stopping.set()

        signal.signal(signal.SIGTERM, handle)
        # As Python itself does: a SIGINT ignored by whoever started us (a shell's background
        # job) stays ignored, so a terminal's Ctrl-C does not count as a second signal.
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, handle)

    def work(self, worker: Worker) -> None:
        """One thread: the library's loop until the queue is empty, then wait; until stopped."""
        # Each idle thread looks after a random, exponentially distributed wait with a mean of
        # `interval` x threads: together, a process looks about once per `interval`, and however
        # the threads fell into step (they all start at once) the next look is never far.
        mean_wait = self.options.interval * len(self.workers)
        try:
            while worker.running:
                try:
                    worker.run()
                    if worker.running:
                        self.idle.wait(random.expovariate(1 / mean_wait) if mean_wait else 0)
                except DatabaseError:
                    # run() re-raises every error but "database is locked", e.g. a PostgreSQL
                    # restart: keep the thread, with a fresh connection after a pause.
                    logger.exception("worker %s: database error", worker.worker_id)
                    connections.close_all()
                    self.stopping.wait(DATABASE_RETRY_PAUSE)
        except BaseException:
            # A bug, not a job's failure (run_task() records those): stop the whole process
            # rather than carry on with fewer threads than configured.
            logger.exception("worker %s: thread failed; stopping", worker.worker_id)
            self.stopping.set()
            raise
        finally:
            connections.close_all()  # this thread's connections only

    def heartbeat(self) -> None:
        WorkerProcess.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"threads": self.options.threads, "seen_at": timezone.now()},
        )

    def leave(self) -> None:
        """A clean exit: this process's jobs, if any are left, are recovered at once."""
        try:
            WorkerProcess.objects.filter(worker_id=self.worker_id).delete()
        except DatabaseError:
            logger.exception("worker %s: could not remove its record", self.worker_id)
        connections.close_all()

    def housekeep(self) -> None:
        """Heartbeat, recovery, the orphan-file sweep, the Trash's purge and the model sync, until
        the process ends.

        A bug here stops the whole process: a worker that stops recording itself would soon have
        its running jobs taken over by another, and run twice.
        """
        beat_every = settings.WORKER_STALE_AFTER / 6
        recover_every = settings.WORKER_STALE_AFTER / 2
        sweep_every = settings.ORPHAN_SWEEP_INTERVAL if self.options.sweep else 0
        next_recovery = time.monotonic()  # at once: the jobs of a killed process are retried now
        next_sweep = time.monotonic() + min(sweep_every, 300)
        # The live model list is read at once: a fresh install learns what its key offers.
        sync_every = settings.MODEL_SYNC_INTERVAL if self.options.sweep else 0
        next_sync = time.monotonic()
        try:
            while True:
                try:
                    self.heartbeat()
                    if not self.stopping.is_set() and time.monotonic() >= next_recovery:
                        recovery.recover()
                        next_recovery = time.monotonic() + recover_every
                except DatabaseError:
                    logger.exception("worker %s: housekeeping database error", self.worker_id)
                    connections.close_all()
                if sweep_every and time.monotonic() >= next_sweep:
                    self.start_chore("sweep_orphan_files")
                    self.start_chore("purge_trash")
                    next_sweep = time.monotonic() + sweep_every
                if sync_every and time.monotonic() >= next_sync:
                    self.start_chore("sync_models")
                    next_sync = time.monotonic() + sync_every
                for chore in self._chores.values():
                    chore.poll()  # reaps a finished child, so none lingers as a zombie
                if self.options.parent_pid and os.getppid() != self.options.parent_pid:
                    logger.warning("worker %s: its supervisor is gone; stopping", self.worker_id)
                    self.stopping.set()
                if self.housekeeping_done.wait(beat_every):
                    return
        except BaseException:
            logger.exception("worker %s: housekeeping failed; stopping", self.worker_id)
            self.stopping.set()
            raise
        finally:
            connections.close_all()

    def start_chore(self, command_name: str) -> None:
        """Run a management command in a child process, unless its last run is still going.

        The orphan sweep lists every stored name, memory a short-lived process gives back; the
        model sync waits on the network, which must never hold up the heartbeat.
        """
        running = self._chores.get(command_name)
        if running is not None and running.poll() is None:
            return
        command = [sys.executable, "-m", "django", command_name, "--verbosity", "0"]
        self._chores[command_name] = subprocess.Popen(command, cwd=settings.BASE_DIR)  # noqa: S603


def run_worker_process(options: Options) -> int:
    """Run this process as one worker group; returns its exit status."""
    if not recovery.uses_database_backend():
        raise RuntimeError("run_workers needs the django-tasks-db backend (TASKS_BACKEND).")
    return WorkerGroup(options).run()
