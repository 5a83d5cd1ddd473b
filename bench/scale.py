"""Scale-out: 2 web processes and 2 workers on PostgreSQL and S3, 20 people browsing while 200
generations are submitted, one worker and one web process killed mid-run.

Run by hand from the project root:
    .venv/bin/python bench/scale.py                      # 200 generations, 20 clients, S3
    .venv/bin/python bench/scale.py --storage local      # files on local disk instead
    .venv/bin/python bench/scale.py --no-kill --generations 50 --clients 5

It starts its own throwaway PostgreSQL server (tests/postgres.py) and, with `--storage s3`, moto's
S3-compatible server (tests/s3_server.py), both on loopback; then tests/scale_run.py runs the
studio's processes and the clients. It prints page latency (p50/p95/p99 by page and overall),
jobs per second against the ideal, and the counts of lost jobs, duplicate images and orphan
files, and the answers of a web process that failed (5xx), which must all be 0: the exit status is
1 if any is not. See bench/README.md.
"""

import argparse
import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import postgres  # noqa: E402 (after the path is set)
from tests.scale_run import Plan, run, table  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Plan()
    parser.add_argument("--generations", type=int, default=default.generations)
    parser.add_argument("--clients", type=int, default=default.clients, help="browsing clients")
    parser.add_argument("--people", type=int, default=default.people, help="accounts used")
    parser.add_argument("--web-processes", type=int, default=default.web_processes)
    parser.add_argument("--workers", type=int, default=default.workers, help="worker processes")
    parser.add_argument("--threads", type=int, default=default.threads, help="per worker")
    parser.add_argument("--latency", type=float, default=default.latency, help="seconds a job")
    parser.add_argument("--no-kill", action="store_true", help="kill nothing")
    parser.add_argument("--no-restart", action="store_true", help="leave the killed processes down")
    parser.add_argument("--storage", choices=["s3", "local"], default="s3")
    parser.add_argument("--keep", action="store_true", help="keep the logs and files")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    plan = Plan(
        generations=args.generations,
        clients=args.clients,
        people=args.people,
        web_processes=args.web_processes,
        workers=args.workers,
        threads=args.threads,
        latency=args.latency,
        kill=not args.no_kill,
        restart_after=None if args.no_restart else Plan.restart_after,
    )
    # Every worker thread holds a connection of its own: room for all of them and the web.
    postgres.SERVER_OPTIONS += f" -c max_connections={plan.workers * plan.threads + 800}"
    root = Path(tempfile.mkdtemp(prefix="studio-scale-"))
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(postgres.running_server())
        storage: dict[str, str] = {}
        if args.storage == "s3":
            from tests.s3_server import running_server

            storage = stack.enter_context(running_server()).environment()
        print(f"PostgreSQL on :{database.port}, storage {args.storage}; logs in {root / 'logs'}")
        outcome = run(plan, database.url, root, storage)
    print(table(outcome))
    failed = any(outcome.counts.values())
    if args.keep or failed:
        print(f"\nLogs and files kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\nstorage: {args.storage}; web: imagegen.serving.web (granian, WSGI), one process each")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
