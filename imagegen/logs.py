"""Log lines that say which request or which job they belong to, as text or as JSON.

Two context variables follow the work: `REQUEST_ID` from the moment `RequestIDMiddleware` sees a
request until the response is closed (so Django's own "Not Found" lines, written after the
middleware returns, and the lines of a streamed zip carry it too), and `GENERATION_ID` while a
job runs (`job_context`, entered by the worker around each task and by `run_generation` itself,
so a job run inside a request has both). `ContextFilter`, on the handler, copies them onto every
record; `LOG_FORMAT=json` (settings.LOGGING) writes each record as one JSON object per line,
for journald or a log shipper, and the plain format shows the ids in brackets.

Only ids travel this way: nothing here reads a request's headers but X-Request-ID, and the
studio logs no request bodies, so the API key never has a way into a line (tests/test_logs.py).
"""

import functools
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponseBase

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
GENERATION_ID: ContextVar[str | None] = ContextVar("generation_id", default=None)

HEADER = "X-Request-ID"
# What a proxy sends (nginx's $request_id is 32 hex digits; others send UUIDs): anything else,
# say a line break meant to forge a log line, is replaced with an id of our own.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")


class RequestIDMiddleware:
    """Give each request an id: the proxy's X-Request-ID when it looks like one, else a new
    one; kept for the request's log lines and sent back in the response's X-Request-ID."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        # Cleared when the server closes the response: lines between requests carry no id.
        request_finished.connect(forget_request, dispatch_uid="imagegen.logs.forget_request")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        offered = request.headers.get(HEADER, "")
        request_id = offered if SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id
        REQUEST_ID.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def forget_request(**kwargs: Any) -> None:
    REQUEST_ID.set(None)


@contextmanager
def job_context(generation_id: object) -> Iterator[None]:
    """Every line logged inside carries this job's id (none for None)."""
    token = GENERATION_ID.set(None if generation_id is None else str(generation_id))
    try:
        yield
    finally:
        GENERATION_ID.reset(token)


def for_generation[**P, R](run: Callable[P, R]) -> Callable[P, R]:
    """A job function taking the generation's id first, run inside its `job_context`."""

    @functools.wraps(run)
    def run_in_context(*args: P.args, **kwargs: P.kwargs) -> R:
        with job_context(args[0] if args else kwargs["generation_id"]):
            return run(*args, **kwargs)

    return run_in_context


def generation_of_task(queued: Any) -> str | None:
    """The generation a queued task (django-tasks-db's DBTaskResult) runs, if it runs one: the
    worker enters its context before the task starts, so the queue's own start and finish lines
    carry it too."""
    args = queued.args_kwargs.get("args") or []
    return str(args[0]) if queued.task_path.endswith(".run_generation") and args else None


class ContextFilter(logging.Filter):
    """Puts the current request and job ids on each record (None outside them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.generation_id = GENERATION_ID.get()
        ids = [f"request={record.request_id}"] if record.request_id else []
        ids += [f"generation={record.generation_id}"] if record.generation_id else []
        record.context = f" [{' '.join(ids)}]" if ids else ""
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, process, the ids
    when set, and the exception's traceback as text."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name in ("request_id", "generation_id"):
            if value := getattr(record, name, None):
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)  # ASCII: no character a reader splits lines at


def server_logging(config: dict[str, Any]) -> dict[str, Any]:
    """Granian's own lines (its master's and its workers') written by the studio's console
    handler, as settings.LOGGING has it: in JSON too under LOG_FORMAT=json."""
    return {
        "filters": config.get("filters", {}),
        "formatters": config["formatters"],
        "handlers": config["handlers"],
        "loggers": {
            name: {"handlers": ["console"], "level": "INFO", "propagate": False}
            for name in ("_granian", "granian.access")
        },
    }
