"""Download memory is bounded per process, whatever the thread count (imagegen/downloads.py).

64 downloads at once from a real loopback HTTP server that sends large bodies slowly, half of
them over DOWNLOAD_MAX_BYTES, through the studio's download path in a process of its own
(tests/download_memory.py): what the process holds stays within the documented bound,
DOWNLOAD_MEMORY_BUDGET plus a little per download in flight, where it used to hold every body.
"""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from imagegen.downloads import IN_MEMORY_COPIES, MemoryBudget
from tests.download_memory import slow_server
from tests.studio_process import REPO, studio_environment

MIB = 1024 * 1024
THREADS = 64
LIMIT = 8 * MIB  # DOWNLOAD_MAX_BYTES here
BUDGET = 16 * MIB  # DOWNLOAD_MEMORY_BUDGET here
# README: besides the budget, each download in flight holds its network buffers and the first
# SPOOL_IN_MEMORY bytes of its body; measured, about 0.3 MiB of Python objects each.
PER_DOWNLOAD_TRACED = MIB // 2
PER_DOWNLOAD_RESIDENT = MIB  # thread stacks and the allocator's bookkeeping too


def measure(tmp_path: Path, urls: list[str], *extra: str) -> dict[str, int]:
    environment = studio_environment(
        tmp_path / "db.sqlite3",
        tmp_path / "media",
        DOWNLOAD_MAX_BYTES=str(LIMIT),
        DOWNLOAD_MEMORY_BUDGET=str(BUDGET),
        DOWNLOAD_TIMEOUT="120",
        LOG_LEVEL="ERROR",
    )
    finished = subprocess.run(  # noqa: S603 (our own module)
        [sys.executable, "-m", "tests.download_memory", *urls, *extra],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout)


def test_64_oversized_downloads_at_once_stay_within_the_budget(tmp_path: Path) -> None:
    with slow_server() as base:
        # Every other one over the limit, sent without a length: refused only once read so far.
        sizes = [LIMIT if n % 2 else LIMIT + 4 * MIB for n in range(THREADS)]
        measured = measure(tmp_path, [f"{base}/{size}" for size in sizes])
    assert (measured["kept"], measured["refused"]) == (THREADS // 2, THREADS // 2)
    assert measured["budget_peak"] == BUDGET  # the budget was used, and never overdrawn
    assert measured["traced_peak"] <= BUDGET + THREADS * PER_DOWNLOAD_TRACED
    assert measured["rss_growth"] <= BUDGET + THREADS * PER_DOWNLOAD_RESIDENT
    # What it bounds: the 32 bodies kept, held at once, are 256 MiB.
    assert BUDGET + THREADS * PER_DOWNLOAD_RESIDENT < (THREADS // 2) * LIMIT / 3


def test_holding_the_whole_bodies_goes_over_that_bound(tmp_path: Path) -> None:
    """The measurement can fail: the same downloads, each body held whole as before."""
    with slow_server() as base:
        measured = measure(tmp_path, [f"{base}/{LIMIT}"] * THREADS, "--whole", "--hold", "1")
    assert measured["kept"] == THREADS
    assert measured["traced_peak"] > BUDGET + THREADS * PER_DOWNLOAD_TRACED


def test_the_budget_lets_no_more_than_its_capacity_be_held_by_many_threads() -> None:
    budget = MemoryBudget(10)
    holding, most = [0], [0]
    lock = threading.Lock()

    def hold(size: int) -> None:
        with budget.reserve(size):
            with lock:
                holding[0] += min(size, 10)
                most[0] = max(most[0], holding[0])
            time.sleep(0.01)
            with lock:
                holding[0] -= min(size, 10)

    threads = [threading.Thread(target=hold, args=(n % 7 + 1,)) for n in range(64)]
    threads.append(threading.Thread(target=hold, args=(25,)))  # above the budget: goes alone
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert most[0] <= 10 and budget.peak <= 10
    assert budget.held == 0


def test_a_job_holds_a_downloaded_image_in_the_budget_while_it_is_ingested(
    alice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real job, on a URL result (the offline provider's Seedream): the budget counts the
    image from its download until ingest is done with it, then nothing."""
    from gallery import ingest
    from imagegen import downloads, tasks
    from imagegen.models import Generation

    held_during_ingest: list[tuple[int, int]] = []
    real_ingest = ingest.ingest_image

    def ingest_image(generation: Generation, index: int, data: bytes, **kwargs: object):
        held_during_ingest.append((downloads.memory_budget().held, len(data)))
        return real_ingest(generation, index, data, **kwargs)

    monkeypatch.setattr(tasks, "ingest_image", ingest_image)
    generation = Generation.objects.create(
        owner=alice, model_name="doubao-seedream-5-0-260128", prompt="a kite",
        parameters={"size": "1280x720", "response_format": "url"},
    )  # fmt: skip
    assert tasks.run_generation.call(str(generation.pk)) == "succeeded"
    [(held, size)] = held_during_ingest
    assert held == IN_MEMORY_COPIES * size
    assert downloads.memory_budget().held == 0
    assert generation.images.count() == 1
