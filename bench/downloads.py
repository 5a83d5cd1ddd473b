"""Memory of 64 large downloads at once: before (each thread holds its whole body, as downloads
did) and after (spooled to a temporary file, read into memory within DOWNLOAD_MEMORY_BUDGET).

Run by hand from the project root:
    .venv/bin/python bench/downloads.py [--threads 64] [--size-mib 16] [--budget-mib 64 256]

A threaded HTTP server on loopback sends the bodies slowly, in 64 KiB chunks, without a length;
every other one is half again over DOWNLOAD_MAX_BYTES (= --size-mib), so it is refused once read
that far. Each run is a process of its own (tests/download_memory.py) that fetches every URL at
once through the studio's download path with a real httpx client and holds each kept body for
--hold seconds, as ingest would; it reports its resident memory growth (sampled every 5 ms) and
tracemalloc's peak.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.download_memory import slow_server  # noqa: E402

MIB = 1024 * 1024


def run(urls: list[str], size: int, budget: int, *extra: str) -> dict[str, int]:
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tempfile.gettempdir()}/bench-downloads.sqlite3",
        "SECRET_KEY": "bench-only",
        "DEBUG": "0",
        "COMETAPI_KEY": "",
        "LOG_LEVEL": "ERROR",
        "DOWNLOAD_MAX_BYTES": str(size),
        "DOWNLOAD_MEMORY_BUDGET": str(budget),
        "DOWNLOAD_TIMEOUT": "300",
    }
    finished = subprocess.run(
        [sys.executable, "-m", "tests.download_memory", *urls, *extra],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(finished.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--size-mib", type=int, default=16)
    parser.add_argument("--budget-mib", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--hold", default="0.2")
    args = parser.parse_args()
    size = args.size_mib * MIB
    sizes = [size if n % 2 else size * 3 // 2 for n in range(args.threads)]
    print(
        f"{args.threads} downloads at once, {args.threads // 2} of {args.size_mib} MiB kept and "
        f"{args.threads // 2} of {args.size_mib * 3 // 2} MiB refused; each kept body held "
        f"{args.hold} s"
    )
    print(f"{'':28} {'RSS growth':>11} {'traced peak':>12} {'seconds':>8}")
    with slow_server() as base:
        urls = [f"{base}/{s}" for s in sizes]
        before = run(urls, size, size, "--whole", "--hold", args.hold)
        runs = [("before: bodies held whole", before)]
        for budget in args.budget_mib:
            label = f"after: budget {budget} MiB"
            runs.append((label, run(urls, size, budget * MIB, "--hold", args.hold)))
    for label, measured in runs:
        growth, traced = measured["rss_growth"] / MIB, measured["traced_peak"] / MIB
        print(f"{label:28} {growth:8.0f} MiB {traced:8.0f} MiB {measured['seconds']:8.1f}")


if __name__ == "__main__":
    main()
