"""Serve the studio as production does: the web server and the workers under one supervisor.

    manage.py serve [--host H] [--port P] [--web-only | --workers-only] [--no-setup]

First `migrate` and `collectstatic` (unless --no-setup), then the web server (granian, WSGI:
imagegen/serving/web.py) and WORKER_PROCESSES worker processes (`run_workers`), kept running by
imagegen/serving/supervisor.py until SIGTERM or Ctrl-C. --web-only and --workers-only run one
half, for a service manager that runs them as two units.
"""

import logging
import signal
import socket
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from imagegen.management.commands.run_workers import positive_int
from imagegen.serving.connections import connections_needed, shortfall
from imagegen.serving.supervisor import Child, Supervisor

logger = logging.getLogger(__name__)

KILL_AFTER = 15.0  # seconds past the workers' own grace before they are killed


def port_in_use(host: str, port: int) -> bool:
    """Is something listening there already? granian's processes bind with SO_REUSEPORT, so a
    second studio started by the same user would otherwise share the port without a word."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


class Command(BaseCommand):
    help = "Run the web server and the background workers under one supervisor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on")
        halves = parser.add_mutually_exclusive_group()
        halves.add_argument("--web-only", action="store_true", help="run the web server only")
        halves.add_argument("--workers-only", action="store_true", help="run the workers only")
        parser.add_argument(
            "--no-setup",
            action="store_false",
            dest="setup",
            help="skip migrate and collectstatic (run them once per deployment instead)",
        )
        parser.add_argument(
            "--web-processes",
            type=positive_int,
            default=settings.WEB_PROCESSES,
            help="web server processes (default WEB_PROCESSES: %(default)s)",
        )
        parser.add_argument(
            "--web-threads",
            type=positive_int,
            default=settings.WEB_THREADS,
            help="requests each web process serves at once (default WEB_THREADS: %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        web = not options["workers_only"]
        workers = not options["web_only"]
        if web and port_in_use(options["host"], options["port"]):
            raise CommandError(f"Port {options['port']} on {options['host']} is in use.")
        if options["setup"]:
            call_command("migrate", interactive=False, verbosity=0)
            if web:
                call_command("collectstatic", interactive=False, verbosity=0)
        needed = connections_needed(
            web_processes=options["web_processes"] if web else 0,
            web_threads=options["web_threads"],
            workers=workers,
        )
        if warning := shortfall(needed):
            logger.warning(warning)  # on the terminal, or in the journal as JSON
        connections.close_all()  # the supervisor itself needs none
        children = []
        if web:
            children.append(self.web_server(options))
        if workers:
            children += self.worker_processes()
        sys.exit(Supervisor(children, cwd=str(settings.BASE_DIR)).run())

    def web_server(self, options: dict[str, Any]) -> Child:
        command = [
            *(sys.executable, "-m", "imagegen.serving.web"),
            *("--host", options["host"], "--port", str(options["port"])),
            *("--processes", str(options["web_processes"])),
            *("--threads", str(options["web_threads"])),
        ]
        # Killed outright with the supervisor, so the port is free at once for its restart.
        return Child("web server", command, death_signal=signal.SIGKILL, stop_timeout=30.0)

    def worker_processes(self) -> list[Child]:
        manage = str(settings.BASE_DIR / "manage.py")
        return [
            Child(
                f"worker {slot + 1}",
                [
                    *(sys.executable, manage, "run_workers", "--processes=1"),
                    *([] if slot == 0 else ["--no-sweep"]),  # one sweeper is enough
                ],
                # Should the supervisor be killed, its workers still finish their jobs.
                death_signal=signal.SIGTERM,
                stop_timeout=settings.WORKER_GRACE + KILL_AFTER,
            )
            for slot in range(settings.WORKER_PROCESSES)
        ]
