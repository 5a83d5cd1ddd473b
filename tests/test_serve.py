"""`manage.py serve`, as `make run` and production run it: real processes, real HTTP, real kills.

One studio (its own SQLite file, media, static files and secret key file; no SECRET_KEY) is
served for the module by `manage.py serve` with its setup (migrate, collectstatic); the tests that
kill or stop a supervisor start one of their own on it with --no-setup.
"""

import os
import re
import signal
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.studio_process import (
    alive,
    descendants,
    free_port,
    manage,
    port_free,
    serve,
    studio_environment,
    wait_for,
    wait_until_serving,
)
from tests.studio_process import (
    stop as stop_processes,
)

DEBUG_PAGE_SIGNS = ("Traceback", "URLconf", "DEBUG = True", "Django tried these URL patterns")

SHARE_A_REVOKED_IMAGE = """
from django.contrib.auth.models import User
from gallery.models import ShareLink
from imagegen.models import Generation
from gallery.ingest import ingest_image
from tests.conftest import png_bytes
owner = User.objects.create_user("sharer")
job = Generation.objects.create(owner=owner, model_name="gpt-image-2", prompt="a lantern",
                                parameters={"n": 1}, status="succeeded")
link = ShareLink.objects.create(owner=owner, image=ingest_image(job, 0, png_bytes()))
link.revoke()
print(link.token)
"""


@dataclass
class Served:
    url: str
    port: int
    environment: dict[str, str]
    process: subprocess.Popen
    log: Path


def stop(process: subprocess.Popen) -> None:
    tree = descendants(process.pid)
    stop_processes([process])
    for pid in tree:  # our own processes, should any have outlived the test
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serve")
    environment = studio_environment(
        root / "studio.sqlite3",
        root / "media",
        STATIC_ROOT=str(root / "static"),
        SECRET_KEY_FILE=str(root / "state" / "secret-key"),
        SECURE_COOKIES="0",
        WORKER_THREADS="2",
        WEB_PROCESSES="2",
        WEB_THREADS="4",
        WORKER_GRACE="10",
    )
    del environment["SECRET_KEY"]  # made on first run, kept in SECRET_KEY_FILE
    port = free_port()
    log = root / "serve.log"
    process = serve(environment, port, log=log)  # with its setup: migrate, collectstatic
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", [process], log, timeout=180)
        yield Served(f"http://127.0.0.1:{port}", port, environment, process, log)
    finally:
        stop(process)


def start_another(served: Served) -> tuple[subprocess.Popen, str, int]:
    port = free_port()
    process = serve(served.environment, port, "--no-setup", log=served.log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, [process], served.log)
    except BaseException:
        stop(process)
        raise
    return process, url, port


def test_it_serves_with_debug_off_and_static_files_from_whitenoise(served: Served) -> None:
    page = httpx.get(f"{served.url}/accounts/login/")
    stylesheet = re.search(r'href="(/static/css/studio\.[0-9a-f]{12}\.css)"', page.text)
    assert stylesheet, "collectstatic's hashed names are used: DEBUG is off"

    response = httpx.get(f"{served.url}{stylesheet.group(1)}", headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]  # whitenoise, for hashed names
    assert response.headers.get("Content-Encoding") == "gzip"  # compressed by collectstatic


def test_an_unknown_address_shows_the_friendly_404_without_debug_information(
    served: Served,
) -> None:
    response = httpx.get(f"{served.url}/no/such/page/")

    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "Go to the studio" in response.text
    assert not any(sign in response.text for sign in DEBUG_PAGE_SIGNS)


def test_a_revoked_share_link_shows_the_friendly_404(served: Served) -> None:
    token = manage(served.environment, "shell", "-c", SHARE_A_REVOKED_IMAGE).split()[-1]

    response = httpx.get(f"{served.url}/s/{token}/")

    assert response.status_code == 404
    assert "A shared link stops working when it expires or is revoked." in response.text
    assert not any(sign in response.text for sign in DEBUG_PAGE_SIGNS)


def test_the_secret_key_is_made_once_readable_only_by_its_owner(served: Served) -> None:
    key_file = Path(served.environment["SECRET_KEY_FILE"])

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) >= 50
    key = key_file.read_text()
    process, _url, _port = start_another(served)  # reads it: the same key, not a new one
    stop(process)
    assert key_file.read_text() == key


def test_sigterm_stops_every_child(served: Served) -> None:
    process, _url, port = start_another(served)
    children = descendants(process.pid)
    assert len(children) >= 4  # web master, its two workers, a worker process

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=60) == 0
    wait_for(lambda: not any(alive(pid) for pid in children), 30, "children stopped")
    assert port_free(port)


def test_kill_9_of_the_supervisor_frees_the_port_and_a_restart_binds_at_once(
    served: Served,
) -> None:
    process, url, port = start_another(served)
    children = descendants(process.pid)

    process.kill()
    process.wait()

    try:
        # The web server dies with the supervisor (PR_SET_PDEATHSIG): the port is free at once.
        wait_for(lambda: port_free(port), 10, "the port is free")
        restarted = serve(served.environment, port, "--no-setup", log=served.log)
        try:
            wait_until_serving(url, [restarted], served.log)
            # The workers were asked to stop (SIGTERM) and do, after their running jobs.
            wait_for(lambda: not any(alive(pid) for pid in children), 40, "old children gone")
        finally:
            stop(restarted)
    finally:
        kill_leftovers(children)


def test_a_dead_web_server_or_worker_is_started_again(served: Served) -> None:
    process, url, port = start_another(served)
    web_workers: list[int] = []
    try:
        web, worker = sorted(
            (pid for pid in descendants(process.pid) if parent_of(pid) == process.pid),
            key=lambda pid: "run_workers" in command_line(pid),
        )
        web_workers = descendants(web)
        os.kill(web, signal.SIGKILL)
        os.kill(worker, signal.SIGKILL)

        # granian's own workers die with their master, and a new web server takes the port.
        wait_for(lambda: not any(alive(pid) for pid in web_workers), 10, "web workers gone")
        wait_until_serving(url, [process], served.log)
        wait_for(lambda: len(children_of(process.pid)) == 2, 30, "both restarted")
        assert {web, worker}.isdisjoint(children_of(process.pid))
    finally:
        stop(process)
        kill_leftovers(web_workers)
    assert port_free(port)


def kill_leftovers(pids: list[int]) -> None:
    """Our own processes that a failing test left behind."""
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")


def children_of(pid: int) -> list[int]:
    return [child for child in descendants(pid) if parent_of(child) == pid]


def test_a_form_without_its_csrf_token_gets_the_friendly_403(served: Served) -> None:
    response = httpx.post(
        f"{served.url}/accounts/login/", data={"username": "demo", "password": "x"}
    )

    assert response.status_code == 403
    assert "The form has expired" in response.text
    assert "/static/css/studio." in response.text  # the site's look
    assert "CSRF verification failed" not in response.text  # Django's own page
    assert not any(sign in response.text for sign in DEBUG_PAGE_SIGNS)


def test_an_unknown_host_gets_the_friendly_400(served: Served) -> None:
    response = httpx.get(f"{served.url}/accounts/login/", headers={"Host": "evil.example"})

    assert response.status_code == 400
    assert "Bad request" in response.text
    assert "evil.example" not in response.text  # nothing of the request is echoed
    assert not any(sign in response.text for sign in DEBUG_PAGE_SIGNS)
