"""One web server: granian serving imagegen.wsgi, its worker processes dying with it.

    python -m imagegen.serving.web [--host H] [--port P] [--processes N] [--threads T]

Granian on the WSGI interface was the fastest of uvicorn (ASGI), granian and gunicorn under the
same mixed load (bench/README.md): every view is synchronous, and WSGI spares each request
ASGI's hop to a thread. But a kill -9 of granian's master leaves its workers serving: each binds
the port itself (SO_REUSEPORT), so they keep it, and a new master even binds beside them. Here
every worker is forked with PR_SET_PDEATHSIG (deathsig.py) and dies with the master; the master
is granian's own, which restarts a worker that dies. SIGTERM or SIGINT stops it gracefully.
"""

import argparse
import logging
import multiprocessing
import os
import signal
import sys

from granian import Granian
from granian.constants import Interfaces

from imagegen.logs import server_logging
from imagegen.serving.deathsig import die_with_parent

LOG_LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warning", "ERROR": "error"}


def _not_the_thread_count_warning(record: logging.LogRecord) -> bool:
    # Granian warns at every start when a WSGI process may run more threads than 2 x cores + 1.
    # Ours is deliberate: a request mostly waits on the database or the storage, and 8 threads
    # served the mixed load fastest on 2 cores (bench/README.md). A warning at every start would
    # teach people to ignore warnings.
    return "seems quite high compared to the number of CPU cores" not in record.getMessage()


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegen.settings")
    from django.conf import settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--processes",
        type=int,
        default=settings.WEB_PROCESSES,
        help="worker processes (default WEB_PROCESSES: %(default)s)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=settings.WEB_THREADS,
        help="requests each process serves at once (default WEB_THREADS: %(default)s)",
    )
    return parser.parse_args(argv)


def serve(host: str, port: int, processes: int, threads: int) -> None:
    from django.conf import settings

    # Workers are forked from the master's main thread (granian spawns and respawns them
    # there), and each asks to die with it before it loads the application.
    multiprocessing.set_start_method("fork", force=True)
    master = os.getpid()
    os.register_at_fork(after_in_child=lambda: die_with_parent(signal.SIGKILL, master))
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    logging.getLogger("_granian").addFilter(_not_the_thread_count_warning)
    Granian(
        "imagegen.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=processes,
        blocking_threads=threads,
        websockets=False,
        respawn_failed_workers=True,
        respawn_interval=1.0,
        log_level=LOG_LEVELS.get(os.environ.get("LOG_LEVEL", level).upper(), "info"),
        log_dictconfig=server_logging(settings.LOGGING),  # its lines as the studio's (LOG_FORMAT)
    ).serve()


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    serve(options.host, options.port, options.processes, options.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
