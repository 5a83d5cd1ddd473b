"""A throwaway studio run as processes of its own, for tests that need real ones.

The worker tests (tests/test_worker.py) kill and restart workers on it; the browser tests
(tests/browser/) and tests/test_serve.py serve it with `manage.py serve`, as production does. All
start from this environment and run manage.py so.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_free(port: int) -> bool:
    """Could a new server bind the port now (nobody listening on it, SO_REUSEPORT or not)?"""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def serve(environment: dict[str, str], port: int, *arguments: str, log: Path) -> subprocess.Popen:
    """`manage.py serve` on 127.0.0.1:port, its output appended to `log`."""
    command = [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(  # noqa: S603 (our own manage.py)
        [*command, *arguments],
        cwd=REPO,
        env=environment,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


def wait_until_serving(url: str, processes: list[subprocess.Popen], log: Path, timeout=90) -> None:
    """Until the login page answers 200; fails if a process exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args} exited; see {log}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/accounts/login/", timeout=5).status_code == 200:
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


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Still not so after {timeout} s: {what}")
        time.sleep(0.05)
