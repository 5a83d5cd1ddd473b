"""The gallery page's own cost: server CPU for a signed-in page of 60 tiles against a bare
signed-in view, measured side by side in one run.

Run by hand from the project root:
    .venv/bin/python bench/gallery_page.py               # 200 interleaved rounds
    .venv/bin/python bench/gallery_page.py --rounds 500
    .venv/bin/python bench/gallery_page.py --profile     # adds a cProfile of the gallery page

To compare with the gallery before issue 12's grid, run this same file in a checkout of it,
with this checkout's virtualenv:
    git worktree add /tmp/before-grid e4c39b6
    cp bench/gallery_page.py /tmp/before-grid/bench/
    (cd /tmp/before-grid && "$OLDPWD/.venv/bin/python" bench/gallery_page.py)

It builds a throwaway studio (SQLite in a temporary directory, DEBUG off, as bench/gallery.py
does) with one person's 60 images in jobs of one, two or four images (mixed sizes, prompts in
English, Arabic and Japanese, some favourites), and times, through Django's test client and the
whole middleware stack (session, CSRF, CSP, gzip: the request asks for it as a browser does):

- **bare**: a signed-in view that renders `base.html` and nothing else (the site's header and
  footer, the language form): what any signed-in page costs before its own content;
- **gallery**: `/images/`, the first page, 60 tiles;
- **gallery, empty**: the same page for a person with no images (filters and no tiles), so that
  (gallery - empty) / 60 is what one tile costs.

Each round runs the three in turn, so a busy machine weighs on all alike. CPU time is
`time.process_time()` around each request, in this process. It prints medians and 90th
percentiles, the queries of each page, and gallery/bare. Target (issue 12): gallery <= 2x bare.
"""

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
import types
import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/, whose gallery.py would hide the gallery app
TARGET_RATIO = 2.0
TILES = 60
SIZES = [(1024, 1024), (1536, 1024), (1024, 1536), (1792, 1024), (1664, 928), (2048, 2048)]
MODELS = ["gpt-image-2", "gpt-image-2.6-flare", "qwen-image", "doubao-seedream-5-0-260128"]


def setup_django(workdir: Path) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="imagegen.settings",
        SECRET_KEY="bench-only",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="testserver",
        MEDIA_ROOT=str(workdir / "media"),
        DATABASE_URL=f"sqlite:///{workdir / 'page.sqlite3'}",
    )
    os.environ.pop("COMETAPI_KEY", None)
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.ROOT_URLCONF = bench_urls().__name__
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    call_command("migrate", verbosity=0)


def bench_urls() -> types.ModuleType:
    """The project's URLs plus /bench/bare/, a signed-in view with no content of its own."""
    from django.http import HttpRequest, HttpResponse
    from django.shortcuts import render
    from django.urls import include, path

    def bare(request: HttpRequest) -> HttpResponse:
        return render(request, "base.html")

    module = types.ModuleType("bench_gallery_page_urls")
    module.urlpatterns = [path("bench/bare/", bare), path("", include("imagegen.urls"))]  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    return module


def seed() -> tuple[Any, Any]:
    """A person with 60 images in jobs of 1, 2 or 4, and one with none."""
    from django.contrib.auth.models import User

    from bench.gallery import prompt_for
    from gallery.models import Image
    from imagegen.models import Generation

    rnd = random.Random(12)
    owner = User.objects.create_user("pages")
    empty = User.objects.create_user("empty")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    made = 0
    while made < TILES:
        n = min(rnd.choice([1, 1, 2, 4]), TILES - made)
        prompt, _english = prompt_for(rnd, "")
        width, height = rnd.choice(SIZES)
        model = rnd.choice(MODELS)
        moment += timedelta(minutes=rnd.randint(1, 30))
        job = Generation.objects.create(
            owner=owner, model_name=model, prompt=prompt, status="succeeded", attempts=1,
            parameters={"n": n, "size": f"{width}x{height}"},
        )  # fmt: skip
        scale = 512 / max(width, height)
        grid = 320 / max(width, height)
        for index in range(n):
            key = uuid.UUID(int=rnd.getrandbits(128))
            row = dict(
                uuid=key, owner=owner, generation=job, index=index,
                file=f"originals/{moment:%Y/%m}/{key}.png",
                thumbnail=f"thumbnails/{moment:%Y/%m}/{key}.webp",
                grid=f"grid/{moment:%Y/%m}/{key}.webp",
                width=width, height=height,
                thumbnail_width=round(width * scale), thumbnail_height=round(height * scale),
                grid_width=round(width * grid), grid_height=round(height * grid),
                format="png", bytes=rnd.randint(200_000, 3_000_000),
                sha256=f"{rnd.getrandbits(256):064x}", model_name=model, prompt=prompt,
                favourite=rnd.random() < 0.15, created_at=moment,
            )  # fmt: skip
            if not hasattr(Image, "grid"):  # a checkout from before grid renditions
                row = {k: v for k, v in row.items() if not k.startswith("grid")}
            Image.objects.create(**row)
        made += n
    return owner, empty


def client_for(user: Any) -> Any:
    from django.test import Client

    client = Client(headers={"Accept-Encoding": "gzip, deflate, br"})
    client.force_login(user)
    return client


def getter(client: Any, url: str) -> Callable[[], Any]:
    def get() -> Any:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return get


def queries(get: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        get()
    return len(captured.captured_queries)


def run(cases: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    for get in cases.values():  # warm: templates loaded, URL resolvers and translations built
        for _ in range(5):
            get()
    spent: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, get in cases.items():
            started = time.process_time()
            get()
            spent[name].append((time.process_time() - started) * 1000)
    return spent


def report(spent: dict[str, list[float]], counts: dict[str, int], page_bytes: int) -> bool:
    print(f"\n{'case':<18}{'median ms':>10}{'p90 ms':>9}{'queries':>9}")
    medians = {}
    for name, samples in spent.items():
        medians[name] = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        print(f"{name:<18}{medians[name]:>10.2f}{p90:>9.2f}{counts[name]:>9}")
    ratio = medians["gallery"] / medians["bare"]
    per_tile = (medians["gallery"] - medians["gallery, empty"]) / TILES
    print(
        f"\ngallery / bare: {ratio:.2f}x (target <= {TARGET_RATIO:g}x: "
        f"{'met' if ratio <= TARGET_RATIO else 'NOT met'})"
        f"\none tile: {per_tile * 1000:.0f} us ((gallery - empty) / {TILES}); "
        f"the page: {page_bytes / 1024:.0f} KiB of HTML before gzip"
        f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    return ratio <= TARGET_RATIO


def profile(get: Callable[[], Any]) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(50):
        get()
    profiler.disable()
    print("\ncProfile of 50 gallery pages, top 30 by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-gallery-page-") as tmp:
        setup_django(Path(tmp))
        owner, empty = seed()
        mine, nobody = client_for(owner), client_for(empty)
        cases = {
            "bare": getter(mine, "/bench/bare/"),
            "gallery": getter(mine, "/images/"),
            "gallery, empty": getter(nobody, "/images/"),
        }
        page = mine.get("/images/", headers={"Accept-Encoding": "identity"})
        tiles = page.content.count(b'class="tile')
        assert tiles >= TILES, f"the page shows {tiles} tiles, not {TILES}"
        counts = {name: queries(get) for name, get in cases.items()}
        spent = run(cases, args.rounds)
        met = report(spent, counts, len(page.content))
        if args.profile:
            profile(cases["gallery"])
        return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
