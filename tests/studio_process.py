"""A throwaway studio run as processes of its own, for tests that need real ones.

The worker tests (tests/test_worker.py) kill and restart workers on it; the browser tests
(tests/browser/) serve it with uvicorn. Both start from this environment and run manage.py so.
"""

import os
import subprocess
import sys
from pathlib import Path

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
