"""What costs and budgets add to a request: server CPU of the estimate and of a submit with and
without limits, and of the usage page, against a bare signed-in view, side by side in one run.

Run by hand from the project root:
    .venv/bin/python bench/costs.py                 # 200 interleaved rounds, 5,000 past jobs
    .venv/bin/python bench/costs.py --rounds 500 --jobs 20000

It builds a throwaway studio (SQLite in a temporary directory, DEBUG off, as
bench/gallery_page.py does) where two people each have --jobs finished jobs spread over the last
90 days (costs recorded, four models), and times through Django's test client:

- **bare**: a signed-in view that renders `base.html` only (the baseline);
- **estimate**: POST /generate/estimate/ for GPT Image 2 (a token-priced model), as htmx sends
  it on every change of the form, for a person with limits (their standing is read too);
- **submit, no limits** / **submit, limits**: POST /generate/ (qwen-image) for a person without
  limits and for one with all three limits set, so that the difference is the budget check
  (standing, lock, counts); each submit's job is deleted again, outside the timing, so the
  counts stay the same;
- **usage 30 d** / **usage 90 d**: the usage page (two queries over the period, the charts).

CPU time is `time.process_time()` around each request. Prints medians and 90th percentiles,
queries per request, and each case over bare.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gallery_page import client_for, queries, setup_django  # noqa: E402

MODELS = ["gpt-image-2", "gpt-image-2.6-flare", "qwen-image", "doubao-seedream-5-0-260128"]


def seed(jobs: int) -> tuple[Any, Any]:
    """Two people with `jobs` finished jobs each over the last 90 days; the second has limits."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from imagegen.models import Allowance, Generation

    rnd = random.Random(13)
    free = User.objects.create_user("free")
    limited = User.objects.create_user("limited")
    Allowance.objects.create(
        user=limited, monthly_spend_cap=Decimal("100000"), daily_image_cap=1_000_000,
        jobs_per_minute=1_000_000,
    )  # fmt: skip
    now = timezone.now()
    for owner in (free, limited):
        rows = []
        for _ in range(jobs):
            n = rnd.choice([1, 1, 2, 4])
            rows.append(
                Generation(
                    owner=owner,
                    model_name=rnd.choice(MODELS),
                    prompt="a kite",
                    status="succeeded",
                    parameters={"n": n, "size": "1024x1024"},
                    images_returned=n,
                    cost=Decimal(rnd.randint(5_000, 200_000)) / 1_000_000,
                    cost_currency="USD",
                    cost_basis="price",
                )
            )
        made = Generation.objects.bulk_create(rows, batch_size=2000)
        for job in made:  # created_at is auto_now_add: spread the jobs over 90 days afterwards
            job.created_at = now - timedelta(seconds=rnd.randint(0, 90 * 86400))
        Generation.objects.bulk_update(made, ["created_at"], batch_size=2000)
    return free, limited


def poster(client: Any, url: str, data: dict[str, Any], status: int) -> Callable[[], Any]:
    def post() -> Any:
        response = client.post(url, data)
        assert response.status_code == status, (url, response.status_code)
        return response

    return post


def submitter(client: Any, owner: Any) -> Callable[[], Any]:
    from imagegen.models import Generation

    data = {"model": "qwen-image", "prompt": "a lantern", "size": "1328x1328"}
    post = poster(client, "/generate/", data, 302)

    def submit() -> Any:
        response = post()
        # Not timed apart: the delete is part of the round for both submit cases alike.
        Generation.objects.filter(owner=owner, status="queued").delete()
        return response

    return submit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-costs-") as work:
        setup_django(Path(work))
        from django.test.utils import override_settings

        free, limited = seed(args.jobs)
        with override_settings(
            TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
        ):
            free_client, limited_client = client_for(free), client_for(limited)
            estimate = {"model": "gpt-image-2", "prompt": "a kite over dunes", "n": "2",
                        "size": "1024x1536", "quality": "high", "output_format": "png",
                        "background": "auto", "moderation": "auto"}  # fmt: skip
            cases = {
                "bare": lambda: limited_client.get("/bench/bare/"),
                "estimate": poster(limited_client, "/generate/estimate/", estimate, 200),
                "submit, no limits": submitter(free_client, free),
                "submit, limits": submitter(limited_client, limited),
                "usage 30 d": lambda: limited_client.get("/usage/"),
                "usage 90 d": lambda: limited_client.get("/usage/?days=90"),
            }
            counts = {name: queries(case) for name, case in cases.items()}
            for case in cases.values():
                for _ in range(5):
                    case()
            spent: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(args.rounds):
                for name, case in cases.items():
                    started = time.process_time()
                    case()
                    spent[name].append((time.process_time() - started) * 1000)
        bare = statistics.median(spent["bare"])
        print(f"\n{args.jobs} past jobs a person, {args.rounds} rounds")
        print(f"{'case':<20}{'median ms':>10}{'p90 ms':>9}{'queries':>9}{'x bare':>8}")
        for name, samples in spent.items():
            median = statistics.median(samples)
            p90 = statistics.quantiles(samples, n=10)[-1]
            print(f"{name:<20}{median:>10.2f}{p90:>9.2f}{counts[name]:>9}{median / bare:>8.2f}")
        no_limits = statistics.median(spent["submit, no limits"])
        limits = statistics.median(spent["submit, limits"])
        print(
            f"\nthe budget check adds {limits - no_limits:.2f} ms to a submit "
            f"({limits / no_limits:.2f}x)"
            f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()
