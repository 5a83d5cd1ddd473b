"""The scale-out run in short (tests/scale_run.py, as bench/scale.py runs it in full): 2 web
processes and 2 workers on a database of their own on the suite's PostgreSQL server and a bucket
of their own on its S3 server (tests/s3_server.py), 5 people
browsing while 30 generations are submitted through the form, one worker (while it runs jobs)
and one web process killed with SIGKILL and started again. Nothing may be lost, doubled or left
behind. PostgreSQL only: SQLite has one writer, and the run is about many.
"""

import os
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.budget_race import drop, own_database
from tests.scale_run import Plan, run, table

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the scale run needs PostgreSQL (make test-postgres)"
)

SHORT = Plan(
    generations=30,
    clients=5,
    people=5,
    threads=10,
    latency=1.0,  # long enough that a worker killed mid-run is running jobs
    stale_after=6.0,  # a killed worker's jobs are retried within ~9 s
    timeout=240.0,  # a bound for a stuck run; it takes about a minute
)


def test_nothing_is_lost_doubled_or_left_behind_when_processes_are_killed(
    tmp_path: Path, s3_server: Any
) -> None:
    url, name = own_database(os.environ["DATABASE_URL"])  # the server tests/postgres.py started
    files = s3_server.environment(s3_server.new_bucket())  # the suite's S3 server, a new bucket
    try:
        outcome = run(SHORT, url, tmp_path, files)
    finally:
        drop(url, name)
    figures = table(outcome)
    print(figures)  # shown with -s, or when the test fails
    assert outcome.counts == {
        "lost jobs": 0,
        "duplicate images": 0,
        "orphan files": 0,
        "server errors": 0,
    }, figures
    assert outcome.running_on_killed_worker > 0, figures  # the kill cut jobs short
    assert outcome.recorder.retries > 0, figures  # and a web process, under the clients
    assert outcome.audit["retried"] >= outcome.running_on_killed_worker, figures
    assert outcome.audit["statuses"] == {"succeeded": SHORT.generations}, figures
    assert not outcome.recorder.unexpected, figures
    assert set(outcome.recorder.seconds) >= {"gallery", "image page", "thumbnail", "submit"}
