"""A throwaway studio run as processes of its own, for tests that need real ones.

The one way tests start them: the worker and kill-point tests (tests/test_worker.py,
tests/test_kill_points.py) kill and restart workers; the browser tests (tests/browser/) and
tests/test_serve.py serve it with `manage.py serve`, as production does; tests/test_logs.py,
tests/test_lost_response.py and the scale run (tests/scale_studio.py) start the web and worker
processes of a deployment one by one. All start from this environment, and read the studio's
database beside it with plain SQL (`StudioDatabase`).
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from tests.postgres import free_port as free_port  # the one definition, given from here too

REPO = Path(__file__).resolve().parents[1]


def studio_environment(database: Path, media: Path, **overrides: str) -> dict[str, str]:
    """A studio on its own SQLite file and media root: DEBUG off, durable jobs, and the offline
    provider (no key, whatever the caller's environment holds)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "COMETAPI_", "PYTEST_"))
    }
    environment.update(
        DATABASE_URL=f"sqlite:///{database}",
        MEDIA_ROOT=str(media),
        SECRET_KEY="tests-only-secret-key",
        DEBUG="0",
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        LOG_LEVEL="WARNING",
    )
    environment.update(overrides)
    return environment


def manage(environment: dict[str, str], *arguments: str) -> str:
    """Run a management command in that studio; returns its output, fails the test on error."""
    finished = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", *arguments],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def port_free(port: int) -> bool:
    """Could a new server bind the port now (nobody listening on it, SO_REUSEPORT or not)?"""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(environment: dict[str, str], arguments: list[str], log: Path) -> subprocess.Popen[bytes]:
    """`python *arguments` in the repository (a script such as manage.py, or `-m module`), its
    output appended to `log`."""
    with log.open("ab") as output:  # the child has its own copy of the descriptor
        return subprocess.Popen(  # noqa: S603 (our own scripts and modules)
            [sys.executable, *arguments],
            cwd=REPO,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def serve(environment: dict[str, str], port: int, *arguments: str, log: Path) -> subprocess.Popen:
    """`manage.py serve` on 127.0.0.1:port: web and workers under their supervisor."""
    command = ["manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return start(environment, [*command, *arguments], log)


def web_arguments(port: int, threads: int = 4) -> list[str]:
    """One web process as a deployment runs it (granian on WSGI, imagegen/serving/web.py, its
    worker dying with it) on 127.0.0.1:port, without `serve`'s workers or setup."""
    web = ["-m", "imagegen.serving.web", "--host", "127.0.0.1", "--port", str(port)]
    return [*web, "--processes", "1", "--threads", str(threads)]


def web_process(
    environment: dict[str, str], port: int, log: Path, threads: int = 4
) -> subprocess.Popen[bytes]:
    return start(environment, web_arguments(port, threads), log)


WORKER = ["manage.py", "run_workers", "--processes=1"]


def worker_process(environment: dict[str, str], log: Path, *arguments: str) -> subprocess.Popen:
    """One worker process (`run_workers --processes=1`, no supervisor of its own), as a
    systemd unit per worker runs it."""
    return start(environment, [*WORKER, *arguments], log)


def wait_until_serving(
    url: str,
    processes: list[subprocess.Popen],
    log: Path,
    timeout: float = 90,
    path: str = "/accounts/login/",
) -> None:
    """Until `path` answers 200; fails if a process exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args} exited; see {log}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}{path}", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"The studio did not start within {timeout} s; see {log}")


def stop(processes: list[subprocess.Popen], timeout: float = 60) -> None:
    """SIGTERM to each still running (a worker's jobs get their grace), then wait for all;
    one still there after `timeout` seconds is killed."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def descendants(pid: int) -> list[int]:
    """The live (not zombie) descendants of a process, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            except (OSError, ValueError):
                continue
            if state != "Z":
                children.setdefault(int(parent), []).append(int(entry.name))
    found, waiting = [], [pid]
    while waiting:
        for child in children.get(waiting.pop(), []):
            found.append(child)
            waiting.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, logs: Iterable[Path] = ()
) -> None:
    """Until `condition()` holds; fails after `timeout` seconds, quoting the end of each of
    `logs` (the processes' output) so the failure says what they were doing."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            said = "".join(f"\n--- {log.name}:\n{log.read_text()[-3000:]}" for log in logs)
            raise AssertionError(f"Still not so after {timeout} s: {what}{said}")
        time.sleep(0.05)


class StudioDatabase:
    """A studio's database read and changed beside its processes with plain SQL, `?` for each
    parameter: a SQLite file (sqlite3) or a PostgreSQL database (psycopg), by its URL."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def rows(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        return self._run(sql, parameters, fetch=True)

    def change(self, sql: str, *parameters: Any) -> None:
        self._run(sql, parameters, fetch=False)

    def _run(self, sql: str, parameters: tuple[Any, ...], fetch: bool) -> Any:
        if self.sqlite:
            path = urlsplit(self.url).path
            with closing(sqlite3.connect(path, timeout=30)) as db, db:  # commits a change
                cursor = db.execute(sql, parameters)
                return cursor.fetchall() if fetch else None
        import psycopg  # only in the PostgreSQL pass's tests

        url = urlunsplit(urlsplit(self.url)._replace(scheme="postgresql"))
        with psycopg.connect(url, autocommit=True) as db:
            cursor = db.execute(sql.replace("?", "%s"), parameters)  # type: ignore[arg-type]
            return cursor.fetchall() if fetch else None


# Jobs queued as the form queues them (a Generation and its task in one transaction), by
# `manage.py shell` in the studio's environment; it prints each job's id in hex.
SUBMIT_JOBS = """
from django.contrib.auth.models import User
from django.db import transaction
from imagegen.models import Generation
from imagegen.tasks import enqueue
owner, _ = User.objects.get_or_create(username="alice")
for n in range({count}):
    with transaction.atomic():
        generation = Generation.objects.create(
            owner=owner, model_name={model!r}, prompt=f"a lighthouse {{n}}", parameters={params!r}
        )
        enqueue(generation)
    print(generation.pk.hex)
"""


def submit_jobs(
    environment: dict[str, str], model: str, parameters: dict[str, Any], count: int = 1
) -> list[str]:
    """`count` jobs of alice's (made if need be) for `model`, queued; their ids in hex."""
    code = SUBMIT_JOBS.format(count=count, model=model, params=parameters)
    return manage(environment, "shell", "-v0", "-c", code).split()
