"""Run the generation jobs queued in the database: P processes of N threads each.

    manage.py run_workers [--processes P] [--threads N] [--interval S] [--grace S]

With one process, this process runs the threads itself (imagegen/worker.py). With more, it
supervises that many copies of `run_workers --processes 1`: it passes SIGINT/SIGTERM on to them
and restarts one that dies. The children run in their own process group, so a Ctrl-C in the
terminal reaches them once, through the supervisor; they stop by themselves if it is killed.
Run jobs with this command only: `db_worker` records no heartbeat, so recovery would take its
running jobs for those of a dead process.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from argparse import SUPPRESS, ArgumentTypeError
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from imagegen.recovery import uses_database_backend
from imagegen.worker import Options, run_worker_process

logger = logging.getLogger("imagegen.worker")

RESTART_PAUSE = 5.0  # seconds before restarting a child that died young: no crash loop
YOUNG = 30.0  # a child that dies within this many seconds of its start died young
KILL_AFTER = 15.0  # seconds past the children's own grace before they are killed


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ArgumentTypeError("must be at least 1")
    return number


def seconds(value: str) -> float:
    number = float(value)
    if not 0 <= number < float("inf"):
        raise ArgumentTypeError("must be a number of seconds, 0 or more")
    return number


def positive_seconds(value: str) -> float:
    number = seconds(value)
    if number == 0:
        raise ArgumentTypeError("must be more than 0 seconds")
    return number


class Command(BaseCommand):
    help = "Run the queued generation jobs: P worker processes of N threads each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--processes",
            type=positive_int,
            default=settings.WORKER_PROCESSES,
            help="Worker processes (default WORKER_PROCESSES: %(default)s).",
        )
        parser.add_argument(
            "--threads",
            type=positive_int,
            default=settings.WORKER_THREADS,
            help="Jobs each process runs at once (default WORKER_THREADS: %(default)s).",
        )
        parser.add_argument(
            "--interval",
            type=positive_seconds,
            default=settings.WORKER_POLL_INTERVAL,
            help="Seconds between a process's looks at an empty queue; its idle threads take "
            "turns (default WORKER_POLL_INTERVAL: %(default)s).",
        )
        parser.add_argument(
            "--grace",
            type=seconds,
            default=settings.WORKER_GRACE,
            help="On SIGINT/SIGTERM, seconds to let running jobs finish "
            "(default WORKER_GRACE: %(default)s).",
        )
        # Used by the supervisor for its children.
        parser.add_argument("--no-sweep", action="store_false", dest="sweep", help=SUPPRESS)
        parser.add_argument("--parent-pid", type=int, default=None, help=SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if not uses_database_backend():
            raise CommandError(
                "The task backend is not django-tasks-db: jobs run where they are submitted "
                "and there is nothing for workers to do (see TASKS_BACKEND)."
            )
        if options["verbosity"] < 2:
            # The library logs two lines each time a thread finds the queue empty.
            logging.getLogger("django_tasks_db").setLevel(logging.WARNING)
        if options["verbosity"] == 0:
            logging.getLogger("django.tasks").setLevel(logging.WARNING)  # a line per job
        worker = Options(
            threads=options["threads"],
            interval=options["interval"],
            grace=options["grace"],
            sweep=options["sweep"],
            parent_pid=options["parent_pid"],
        )
        if options["processes"] == 1:
            status = run_worker_process(worker)
            if status:
                # Threads are still inside jobs: end now, without waiting for them to notice.
                logging.shutdown()
                os._exit(status)
            return
        sys.exit(Supervisor(options["processes"], worker, options["verbosity"]).run())


class Supervisor:
    """Keeps `processes` children running `run_workers --processes 1` until told to stop."""

    def __init__(self, processes: int, worker: Options, verbosity: int) -> None:
        self.processes = processes
        self.worker = worker
        self.verbosity = verbosity
        self.stopping = threading.Event()
        self.children: list[subprocess.Popen[bytes] | None] = [None] * processes
        self.started_at = [0.0] * processes
        self.not_before = [0.0] * processes

    def command(self, slot: int) -> list[str]:
        worker = self.worker
        return [
            sys.executable,
            "-m",
            "django",
            "run_workers",
            "--processes=1",
            f"--threads={worker.threads}",
            f"--interval={worker.interval}",
            f"--grace={worker.grace}",
            f"--parent-pid={os.getpid()}",
            f"--verbosity={self.verbosity}",
            *([] if slot == 0 and worker.sweep else ["--no-sweep"]),  # one sweeper is enough
        ]

    def start(self, slot: int) -> None:
        # Own process group: a terminal's Ctrl-C goes to the supervisor only, which passes it on
        # once (twice would mean "stop now" to the child).
        self.children[slot] = subprocess.Popen(  # noqa: S603
            self.command(slot), cwd=settings.BASE_DIR, process_group=0
        )
        self.started_at[slot] = time.monotonic()

    def signal_children(self, signum: int) -> None:
        for child in self.children:
            if child is not None and child.poll() is None:
                child.send_signal(signum)

    def run(self) -> int:
        def handle(signum: int, frame: FrameType | None) -> None:
            self.stopping.set()
            self.signal_children(signal.SIGTERM)

        signal.signal(signal.SIGTERM, handle)
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # see WorkerGroup
            signal.signal(signal.SIGINT, handle)
        for slot in range(self.processes):
            self.start(slot)
        logger.info("supervising %d worker processes", self.processes)
        while not self.stopping.wait(0.5):
            for slot, child in enumerate(self.children):
                if child is None or child.poll() is None:
                    continue
                now = time.monotonic()
                if not self.not_before[slot]:
                    logger.error("worker process %d exited with %s", child.pid, child.returncode)
                    young = now - self.started_at[slot] < YOUNG
                    self.not_before[slot] = now + (RESTART_PAUSE if young else 0)
                if now >= self.not_before[slot]:
                    self.not_before[slot] = 0.0
                    self.start(slot)
        return self.wait_for_children()

    def wait_for_children(self) -> int:
        deadline = time.monotonic() + self.worker.grace + KILL_AFTER
        status = 0
        for child in self.children:
            if child is None:
                continue
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("worker process %d did not stop; killing it", child.pid)
                child.kill()
                child.wait()
            status = max(status, 1 if child.returncode else 0)
        return status
