"""A throwaway PostgreSQL server for the test suite and the benchmarks.

    python -m tests.postgres -- COMMAND...   start a fresh server, run COMMAND with DATABASE_URL
                                              pointing at it, then stop the server and delete it
    python -m tests.postgres --check         only say whether a server can be started here

Each run gets its own cluster in a temporary directory and its own free port on 127.0.0.1, so
runs never share state and two checkouts (or two people) can test at once. The cluster is created
with a UTF-8 locale: under a C locale pg_trgm finds no trigrams in Arabic or Japanese text.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTALL_HINT = """\
PostgreSQL is not installed here, so the PostgreSQL half of `make test` cannot run.
  Install it:           sudo apt-get install postgresql   (Debian/Ubuntu; any version 13+)
  Or run SQLite only:   make test-sqlite
"""
# Durability is pointless for a database deleted after the run, and costs seconds per test run.
SERVER_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def find_bindir() -> Path | None:
    """The newest PostgreSQL server's bin directory: PG_BINDIR, Debian's layout, then PATH."""
    if os.environ.get("PG_BINDIR"):
        chosen = Path(os.environ["PG_BINDIR"])
        return chosen if (chosen / "pg_ctl").exists() else None
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if debian:
        return debian[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One private cluster: `start()`, use `url`, then `stop()` (which also deletes it)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.datadir = Path(tempfile.mkdtemp(prefix="studio-postgres-"))
        # PostgreSQL refuses to run as root; as root, run it as the `postgres` system user.
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/studio"

    def _run(self, *args: str) -> None:
        # A new session: Ctrl-C in the terminal reaches our `finally`, not the server directly.
        result = subprocess.run(  # noqa: S603 (our own argument lists)
            [*self.run_as, *args],
            capture_output=True,
            text=True,
            start_new_session=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed:\n{result.stdout}{result.stderr}")

    def start(self) -> None:
        if self.run_as:
            shutil.chown(self.datadir, "postgres", "postgres")
        cluster = self.datadir / "data"
        self._run(
            str(self.bindir / "initdb"),
            *("-D", str(cluster), "-U", "postgres", "--auth=trust", "--no-sync"),
            *("--locale=C.UTF-8", "--encoding=UTF8"),
        )
        options = f"-p {self.port} -h 127.0.0.1 -k {self.datadir} {SERVER_OPTIONS}"
        self._run(
            str(self.bindir / "pg_ctl"),
            *("start", "-w", "-D", str(cluster), "-l", str(self.datadir / "server.log")),
            *("-o", options),
        )
        self._run(str(self.bindir / "createdb"), *self._client_args, "studio")

    @property
    def _client_args(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]

    def stop(self) -> None:
        cluster = self.datadir / "data"
        if (cluster / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(cluster))
        shutil.rmtree(self.datadir, ignore_errors=True)


@contextmanager
def running_server() -> Iterator[Server]:
    """A started server, stopped and deleted on the way out, whatever happened inside."""
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit(INSTALL_HINT)
    server = Server(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that PostgreSQL exists")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args()
    if args.check:
        if find_bindir() is None:
            print(INSTALL_HINT, file=sys.stderr, end="")
            return 2
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run, after --")
    # CI stops a job with SIGTERM: pass it on to the command, then stop the server as usual.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with running_server() as server:
        print(f"PostgreSQL on 127.0.0.1:{server.port} ({server.datadir})", flush=True)
        environment = {**os.environ, "DATABASE_URL": server.url}
        return run_to_the_end(command, environment)


def run_to_the_end(command: list[str], environment: dict[str, str]) -> int:
    """Run `command`; on Ctrl-C or SIGTERM, wait for it to stop before the server goes."""
    child = subprocess.Popen(command, env=environment)  # noqa: S603 (the caller's command)
    try:
        return child.wait()
    except (KeyboardInterrupt, SystemExit):
        child.terminate()  # Ctrl-C reached it already, from the terminal; SIGTERM did not
        child.wait()
        raise


if __name__ == "__main__":
    sys.exit(main())
