"""Server CPU spent keeping a page's running jobs up to date, for 2 and 64 jobs on one page.

Run by hand from the project root:  .venv/bin/python bench/status_polling.py [--seconds 20]

Until issue 11 every running job's card polled its own URL once a second (GET /generations/<id>/
with HX-Request, a whole card drawn each time); now a page sends one status request a second,
GET /generations/status/?job=<id:status:previews>..., answered with only the cards that changed.
This measures, in this process, the CPU time (time.process_time) of one second's worth of those
requests through Django's test client: N card requests, or one status request. Run from a tree
before issue 11 it measures the card polling (it looks for the `generation_status` URL); copy
it there to compare, as bench/README.md shows. Two cases for the status request: "steady" (no
job changed since the last request: the usual second) and "all changed" (every job has a new
streamed preview: every card drawn). The jobs sit in the running state; no worker runs them.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_SIZES = (2, 64)


def setup_django(workdir: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="imagegen.settings",
        SECRET_KEY="bench-only",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        MEDIA_ROOT=str(workdir / "media"),
    )
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    call_command("migrate", verbosity=0)


def running_jobs(owner, count: int) -> list:
    from django.utils import timezone

    from imagegen.models import Generation

    return [
        Generation.objects.create(
            owner=owner,
            model_name="gpt-image-2",
            prompt=f"A lantern on a pier, number {n}",
            parameters={"n": 1, "size": "1024x1024"},
            status=Generation.Status.RUNNING,
            started_at=timezone.now(),
        )
        for n in range(count)
    ]


def cpu_ms(work, seconds: int) -> tuple[float, float]:
    """Median and 90th percentile CPU milliseconds of `work` (one second's requests)."""
    for _ in range(3):
        work()
    spent = []
    for _ in range(seconds):
        started = time.process_time()
        work()
        spent.append((time.process_time() - started) * 1000)
    spent.sort()
    return statistics.median(spent), spent[int(len(spent) * 0.9) - 1]


HTMX = {"HX-Request": "true"}


def poll_cards(client, urls: list[str]) -> None:
    for url in urls:
        assert client.get(url, headers=HTMX).status_code == 200


def poll_status(client, url: str, tokens: list[str], expected_cards: int) -> None:
    response = client.get(url, {"job": tokens}, headers=HTMX)
    assert response.status_code == 200
    assert response.content.count(b"<article") == expected_cards


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="polling seconds measured")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        setup_django(Path(workdir))
        from django.contrib.auth.models import User
        from django.test import Client
        from django.urls import NoReverseMatch, reverse

        from imagegen.models import Generation

        try:
            status_url = reverse("generation_status")
        except NoReverseMatch:
            status_url = None
        print(f"Tree: {ROOT} ({'one status request a page' if status_url else 'cards poll'})")
        print(f"CPU ms per polling second, {args.seconds} seconds measured: median, p90")
        for count in PAGE_SIZES:
            owner = User.objects.create_user(f"bench{count}")
            client = Client()
            client.force_login(owner)
            jobs = running_jobs(owner, count)
            cases = []
            if status_url is None:
                urls = [reverse("generation", args=[job.pk]) for job in jobs]
                cases.append(("one request per card", partial(poll_cards, client, urls)))
            else:
                tokens = [job.status_token for job in jobs]
                stale = [token.rsplit(":", 1)[0] + ":-1" for token in tokens]
                steady = partial(poll_status, client, status_url, tokens, 0)
                changed = partial(poll_status, client, status_url, stale, count)
                cases += [("one status request, steady", steady)]
                cases += [("one status request, all changed", changed)]
            for name, work in cases:
                median, p90 = cpu_ms(work, args.seconds)
                print(f"  {count:>3} jobs, {name:<32} {median:7.1f} {p90:7.1f}")
            Generation.objects.filter(owner=owner).delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
