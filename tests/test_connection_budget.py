"""`serve` warns at the start when this machine's threads may want more PostgreSQL connections
than the server allows (imagegen/serving/connections.py), instead of jobs failing with "too many
clients" under load. Runs in both passes: on SQLite there is nothing to warn about."""

import logging

import pytest
from django.core.management import call_command
from django.db import connection

from imagegen.serving import connections as budget

pytestmark = pytest.mark.django_db

ON_POSTGRES = connection.vendor == "postgresql"


def test_the_need_counts_web_threads_and_each_workers_threads(settings) -> None:
    settings.WORKER_PROCESSES, settings.WORKER_THREADS = 2, 64

    assert budget.connections_needed(web_processes=2, web_threads=8, workers=True) == 16 + 132 + 2
    assert budget.connections_needed(web_processes=0, web_threads=8, workers=True) == 134
    assert budget.connections_needed(web_processes=2, web_threads=8, workers=False) == 16


def test_too_many_is_named_with_what_to_change_and_enough_says_nothing() -> None:
    available = budget.connections_available()

    if not ON_POSTGRES:
        assert available is None and budget.shortfall(10_000) is None
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        assert 0 < available < int(cursor.fetchone()[0])  # less the superusers' reserve
    warning = budget.shortfall(available + 1)
    assert warning and f"{available + 1} PostgreSQL connections" in warning
    assert "WORKER_THREADS" in warning and "max_connections" in warning
    assert budget.shortfall(available) is None


@pytest.mark.skipif(not ON_POSTGRES, reason="a limit only a PostgreSQL server has")
def test_serve_warns_before_it_starts_anything(settings, monkeypatch, caplog) -> None:
    settings.WORKER_PROCESSES, settings.WORKER_THREADS = 4, 1000
    started = []
    monkeypatch.setattr(
        "imagegen.management.commands.serve.Supervisor.run", lambda self: started.append(1) or 0
    )

    with caplog.at_level(logging.WARNING), pytest.raises(SystemExit):
        call_command("serve", "--workers-only", "--no-setup")

    [warning] = [r for r in caplog.records if "PostgreSQL connections" in r.getMessage()]
    assert "4010 PostgreSQL connections" in warning.getMessage()
    assert started == [1]  # a warning, not a refusal: the operator may know better
