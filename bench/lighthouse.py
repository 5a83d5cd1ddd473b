"""Lighthouse on the gallery and the create page with 60 jobs, served as in production.

Run by hand from the project root (needs node/npx, /usr/bin/chromium and Playwright from the test
extra; npx fetches Lighthouse):
    .venv/bin/python bench/lighthouse.py                  # every page, mobile and desktop, once
    .venv/bin/python bench/lighthouse.py --runs 3         # three runs of each, to see the spread
    .venv/bin/python bench/lighthouse.py --page generate  # the create page only
    .venv/bin/python bench/lighthouse.py --page gallery --mode mobile --trace

It builds a throwaway studio in a temporary directory (SQLite database, media and static roots,
DEBUG off), runs migrate and collectstatic, and makes one person's 60 jobs, each finished with
one image, through the real path: the generate form, `submit_generation`, the offline provider
drawing real PNG/JPEG/WebP files at the models' sizes, and ingest with its thumbnails. Prompts mix
English, Japanese and Arabic. It then starts the production web server (granian:
`python -m imagegen.serving.web`, one process), signs in by creating a session, and for each page
and mode starts a fresh Chromium with that session cookie in its jar and runs Lighthouse 13 on it
(`--port`): on the gallery (`/images/`), the create page (`/generate/`: the form and the feed of
those 60 jobs) and, for comparison, the sign-in page, in Lighthouse's default mobile mode
(simulated slow 4G, 4x CPU slowdown) and with `--preset=desktop`. It prints the caching and
compression headers of a static file, a thumbnail and the pages; the performance, accessibility
and best-practices scores with the key metrics; the bytes of each first view by resource type
(`total-byte-weight`, `resource-summary`) and its LCP element; and the audits that lost points.
The JSON reports (and with --trace the traces, for the Performance tab of Chrome DevTools) are
kept in bench/output/lighthouse/.
Targets: all three scores >= 95 on the gallery, in both modes, and a first view of at most 300 KB
on mobile (issue 12: its tiles load the 320 px grid rendition by `srcset`); on the create page,
performance >= 95 on mobile and a first view of at most 300 KB (issue 11).
"""

import argparse
import json
import logging
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bench" / "output" / "lighthouse"
TARGET = 95
LOAD_BEFORE = os.getloadavg()[0]  # other work on the machine makes the mobile scores worse
CATEGORIES = ["performance", "accessibility", "best-practices"]
CHROME_PATH = "/usr/bin/chromium"
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking"
LIGHTHOUSE = ["npx", "--yes", "lighthouse@13"]
# Each page is (name, path, signed in).
PAGES = [
    ("gallery", "/images/", True),
    ("generate", "/generate/", True),
    ("sign-in", "/accounts/login/", False),
]
# Pages whose report must show every thumbnail answered 200 (signed in for every request).
THUMBNAIL_PAGES = {"gallery", "generate"}
# The create page's bar (issue 11): performance >= 95 on mobile, and its first view (what
# Lighthouse loads: the page, its CSS and JS, and the images it fetches before the network goes
# quiet) at most 300 KB, 300,000 bytes. Lazy images count only within Chrome's loading distance
# of the viewport (about 1250 px on a fast connection).
FIRST_VIEW_BYTES = 300_000
METRICS = [
    ("FCP s", "first-contentful-paint", 1000),
    ("LCP s", "largest-contentful-paint", 1000),
    ("TBT ms", "total-blocking-time", 1),
    ("CLS", "cumulative-layout-shift", 1),
    ("SI s", "speed-index", 1000),
]

# What people ask for: the same scenes in three languages, and the models' own sizes and formats,
# so the grid has square, wide and tall thumbnails as a real gallery does.
PROMPTS = [
    "A lighthouse on a cliff at dusk, long exposure photograph",
    "Watercolour of a fox sleeping in a misty forest, soft morning light",
    "An old fisherman mending nets on the beach, 35mm film, golden hour",
    "Isometric illustration of a tiny robot repair shop, pastel colours",
    "A samurai standing in the snow under a full moon, ukiyo-e print",
    "Cosy library with tall bookshelves and a sleeping cat by the fire",
    "海辺の猫、夕日、水彩画",
    "霧の森を歩く少女、アニメ風、柔らかな光",
    "雪山の神社、満月の夜、浮世絵風",
    "東京の街の雨の日、ネオンの反射、写真",
    "منارة على جرف عند الغروب، صورة فوتوغرافية",
    "قطة نائمة في مكتبة قديمة، ألوان مائية",
    "صياد عجوز على الشاطئ عند الفجر، لوحة زيتية",
    "تنين فوق الصحراء تحت سماء الليل، رسم بالقلم",
    "A red paper kite over green rice terraces, aerial view, highly detailed",
]
# Models a new job may use today (DALL·E 2 and 3 and GPT Image 1 have retired: the form refuses
# them), at their own sizes and formats, with URL (downloaded) and base64 results.
REQUESTS: list[dict[str, Any]] = [
    {"model": "gpt-image-2", "size": "1024x1024", "output_format": "png"},
    {"model": "gpt-image-2", "size": "1536x1024", "output_format": "jpeg"},
    {"model": "gpt-image-2.6-flare", "size": "1024x1536", "output_format": "webp"},
    {"model": "doubao-seedream-5-0-260128", "size": "2048x2048", "response_format": "url"},
    {"model": "doubao-seedream-4-5-251128", "size": "1600x2848", "response_format": "b64_json"},
    {"model": "qwen-image", "size": "1328x1328"},
    {"model": "qwen-image", "size": "1664x928"},
    {"model": "gpt-image-2.5-flare", "size": "1536x1024", "output_format": "webp"},
]


class LighthouseFailed(Exception):
    """A run that Lighthouse itself could not finish (it says to try again)."""


@dataclass(frozen=True)
class Lost:
    category: str
    title: str
    score: float
    weight: float
    value: str


@dataclass(frozen=True)
class Result:
    page: str
    mode: str
    run: int
    scores: dict[str, int]
    metrics: dict[str, float]
    transfer_bytes: int
    requests: int
    # Lighthouse's resource-summary: resource type -> (requests, transfer bytes)
    by_type: dict[str, tuple[int, int]]
    lcp_element: str
    benchmark_index: float
    lost: list[Lost]
    report: Path


def setup_django(workdir: Path) -> dict[str, str]:
    """Environment shared by this process and the server; Django set up on it here."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "imagegen.settings",
        "SECRET_KEY": "bench-only-lighthouse",
        "DEBUG": "0",
        "SECURE_COOKIES": "0",  # plain http on 127.0.0.1: a Secure cookie would not be sent
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "STATIC_ROOT": str(workdir / "static"),
        # Seeding runs each job at once, in this process; the server never runs a job.
        "TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
    }
    env.pop("COMETAPI_KEY", None)  # always the offline provider
    os.environ.update(env)
    os.environ.pop("COMETAPI_KEY", None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger("django").setLevel(logging.WARNING)  # not a line per seeded job
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    return env


def form_data(request: dict[str, Any], prompt: str) -> dict[str, Any]:
    """What the generate form posts for `request`: the model's defaults, then our choices."""
    from imagegen.forms import GenerateForm

    blank = GenerateForm(initial={"model": request["model"]})
    data = {
        name: field.initial for name, field in blank.fields.items() if field.initial is not None
    }
    data.pop("partial_images", None)
    return {**data, **request, "prompt": prompt}


def seed(count: int) -> tuple[str, str]:
    """One person with `count` images made through the generate path; returns their cookie."""
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    from gallery.models import Image
    from imagegen.forms import GenerateForm
    from imagegen.models import Generation
    from imagegen.submissions import submit_generation

    owner = User.objects.create_user("lighthouse", password="bench-only-password")
    started = time.monotonic()
    for n in range(count):
        request = REQUESTS[n % len(REQUESTS)]
        prompt = PROMPTS[n % len(PROMPTS)] + ("" if n < len(PROMPTS) else f" #{n}")
        form = GenerateForm(data=form_data(request, prompt))
        if not form.is_valid():
            raise SystemExit(f"the form refused {request}: {form.errors.as_text()}")
        generation = submit_generation(owner, form)  # the immediate backend runs it here
        generation.refresh_from_db()
        if generation.status != "succeeded":
            raise SystemExit(
                f"generation {n} ended {generation.status}: {generation.error_message}"
            )
    images = Image.objects.filter(owner=owner)
    if images.count() != count:
        raise SystemExit(f"expected {count} images, found {images.count()}")
    # The create page's feed shows every job: `count` of them, each finished with its one image.
    jobs = Generation.objects.filter(owner=owner)
    finished = jobs.filter(status=Generation.Status.SUCCEEDED).count()
    if jobs.count() != count or finished != count:
        raise SystemExit(f"expected {count} finished jobs, found {finished} of {jobs.count()}")
    thumbs = sum(Path(i.thumbnail.path).stat().st_size for i in images)
    print(
        f"seeded {count} finished jobs of one image each in {time.monotonic() - started:.1f} s "
        f"(thumbnails {thumbs / 1024:.0f} KiB in all)",
        flush=True,
    )

    signed_in = Client()
    signed_in.force_login(owner)  # a session as the sign-in form makes one
    session_key = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    return settings.SESSION_COOKIE_NAME, session_key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """The README's production command, with one worker."""
    command = [sys.executable, "-m", "imagegen.serving.web", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--processes", "1"]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/accounts/login/", server, f"the server (see {log})")
    except BaseException:
        stop(server)
        raise
    return server


def wait_for(url: str, process: subprocess.Popen, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise SystemExit(f"{name} did not answer within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    """End a process started in its own session, and everything it started."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def show_headers(base: str, cookie: tuple[str, str]) -> None:
    """The caching and compression a browser gets for a static file and a private thumbnail."""
    from django.templatetags.static import static

    from gallery.models import Image

    thumbnail = f"/images/{Image.objects.order_by('-id').first().uuid}/thumbnail"
    print("\nresponse headers (Accept-Encoding: gzip, br):")
    for path in [
        static("css/studio.css"),
        static("js/studio.js"),
        thumbnail,
        "/images/",
        "/generate/",
    ]:
        request = urllib.request.Request(base + path, headers={"Accept-Encoding": "gzip, br"})
        request.add_header("Cookie", "=".join(cookie))
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            print(
                f"  {path[:60]:<60} {len(body):>7} B  "
                f"encoding={response.headers.get('Content-Encoding', '-')}  "
                f"cache-control={response.headers.get('Cache-Control', '-')}"
            )


@contextmanager
def chromium(workdir: Path, base: str, cookie: tuple[str, str] | None) -> Iterator[int]:
    """A fresh Chromium with the session cookie in its jar; yields its debugging port.

    Lighthouse connects to it (--port) instead of launching its own: a Cookie header passed with
    --extra-headers is dropped by Chrome as soon as the page sets a cookie of its own (Django's
    CSRF cookie; Lighthouse issue #6207), and the thumbnails would then be redirects to the
    sign-in page. Lighthouse clears the cache and the origin's storage before loading, not cookies.
    """
    port = free_port()
    profile = tempfile.mkdtemp(prefix="chromium-", dir=workdir)
    command = [CHROME_PATH, *CHROME_FLAGS.split(), f"--remote-debugging-port={port}"]
    command += [f"--user-data-dir={profile}", "about:blank"]
    browser = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/json/version", browser, "chromium")
        if cookie:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                cdp = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
                name, value = cookie
                cdp.contexts[0].add_cookies(
                    [{"name": name, "value": value, "url": base, "httpOnly": True}]
                )
        yield port
    finally:
        stop(browser)


def lighthouse(url: str, mode: str, report: Path, port: int, trace: bool) -> None:
    command = [*LIGHTHOUSE, url, f"--port={port}", "--output=json", f"--output-path={report}"]
    command += [f"--only-categories={','.join(CATEGORIES)}", "--quiet"]
    if mode == "desktop":
        command.append("--preset=desktop")
    if trace:
        command.append("--save-assets")  # the trace, to open in Chrome DevTools' Performance tab
    print(f"$ CHROME_PATH={CHROME_PATH} {shlex.join(command)}", flush=True)
    env = {**os.environ, "CHROME_PATH": CHROME_PATH}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not report.exists():
        raise LighthouseFailed(done.stderr.strip().splitlines()[-1] if done.stderr else "")


def measure(
    workdir: Path, base: str, page: str, path: str, mode: str, run: int,
    cookie: tuple[str, str] | None, trace: bool,
) -> Result:  # fmt: skip
    """One Lighthouse run, tried again (up to twice) when Lighthouse fails on its own."""
    report = OUTPUT / f"{page}-{mode}-{run}.json"
    for attempt in range(1, 4):
        try:
            with chromium(workdir, base, cookie) as port:
                lighthouse(base + path, mode, report, port, trace)
            return read_report(page, mode, run, report)
        except LighthouseFailed as error:
            print(f"  lighthouse failed ({error}); attempt {attempt} of 3", flush=True)
            report.unlink(missing_ok=True)
    raise SystemExit(f"lighthouse failed three times on {path} ({mode})")


def read_report(page: str, mode: str, run: int, report: Path) -> Result:
    data = json.loads(report.read_text())
    if data.get("runtimeError"):
        raise LighthouseFailed(data["runtimeError"].get("message", "runtime error"))
    audits = data["audits"]
    scores = {name: round(100 * (data["categories"][name]["score"] or 0)) for name in CATEGORIES}
    metrics = {label: audits[key]["numericValue"] / scale for label, key, scale in METRICS}
    lost = []
    for name in CATEGORIES:
        for ref in data["categories"][name]["auditRefs"]:
            audit = audits[ref["id"]]
            if audit["scoreDisplayMode"] in {"notApplicable", "manual", "informative"}:
                continue
            # Performance insights and diagnostics carry no weight; only metrics make its score.
            if audit["score"] is not None and audit["score"] < (
                0.9 if name == "performance" else 1
            ):
                lost.append(
                    Lost(name, audit["title"], audit["score"], ref.get("weight", 0),
                         audit.get("displayValue", ""))
                )  # fmt: skip
    requests = audits["network-requests"]["details"]["items"]
    if page in THUMBNAIL_PAGES:
        # Signed in for every request, or the figures are those of 60 redirects.
        thumbnails = [item for item in requests if item["url"].endswith(("/thumbnail", "/grid"))]
        # -1: a request the browser dropped (an image that chose the other `srcset` candidate
        # once laid out), not one the server refused.
        if not thumbnails or any(item["statusCode"] not in (200, -1) for item in thumbnails):
            statuses = sorted({item["statusCode"] for item in thumbnails})
            raise SystemExit(f"{report}: thumbnails answered {statuses}, not all 200")
    return Result(
        page=page,
        mode=mode,
        run=run,
        scores=scores,
        metrics=metrics,
        transfer_bytes=int(audits["total-byte-weight"]["numericValue"]),
        requests=len(requests),
        by_type={
            item["resourceType"]: (item["requestCount"], int(item["transferSize"]))
            for item in audits["resource-summary"]["details"]["items"]
            if item["resourceType"] != "total" and item["requestCount"]
        },
        lcp_element=lcp_element(audits),
        benchmark_index=data["environment"]["benchmarkIndex"],
        lost=lost,
        report=report,
    )


def lcp_element(audits: dict[str, Any]) -> str:
    """The node Lighthouse names as the Largest Contentful Paint, as a short selector."""
    for key in ("lcp-breakdown-insight", "largest-contentful-paint-element"):
        for item in _walk(audits.get(key, {}).get("details", {})):
            if isinstance(item, dict) and item.get("type") == "node":
                return item.get("selector") or item.get("snippet", "")[:80]
    return "?"


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for inner in value.values():
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)


def target_met(r: Result) -> bool:
    """The gallery: all three scores >= 95 in both modes, and a first view of at most 300 KB on
    mobile (issue 12). The create page: performance >= 95 on mobile and a first view of at most
    300 KB (desktop: the same two, reported as information)."""
    if r.page == "generate":
        return r.scores["performance"] >= TARGET and r.transfer_bytes <= FIRST_VIEW_BYTES
    if r.page == "gallery" and r.mode == "mobile" and r.transfer_bytes > FIRST_VIEW_BYTES:
        return False  # issue 12
    return all(score >= TARGET for score in r.scores.values())


def print_table(results: list[Result]) -> None:
    print()
    header = f"{'page':<9}{'mode':<9}{'run':>4}{'perf':>6}{'a11y':>6}{'b.p.':>6}"
    header += "".join(f"{label:>8}" for label, _key, _scale in METRICS)
    header += f"{'KiB':>7}{'reqs':>6}{'bench':>7}  target"
    print(header)
    print("-" * len(header))
    for r in results:
        met = target_met(r)
        line = f"{r.page:<9}{r.mode:<9}{r.run:>4}"
        line += "".join(f"{r.scores[name]:>6}" for name in CATEGORIES)
        for label, _key, _scale in METRICS:
            value = r.metrics[label]
            line += f"{value:>8.3f}" if label == "CLS" else f"{value:>8.2f}"
        line += f"{r.transfer_bytes / 1024:>7.0f}{r.requests:>6}{r.benchmark_index:>7.0f}"
        print(f"{line}  {'met' if met else 'MISSED'}")
    print(
        "perf/a11y/b.p.: performance, accessibility, best practices (0-100); metrics as\n"
        "Lighthouse reports them (mobile: simulated slow 4G and 4x CPU slowdown); KiB: total\n"
        "transfer size; reqs: network requests; bench: Lighthouse's benchmarkIndex of this\n"
        "machine at that moment (higher is faster).\n"
        f"Targets: gallery, every score >= {TARGET} (mobile and desktop) and a first view of at\n"
        f"most {FIRST_VIEW_BYTES // 1000} KB on mobile; generate (the create\n"
        f"page, its feed of 60 finished jobs), performance >= {TARGET} on mobile and a first\n"
        f"view of at most {FIRST_VIEW_BYTES // 1000} KB ({FIRST_VIEW_BYTES:,} bytes); desktop is\n"
        "held to the same two.\n"
        f"{os.cpu_count()} CPUs; load average before the runs {LOAD_BEFORE:.2f}, "
        f"after {os.getloadavg()[0]:.2f}"
    )
    print("\nfirst view by resource type (Lighthouse's resource-summary: requests / KiB):")
    for r in results:
        parts = [
            f"{kind} {count} / {size / 1024:.1f}"
            for kind, (count, size) in sorted(r.by_type.items(), key=lambda item: -item[1][1])
        ]
        print(
            f"  {r.page:<9}{r.mode:<9}{r.run:>2}  total {r.transfer_bytes / 1000:.0f} KB"
            f" ({r.transfer_bytes / 1024:.0f} KiB): " + ", ".join(parts)
        )
        print(f"  {'':<20}LCP element: {r.lcp_element}")
    pairs = list(dict.fromkeys((r.page, r.mode) for r in results))
    if len(results) > len(pairs):
        print("\nmedian (lowest) over the runs:")
        for page, mode in pairs:
            rows = [r for r in results if (r.page, r.mode) == (page, mode)]
            print(
                f"  {page:<9}{mode:<9}"
                + "  ".join(
                    f"{n} {statistics.median(r.scores[n] for r in rows):g} "
                    f"({min(r.scores[n] for r in rows)})"
                    for n in CATEGORIES
                )
            )
    print("\naudits that lost points (performance: score < 0.9; others: < 1), in how many runs:")
    for page, mode in pairs:
        rows = [r for r in results if (r.page, r.mode) == (page, mode)]
        found: dict[tuple[str, str], list[Lost]] = {}
        for r in rows:
            for item in r.lost:
                found.setdefault((item.category, item.title), []).append(item)
        print(f"  {page} / {mode}:" + ("" if found else " none"))
        for (category, title), items in sorted(found.items()):
            worst = min(items, key=lambda item: item.score)
            weight = f", weight {worst.weight}" if worst.weight else ""
            value = f": {worst.value}" if worst.value else ""
            print(
                f"    [{category}] {title} ({len(items)}/{len(rows)}, "
                f"score {worst.score:.2f}{weight}){value}"
            )
    print(f"\nreports: {OUTPUT.relative_to(ROOT)}/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--runs", type=int, default=1, help="Lighthouse runs per page and mode")
    parser.add_argument("--mode", action="append", choices=["mobile", "desktop"])
    parser.add_argument("--page", action="append", choices=[name for name, *_ in PAGES])
    parser.add_argument("--trace", action="store_true", help="keep each run's trace too")
    args = parser.parse_args()
    modes = args.mode or ["mobile", "desktop"]
    pages = [page for page in PAGES if not args.page or page[0] in args.page]
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("*.json"):
        old.unlink()  # so every report there is from this run

    with tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as tmp:
        env = setup_django(Path(tmp))
        cookie = seed(args.images)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(env, port, OUTPUT / "server.log")
        results = []
        try:
            show_headers(base, cookie)
            print(
                f"\nChromium for each run: {CHROME_PATH} {CHROME_FLAGS} --remote-debugging-port=…"
            )
            for run in range(1, args.runs + 1):
                for name, path, signed_in in pages:
                    for mode in modes:
                        session = cookie if signed_in else None
                        results.append(
                            measure(Path(tmp), base, name, path, mode, run, session, args.trace)
                        )
        finally:
            stop(server)
            if results:
                print_table(results)  # also what was measured before a failure


if __name__ == "__main__":
    main()
