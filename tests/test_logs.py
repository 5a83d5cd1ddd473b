"""Log lines (imagegen/logs.py): JSON objects one a line, with the request's id on a request's
lines and the generation's id on a job's, in this process and in a real worker process; and the
API key on none of them."""

import io
import json
import logging
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from imagegen import service
from imagegen.logs import ContextFilter, JSONFormatter
from imagegen.models import Generation
from imagegen.offline import OfflineProvider
from tests.studio_process import (
    StudioDatabase,
    free_port,
    manage,
    studio_environment,
    submit_jobs,
    wait_for,
    wait_until_serving,
    web_process,
    worker_process,
)

SECRET = "sk-live-0123456789abcdefSECRETvalue"
JOB = {"model": "gpt-image-2", "prompt": "a kite", "n": 1, "size": "1024x1024", "quality": "low"}


@pytest.fixture
def json_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every record, from any logger at any level, written as settings.LOGGING's json handler
    writes it; the function returns the lines so far, each parsed (a line that is not one JSON
    object fails the test)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(ContextFilter())
    loggers = [logging.getLogger(name) for name in ("", "django", "httpx", "httpcore")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_request_is_given_an_id_and_sends_it_back(client) -> None:
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


def test_the_proxys_request_id_is_kept_when_it_looks_like_one(client) -> None:
    offered = "3f1c0e6b8a9d4c2e9f7b6a5d4c3b2a19"
    assert client.get("/healthz", HTTP_X_REQUEST_ID=offered)["X-Request-ID"] == offered


@pytest.mark.parametrize("offered", ["short", "x" * 129, "abc12345\nforged line", "ab cd ef gh"])
def test_a_request_id_that_does_not_look_like_one_is_replaced(client, offered: str) -> None:
    answered = client.get("/healthz", HTTP_X_REQUEST_ID=offered)["X-Request-ID"]
    assert answered != offered
    assert len(answered) == 32


def test_every_line_of_a_request_carries_its_id_even_after_the_view_returned(
    client, db, json_lines
) -> None:
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="proxy-id-00000001")
    assert response.status_code == 404  # Django logs "Not Found" once the middleware returned
    lines = json_lines()
    assert [line["message"] for line in lines if line["logger"] == "django.request"]
    assert {line.get("request_id") for line in lines} == {"proxy-id-00000001"}
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)


def test_a_line_logged_between_requests_carries_no_request_id(client, db, json_lines) -> None:
    client.get("/healthz")
    logging.getLogger("imagegen").warning("between requests")
    [line] = [line for line in json_lines() if line["message"] == "between requests"]
    assert "request_id" not in line


def test_a_job_run_inside_a_request_logs_both_ids(
    shipped_models_kept, transactional_db, json_lines
) -> None:
    # Committed as a real request commits, so the job (immediate backend) runs inside it.
    client = Client()
    client.force_login(User.objects.create_user("carol"))
    response = client.post(reverse("generate"), JOB)
    generation = Generation.objects.get()
    assert generation.status == Generation.Status.SUCCEEDED
    lines = json_lines()
    # The offline provider logs what it received: a line of the job's own.
    [received] = [line for line in lines if "offline provider received" in line["message"]]
    assert received["request_id"] == response["X-Request-ID"]
    assert received["generation_id"] == str(generation.pk)
    assert all(line.get("request_id") == response["X-Request-ID"] for line in lines)


def test_an_exception_is_written_as_text_inside_its_line(json_lines) -> None:
    try:
        raise ValueError("a bug")
    except ValueError:
        logging.getLogger("imagegen").exception("it broke")
    [line] = json_lines()
    assert line["level"] == "ERROR"
    assert line["message"] == "it broke"
    assert "ValueError: a bug" in line["exception"]
    assert line["exception"].startswith("Traceback")


def test_the_api_key_appears_on_no_line_of_a_job_that_succeeds_or_fails(
    alice_client, settings, monkeypatch: pytest.MonkeyPatch, json_lines
) -> None:
    """Every record at DEBUG, httpx's included, against an upstream that answers the first job
    and fails the others with the whole key in its answer."""
    settings.COMETAPI_KEY = SECRET
    settings.COMETAPI_MAX_RETRIES = 1
    offline = OfflineProvider()
    sent_keys: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent_keys.append(request.headers["Authorization"])
        if b"refuse me" in request.content:
            detail = f"Incorrect API key provided: {SECRET}"
            return httpx.Response(401, json={"error": {"message": detail, "code": "invalid"}})
        if b"fail me" in request.content:
            return httpx.Response(502, text=f"bad gateway for Bearer {SECRET}")
        return offline.handle_request(request)

    client = httpx.Client(
        base_url=settings.COMETAPI_BASE_URL,
        headers={"Authorization": f"Bearer {SECRET}"},
        transport=httpx.MockTransport(upstream),
    )
    monkeypatch.setattr(service, "get_client", lambda: client)

    for prompt in ("a kite", "refuse me", "fail me"):
        alice_client.post(reverse("generate"), JOB | {"prompt": prompt})

    statuses = list(Generation.objects.order_by("created_at").values_list("status", flat=True))
    assert statuses == ["succeeded", "failed", "failed"]
    assert set(sent_keys) == {f"Bearer {SECRET}"}
    lines = json_lines()
    assert len({line.get("generation_id") for line in lines} - {None}) == 3
    assert any(line["level"] == "DEBUG" for line in lines)
    assert any(line["logger"] == "httpx" for line in lines)  # each request, with its URL
    for line in lines:
        text = json.dumps(line)
        assert SECRET not in text and SECRET[10:] not in text, text


def test_a_real_web_process_logs_json_lines_with_the_proxys_request_id(tmp_path: Path) -> None:
    """The web server of the systemd unit (granian, WSGI) with LOG_FORMAT=json: every line it
    writes, granian's own included, is one JSON object; a request's carry its id."""
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("media cannot live under a file, so /readyz fails and logs why")
    environment = studio_environment(
        tmp_path / "studio.sqlite3", not_a_directory / "media", LOG_FORMAT="json", LOG_LEVEL="INFO"
    )
    manage(environment, "migrate", "-v0")
    port = free_port()
    log = tmp_path / "web.log"
    web = web_process(environment, port, log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, [web], log, timeout=120, path="/healthz")
        probe = httpx.get(f"{base}/readyz", headers={"X-Request-ID": "proxy-id-7f3a9c"})
        assert probe.status_code == 503
        assert probe.headers["X-Request-ID"] == "proxy-id-7f3a9c"
        web.send_signal(signal.SIGTERM)
        assert web.wait(timeout=60) == 0, log.read_text()
    finally:
        if web.poll() is None:
            web.kill()
            web.wait()
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if not line.startswith(WARNINGS)]
    assert any(line["logger"] == "_granian" for line in lines), text
    # The view's line, and Django's own once the middleware has returned.
    request_lines = [line for line in lines if "readyz" in line["message"]]
    assert {line["logger"] for line in request_lines} == {"imagegen.health", "django.request"}
    assert {line.get("request_id") for line in request_lines} == {"proxy-id-7f3a9c"}, text


# Python's own warnings (whitenoise's, of a missing STATIC_ROOT) are not log records.
WARNINGS = ("/", "  ")


# A real worker process, its settings' own LOGGING (LOG_FORMAT=json), on a SQLite file.

JOB_PARAMETERS = {"n": 1, "size": "1024x1024", "quality": "low", "output_format": "png"}


@pytest.mark.parametrize("log_format", ["json", "plain"])
def test_a_worker_process_logs_the_generation_id_on_its_jobs_lines(
    tmp_path: Path, log_format: str
) -> None:
    environment = studio_environment(
        tmp_path / "studio.sqlite3",
        tmp_path / "media",
        LOG_FORMAT=log_format,
        LOG_LEVEL="INFO",
        ORPHAN_SWEEP_INTERVAL="0",
        MODEL_SYNC_INTERVAL="0",
    )
    manage(environment, "migrate", "-v0")
    [hex_pk] = submit_jobs(environment, "gpt-image-2", JOB_PARAMETERS)
    pk = str(uuid.UUID(hex_pk))  # as the log lines write it
    log = tmp_path / "worker.log"
    worker = worker_process(environment, log, "--interval=0.1", "--threads=2")
    database = StudioDatabase(environment["DATABASE_URL"])
    sql = "SELECT status FROM imagegen_generation WHERE id = ?"

    def succeeded() -> bool:
        assert worker.poll() is None, log.read_text()
        return database.rows(sql, hex_pk) == [("succeeded",)]

    try:
        wait_for(succeeded, 120, "the job to succeed", [log])
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    text = log.read_text()
    if log_format == "plain":
        job_lines = [line for line in text.splitlines() if "state=" in line]
        assert job_lines, text
        assert all(f"[generation={pk}]" in line for line in job_lines), text
        return
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    job_lines = [line for line in lines if line.get("generation_id")]
    # django.tasks' own lines, as the task starts and as it ends, and the job's own.
    assert {line["generation_id"] for line in job_lines} == {pk}, text
    messages = " | ".join(line["message"] for line in job_lines)
    assert "state=RUNNING" in messages and "state=SUCCESSFUL" in messages, text
    assert "offline provider received" in messages, text
    started = [line for line in lines if "threads, polling every" in line["message"]]
    assert started and "generation_id" not in started[0], text
