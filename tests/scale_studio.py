"""The studio of the scale run (tests/scale_run.py) as processes on loopback: web processes on
ports of their own and worker processes, each started, killed and started again on its own; and
the run's own look at their PostgreSQL database.
"""

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from tests.studio_process import (
    REPO,
    WORKER,
    free_port,
    manage,
    start,
    stop,
    studio_environment,
    web_arguments,
)


def psycopg_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql"))


class Studio:
    """The processes, each started, killed and started again on its own."""

    def __init__(
        self, environment: dict[str, str], logs: Path, web_processes: int, workers: int
    ) -> None:
        self.environment = environment
        self.logs = logs
        self.ports = [free_port() for _ in range(web_processes)]
        self.worker_slots = workers
        self.web: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def web_arguments(self, port: int) -> list[str]:
        # On a port of its own: the balancer in front of them is the clients' (scale_clients.py).
        return web_arguments(port, threads=8)

    def worker_arguments(self) -> list[str]:
        # Killed and started again from here, as systemd does with one unit per worker.
        # Threads: WORKER_THREADS.
        return WORKER

    def _start(self, name: str, arguments: list[str]) -> subprocess.Popen[bytes]:
        return start(self.environment, arguments, self.logs / f"{name}.log")

    def start_web(self, slot: int) -> subprocess.Popen[bytes]:
        return self._start(f"web-{slot}", self.web_arguments(self.ports[slot]))

    def start_worker(self, slot: int) -> subprocess.Popen[bytes]:
        return self._start(f"worker-{slot}", self.worker_arguments())

    def start(self) -> None:
        self.web = [self.start_web(slot) for slot in range(len(self.ports))]
        self.workers = [self.start_worker(slot) for slot in range(self.worker_slots)]
        deadline = time.monotonic() + 120
        for url in self.urls:
            while not self.answers(url):
                if time.monotonic() > deadline or any(p.poll() is not None for p in self.web):
                    raise RuntimeError(f"the web processes did not start; see {self.logs}")
                time.sleep(0.2)

    @staticmethod
    def answers(url: str) -> bool:
        try:
            return httpx.get(f"{url}/accounts/login/", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        stop(self.web + self.workers)


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


class Database:
    """The harness's own look at the database: how far the jobs are, how many connections."""

    def __init__(self, url: str) -> None:
        self.connection = psycopg.connect(psycopg_url(url), autocommit=True)
        self.lock = threading.Lock()

    def one(self, query: str, *parameters: Any) -> int:
        with self.lock:
            return self.connection.execute(query, parameters).fetchone()[0]

    def unfinished(self) -> int:
        return self.one(
            "SELECT count(*) FROM imagegen_generation WHERE status IN ('queued', 'running')"
        )

    def running_on(self, pid: int) -> int:
        return self.one(
            "SELECT count(*) FROM imagegen_generation WHERE status = 'running' AND worker_id "
            "LIKE %s",
            f"%:{pid}",
        )

    def connections(self) -> int:
        return self.one("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")


def prepare(
    root: Path, database_url: str, web_processes: int, workers: int, **settings: str
) -> Studio:
    """A fresh studio on an empty database: migrated, its static files collected; `settings`
    are the environment variables that differ from tests.studio_process's."""
    environment = studio_environment(
        root / "unused.sqlite3",
        root / "media",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(root / "static"),
        SECURE_COOKIES="0",  # plain http on loopback
        ORPHAN_SWEEP_INTERVAL="0",  # orphans are what the audit counts: nothing may hide them
        MODEL_SYNC_INTERVAL="0",  # no network here
        # Every client signs in from 127.0.0.1 at once, and an attempt counts until its password
        # is checked (imagegen/password_attempts.py): no per-address limit, or a run with more
        # clients than PASSWORD_ATTEMPTS_PER_ADDRESS_ALL_ACCOUNTS would be refused at sign-in.
        PASSWORD_ATTEMPTS_PER_ADDRESS="0",
        PASSWORD_ATTEMPTS_PER_ADDRESS_ALL_ACCOUNTS="0",
        PYTHONUNBUFFERED="1",
        **settings,
    )
    manage(environment, "migrate", "--no-input", "--verbosity", "0")
    manage(environment, "collectstatic", "--no-input", "--verbosity", "0")
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    return Studio(environment, logs, web_processes, workers)


def audit_command(environment: dict[str, str], *arguments: str, given: str = "") -> str:
    finished = subprocess.run(  # noqa: S603 (our own module)
        [sys.executable, "-m", "tests.scale_audit", *arguments],
        cwd=REPO,
        env=environment,
        input=given,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode:
        raise RuntimeError(f"scale_audit {arguments[0]} failed:\n{finished.stderr}")
    return finished.stdout
