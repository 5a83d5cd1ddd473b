"""Will PostgreSQL let this machine's processes hold the connections they may open?

Every thread that touches the database keeps its own connection (CONN_MAX_AGE), so a machine's
need is known from its settings (docs/deployment.md, "max_connections"). Past the server's
limit, jobs fail with "too many clients" once the queue is busy, long after the start: `serve`
says so at the start instead. Other machines' processes count against the same limit, so this
can only catch one machine's share being too much on its own.
"""

from django.conf import settings
from django.db import DatabaseError, connection

WORKER_EXTRA_THREADS = 2  # each worker process: its main thread and its heartbeat
HOUSEKEEPING = 2  # the chores a worker starts beside its job threads


def connections_needed(*, web_processes: int, web_threads: int, workers: bool) -> int:
    """The most connections the processes `serve` starts here may hold at once."""
    needed = web_processes * web_threads
    if workers:
        per_process = settings.WORKER_THREADS + WORKER_EXTRA_THREADS
        needed += settings.WORKER_PROCESSES * per_process + HOUSEKEEPING
    return needed


def connections_available() -> int | None:
    """What the server lets ordinary roles open (None: not PostgreSQL, or not reachable now)."""
    if connection.vendor != "postgresql":
        return None  # SQLite: no server, no limit
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
            )
            return cursor.fetchone()[0]
    except DatabaseError:
        return None  # /readyz and the processes themselves will say the database is down


def shortfall(needed: int) -> str | None:
    """A warning when `needed` is past what the server allows, else None."""
    available = connections_available()
    if available is None or needed <= available:
        return None
    return (
        f"The processes started here may hold {needed} PostgreSQL connections at once, and the "
        f"server allows {available} (max_connections less its reserved ones), before counting "
        "any other machine's: under load, jobs and pages will fail with 'too many clients'. "
        "Raise max_connections or lower WORKER_THREADS, WORKER_PROCESSES or WEB_THREADS "
        "(docs/deployment.md, PostgreSQL)."
    )
