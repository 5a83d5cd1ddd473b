"""Browser tests: the studio served for real, driven in Chromium by Playwright.

One studio per test session, run the way production runs it (see the README): `manage.py serve
--web-only` (migrate, collectstatic, granian serving `imagegen.wsgi`) and `manage.py serve
--workers-only` running the jobs, as the two systemd units do; DEBUG off, the strict
Content-Security-Policy on. Only the upstream differs: the offline provider, with a latency long
enough to watch a job run. The tests see the studio only through the browser and HTTP, as a
user would; each one signs up its own user, so they share nothing but the server.
"""

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.tour import Tour, take_tour
from tests.studio_process import (
    REPO,
    free_port,
    serve,
    stop,
    studio_environment,
    wait_until_serving,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_SCRIPT = REPO / "node_modules" / "axe-core" / "axe.min.js"
# Seconds the offline provider takes per image: long enough to see a job queued, running and
# previewed, short enough for the suite.
OFFLINE_LATENCY = 3.0
# Assertions retry for up to 10 s (Playwright's default is 5): room for a busy 2-core CI machine.
expect.set_options(timeout=10_000)


def missing(what: str, how: str) -> None:
    """Skip, or fail in CI: CI must never pass by quietly skipping the browser."""
    message = f"{what} is not installed. {how}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass
class Studio:
    url: str
    environment: dict[str, str]
    logs: Path  # web.log and workers.log: what the processes printed


def browser_studio_environment(root: Path) -> dict[str, str]:
    return studio_environment(
        root / "studio.sqlite3",
        root / "media",
        STATIC_ROOT=str(root / "static"),
        SECURE_COOKIES="0",  # plain http on 127.0.0.1
        OFFLINE_LATENCY=str(OFFLINE_LATENCY),
        WORKER_THREADS="8",
        WORKER_POLL_INTERVAL="0.1",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",  # the offline provider logs what it received
    )


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Studio]:
    root = tmp_path_factory.mktemp("studio")
    port = free_port()
    logs = root / "logs"
    logs.mkdir()
    studio = Studio(f"http://127.0.0.1:{port}", browser_studio_environment(root), logs)
    processes = [serve(studio.environment, port, "--web-only", log=logs / "web.log")]
    try:
        # Migrated and collected by the web half first; the workers' migrate then finds it done.
        wait_until_serving(studio.url, processes, logs / "web.log", timeout=180)
        processes.append(
            serve(studio.environment, port, "--workers-only", log=logs / "workers.log")
        )
        yield studio
    finally:
        stop(processes)
    shutil.rmtree(root / "media", ignore_errors=True)


@pytest.fixture(scope="session")
def base_url(studio: Studio) -> str:
    """pytest-playwright opens relative URLs (page.goto("/images/")) against this."""
    return studio.url


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser's path; every browser test depends on it, so none starts without one."""
    if not Path(CHROMIUM).exists():
        missing(
            f"Chromium ({CHROMIUM})",
            "Install Debian's browser with `apt-get install chromium` (or set CHROMIUM_PATH).",
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict, chromium: str) -> dict:
    return {**browser_type_launch_args, "executable_path": chromium, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        missing("axe-core", "Run `npm install` in the repository (package.json names it).")
    return AXE_SCRIPT.read_text()


@pytest.fixture(scope="session")
def tour(studio: Studio, browser: Browser, base_url: str) -> Tour:
    """One user who has used every page: an image, a collection, a share link."""
    return take_tour(browser, base_url)
