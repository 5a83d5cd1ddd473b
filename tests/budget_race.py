"""64 people's browsers at once: simultaneous submits against one person's limits, in a process of
its own on a database of its own (a file for SQLite, a new database on the PostgreSQL server),
so that every thread has a real connection and real locks, as web processes do.

    python -m tests.budget_race <DATABASE_URL> → one JSON line: per limit, jobs accepted/refused

Run by tests/test_budgets.py; the database is made, migrated and (PostgreSQL) dropped here.
"""

import json
import os
import sys
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SUBMITS = 64
LIMITS: dict[str, dict[str, Any]] = {
    "daily_image_cap": {"daily_image_cap": 10},
    "monthly_spend_cap": {"monthly_spend_cap": Decimal("0.20")},  # qwen-image: $0.02 an image
    "jobs_per_minute": {"jobs_per_minute": 5},
}


def own_database(url: str) -> tuple[str, str | None]:
    """A fresh database beside the one named: its URL, and its name to drop (PostgreSQL)."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        return url, None
    import psycopg

    name = f"budget_race_{uuid.uuid4().hex[:12]}"
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
    return urlunsplit(parts._replace(path=f"/{name}")), name


def drop(url: str, name: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def race(limit: str) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from imagegen.models import Allowance, Generation

    person = User.objects.create_user(f"racer-{limit}", password="x")
    Allowance.objects.create(user=person, **LIMITS[limit])
    clients = []
    for _ in range(SUBMITS):
        client = Client()
        client.force_login(person)
        clients.append(client)
    barrier = threading.Barrier(SUBMITS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(client: Client) -> None:
        try:
            barrier.wait(timeout=60)
            response = client.post(
                "/generate/", {"model": "qwen-image", "prompt": "a lantern", "size": "1328x1328"}
            )
            text = response.content.decode()
            if response.status_code == 302:
                outcome = "accepted"
            elif "would pass your" in text or "jobs a minute" in text:
                outcome = "refused"
            else:
                outcome = f"other {response.status_code}"
        except Exception as error:  # reported: the test fails on it
            outcome = f"error {type(error).__name__}: {error}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=submit, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return {
        "accepted": outcomes.count("accepted"),
        "refused": outcomes.count("refused"),
        "other": sorted({o for o in outcomes if o not in ("accepted", "refused")}),
        "jobs": Generation.objects.filter(owner=person).count(),
    }


def main() -> None:
    url, dropped = own_database(sys.argv[1])
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegen.settings")
    os.environ["DEBUG"] = "1"  # plain static files: no collectstatic manifest here
    os.environ.setdefault("COMETAPI_KEY", "")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    # Each accepted job runs (offline) in its submitting thread once committed, so jobs go from
    # queued to running to finished while the others are still being counted: the standing
    # must read every job in one snapshot (a job finishing between two reads was once missed).
    os.environ["TASKS_BACKEND"] = "django.tasks.backends.immediate.ImmediateBackend"
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from imagegen.costs import budgets

        # A loaded machine may take more than a minute for 64 submits, and the window would
        # slide: an hour's window races the same counting with no clock in the result.
        budgets.RATE_WINDOW = timedelta(hours=1)
        results = {limit: race(limit) for limit in LIMITS}
        from django.db import connections

        connections.close_all()
    finally:
        if dropped:
            drop(url, dropped)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
