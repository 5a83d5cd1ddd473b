"""A submit whose answer is lost: against a real web process and a real worker process on a
database of their own (a SQLite file, or a new database on the PostgreSQL server the suite runs
on), a client sends the generate form and drops the connection without reading a byte of the
answer, then sends the same form (the same token) again. Exactly one job is made, with one set of
images and one cost, and the second answer points at it. Two sends of one form at the same
instant make one job too (the check and the create are one step under the person's lock).
"""

import re
import socket
import struct
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from django.conf import settings

from tests.budget_race import drop, own_database
from tests.studio_process import (
    StudioDatabase,
    free_port,
    manage,
    stop,
    studio_environment,
    wait_for,
    wait_until_serving,
    web_process,
    worker_process,
)

PASSWORD = "lost-response-password"  # a throwaway person on a throwaway database
FORM = {
    "model": "gpt-image-2",
    "prompt": "a lighthouse at dusk",
    "size": "1024x1024",
    "n": "2",
    "quality": "low",
    "output_format": "png",
    "background": "auto",
    "moderation": "auto",
}
HIDDEN = r'<input type="hidden" name="{}" value="([^"]+)"'


@dataclass
class Studio:
    url: str
    database: StudioDatabase
    logs: Path

    @property
    def sqlite(self) -> bool:
        return self.database.sqlite

    def rows(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        """Rows of the studio's database, read beside it (`?` for each parameter)."""
        return self.database.rows(sql, *parameters)

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
        wait_for(condition, timeout, what, sorted(self.logs.glob("*.log")))


def database_for(root: Path) -> tuple[str, str | None]:
    """A database of the studio's own: a file, or a new one on the suite's PostgreSQL server."""
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{root / 'studio.sqlite3'}", None
    import os

    return own_database(os.environ["DATABASE_URL"])


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    root = tmp_path_factory.mktemp("lost-response")
    database_url, dropped = database_for(root)
    environment = studio_environment(
        root / "unused.sqlite3",
        root / "media",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(root / "static"),
        SECURE_COOKIES="0",  # plain http on 127.0.0.1
        OFFLINE_LATENCY="0.3",
        PYTHONUNBUFFERED="1",
    )
    logs = root / "logs"
    logs.mkdir()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        manage(environment, "migrate", "--no-input", "-v0")
        manage(environment, "collectstatic", "--no-input", "-v0")
        make = f"from django.contrib.auth.models import User; User.objects.create_user('lou', password='{PASSWORD}')"  # noqa: E501
        manage(environment, "shell", "-v0", "-c", make)
        port = free_port()
        processes.append(web_process(environment, port, logs / "web.log"))
        worker_options = ("--interval=0.1", "--threads=2")
        processes.append(worker_process(environment, logs / "workers.log", *worker_options))
        studio = Studio(f"http://127.0.0.1:{port}", StudioDatabase(database_url), logs)
        wait_until_serving(studio.url, processes, logs / "web.log", timeout=120)
        yield studio
    finally:
        stop(processes, timeout=20)
        if dropped:
            drop(database_url, dropped)


def hidden(page: str, name: str) -> str:
    match = re.search(HIDDEN.format(name), page)
    assert match, f"no {name} in the page"
    return match.group(1)


@pytest.fixture
def browser(studio: Studio) -> Iterator[httpx.Client]:
    """Lou, signed in through the login form, as a browser is."""
    with httpx.Client(base_url=studio.url, timeout=60) as client:
        login = client.get("/accounts/login/").text
        answer = client.post(
            "/accounts/login/",
            data={
                "username": "lou",
                "password": PASSWORD,
                "csrfmiddlewaretoken": hidden(login, "csrfmiddlewaretoken"),
            },
        )
        assert answer.status_code == 302, answer.text[:500]
        yield client


def filled_form(browser: httpx.Client, **values: str) -> dict[str, str]:
    """The generate form as drawn for Lou, filled in: with its CSRF token and its own token."""
    page = browser.get("/generate/").text
    csrf = hidden(page, "csrfmiddlewaretoken")
    return {**FORM, "csrfmiddlewaretoken": csrf, "submit_token": hidden(page, "submit_token")}


def send_and_drop(studio: Studio, browser: httpx.Client, form: dict[str, str]) -> None:
    """Send the form over a raw connection and reset it without reading the answer, once the
    server has made the job (the answer may be waiting in the socket: it is never read)."""
    body = urlencode(form).encode()
    cookies = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    head = (
        f"POST /generate/ HTTP/1.1\r\nHost: {studio.url.removeprefix('http://')}\r\n"
        f"Cookie: {cookies}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    token = form["submit_token"]
    with socket.create_connection(("127.0.0.1", int(studio.url.rsplit(":", 1)[1]))) as raw:
        raw.sendall(head + body)
        studio.wait_for(lambda: jobs_with(studio, token) == 1, "the first send's job")
        # Closed with a reset (linger 0): the client is gone, its answer unread.
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def jobs_with(studio: Studio, token: str) -> int:
    return len(job_rows(studio, token))


def job_rows(studio: Studio, token: str) -> list[tuple[Any, ...]]:
    """(id, status, cost) of the jobs carrying the token."""
    sql = "SELECT id, status, cost FROM imagegen_generation WHERE submit_token = ?"
    return studio.rows(sql, stored(studio, token))


def stored(studio: Studio, token: str) -> str:
    """A UUID as the database holds it: Django keeps it as hex text on SQLite."""
    return uuid.UUID(token).hex if studio.sqlite else token


def job_id(studio: Studio, token: str) -> str:
    [(pk, _, _)] = job_rows(studio, token)
    return str(uuid.UUID(str(pk)))


def assert_one_job_one_set_of_images_one_cost(studio: Studio, token: str) -> str:
    """The token's one job has ended with its two images, saved once, and a cost."""
    pk = job_id(studio, token)
    studio.wait_for(lambda: job_rows(studio, token)[0][1] == "succeeded", "the job to finish")
    [(_, _, cost)] = job_rows(studio, token)
    assert cost is not None and float(cost) > 0
    images = studio.rows(
        'SELECT i.generation_id, i."index" FROM gallery_image i JOIN imagegen_generation g'
        " ON g.id = i.generation_id WHERE g.submit_token = ?",
        stored(studio, token),
    )
    assert sorted(index for _, index in images) == [0, 1]  # n=2, each saved once
    assert {str(uuid.UUID(str(generation))) for generation, _ in images} == {pk}
    return pk


def test_a_form_sent_again_after_its_answer_was_lost_makes_one_job(
    studio: Studio, browser: httpx.Client
) -> None:
    form = filled_form(browser)

    send_and_drop(studio, browser, form)
    again = browser.post("/generate/", data=form)

    pk = assert_one_job_one_set_of_images_one_cost(studio, form["submit_token"])
    assert again.status_code == 302
    assert again.headers["location"] == f"/generations/{pk}/"


def test_a_client_that_gives_up_waiting_and_sends_again_makes_one_job(
    studio: Studio, browser: httpx.Client
) -> None:
    form = filled_form(browser)
    impatient = httpx.Timeout(30, read=0.001)  # closes the connection before any answer

    with pytest.raises(httpx.ReadTimeout):
        browser.post("/generate/", data=form, timeout=impatient)
    studio.wait_for(lambda: jobs_with(studio, form["submit_token"]) == 1, "the dropped job")
    again = browser.post("/generate/", data=form, headers={"HX-Request": "true"})

    pk = assert_one_job_one_set_of_images_one_cost(studio, form["submit_token"])
    assert again.status_code == 200
    assert f'id="generation-{pk}"' in again.text  # the card of the job already made
    assert hidden(again.text, "submit_token") != form["submit_token"]  # ready for the next


def test_one_form_sent_twice_at_the_same_instant_makes_one_job(
    studio: Studio, browser: httpx.Client
) -> None:
    form = filled_form(browser)
    barrier = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def send() -> None:
        barrier.wait(timeout=30)
        answers.append(browser.post("/generate/", data=form))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    pk = assert_one_job_one_set_of_images_one_cost(studio, form["submit_token"])
    assert [answer.headers["location"] for answer in answers] == [f"/generations/{pk}/"] * 2
