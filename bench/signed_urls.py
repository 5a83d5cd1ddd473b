"""What reusing signed S3 URLs saves a browser: the tiles a gallery visit fetches from the bucket,
with a new signed URL for every request (before) and one signed as of its window's start (now).

Run by hand from the project root (needs /usr/bin/chromium and Playwright from the test extra):
    .venv/bin/python bench/signed_urls.py                  # 60 images, 3 visits of each variant
    .venv/bin/python bench/signed_urls.py --images 120 --visits 5

On object storage every file view (thumbnail, grid rendition, original) answers with a redirect,
never cached, to a URL signed by django-storages. A signature carries the second it was made, so
a new one for each request is a new address each time, and a browser cannot reuse the tile it
fetched a minute ago. gallery.object_storage.S3Storage.url now hands out the same URL for the
first half of its life, and the owner's signed answer says `private, max-age=31536000,
immutable` (gallery/media.py).

It starts moto's S3 server on loopback (tests/s3_server.py) and a throwaway studio on it (SQLite
and media in a temporary directory, migrated and collected as tests/scale_studio.py prepares the
scale run's), makes one person's images through the real ingest path (gallery.ingest.ingest_image
with a Generation: photograph-like PNGs of 0.8-0.9 MB at four aspect ratios, whose grid renditions
weigh 22-32 KB), then serves it with the production web server (`python -m imagegen.serving.web`,
two processes of 8 threads) twice in turn, on the same data:

- **before**: the same server with botocore's own clock put back before it starts, so every
  request is signed at its own second, as before (the answer headers are today's);
- **now**: the server as it ships: URLs signed as of the start of a window of half their life,
  the same from either process.

Both serve the pages with the studio's own policy, whose img-src names the bucket's origin
(gallery.media.BucketImagesAllowed); without it Chromium refuses every tile.

For each, a fresh Chromium context (an empty cache), signed in by a session cookie, visits
/images/ K times (page.goto of the same address), scrolling each tile that has not loaded into
view until every tile image is complete. A CDP session (Network domain) counts, by the visit that
asked: the studio's redirects (/grid, /thumbnail), the requests that reached the S3 endpoint over
the network and those served from the browser's cache, and the bytes that came from S3
(loadingFinished's encodedDataLength); each visit is timed from the navigation to the last tile
complete; the next visit starts in another second (a URL signed anew within the same second is
the same URL). Before the visits it asks one tile's redirect twice, a second apart, and says
whether the signed URL was the same.

The claim checked: in the "now" variant, visit 2 fetches no tile from S3 over the network. The
exit status is 1 if it does.
"""

import argparse
import io
import os
import random
import signal
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/, whose gallery.py would hide the gallery app

from tests.s3_server import running_server  # noqa: E402
from tests.scale_studio import Studio, prepare  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
USERNAME = "tiles"
TIMEOUT_MS = 60_000
# Both variants start the web process through this (`python -c`, from the repository, with the
# arguments of `python -m imagegen.serving.web`), set in granian's master before its workers are
# forked from it. `windowed` False: botocore's own clock put back (gallery.object_storage replaces
# it to sign as of a window's start), so every request signs at its own second, as before.
LAUNCHER = """import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegen.settings")
import botocore.auth, botocore.compat
import gallery.object_storage
if not {windowed!r}:
    botocore.auth.get_current_datetime = botocore.compat.get_current_datetime
from imagegen.serving.web import main
sys.exit(main(sys.argv[1:]))
"""
# True once every tile image has loaded; until then, the first one still waiting is scrolled into
# view, so that lazy tiles start (the page's first 12 are eager).
ALL_TILES = """() => {
  const tiles = [...document.querySelectorAll('.image-grid .tile img')];
  const waiting = tiles.filter((i) => !(i.complete && i.naturalWidth));
  if (waiting.length) {
    waiting[0].scrollIntoView({block: 'center'});
    return false;
  }
  return tiles.length || false;
}"""
SIZES = [(640, 640), (768, 512), (512, 768), (896, 504)]
MODELS = ["gpt-image-2", "qwen-image", "doubao-seedream-5-0-260128"]


class Variant(Studio):
    """The studio's web server, two processes on one port: as it ships (`reuse`), or signing
    every request at its own second."""

    def __init__(self, name: str, reuse: bool, environment: dict[str, str], logs: Path) -> None:
        super().__init__(environment, logs, web_processes=1, workers=0)
        self.name = name
        self.launcher = LAUNCHER.format(windowed=reuse)

    def web_arguments(self, port: int) -> list[str]:
        arguments = super().web_arguments(port)  # -m imagegen.serving.web ARGS...
        assert arguments[:2] == ["-m", "imagegen.serving.web"], arguments
        arguments = arguments[2:]
        arguments[arguments.index("--processes") + 1] = "2"  # the default WEB_PROCESSES
        return ["-c", self.launcher, *arguments]


@dataclass
class Visit:
    redirects: int = 0  # the studio's answers for /grid and /thumbnail
    s3_network: int = 0
    s3_cached: int = 0
    s3_bytes: int = 0
    failed: int = 0  # requests dropped or failed (a srcset choice changed, say)
    tiles: int = 0
    ms: float = 0.0


class Traffic:
    """Network events of one page, counted by the visit that made the request."""

    def __init__(self, cdp: Any, s3_endpoint: str) -> None:
        self.s3 = s3_endpoint
        self.visit = 0
        self.visits: dict[int, Visit] = defaultdict(Visit)
        self.asked_in: dict[str, int] = {}  # requestId -> visit
        self.url: dict[str, str] = {}  # requestId -> the address of its last hop
        self.from_cache: set[str] = set()
        self.on_s3: set[str] = set()  # requestIds whose last hop went to S3 over the network
        cdp.on("Network.requestWillBeSent", self.sent)
        cdp.on("Network.requestServedFromCache", self.served_from_cache)
        cdp.on("Network.responseReceived", self.received)
        cdp.on("Network.loadingFinished", self.finished)
        cdp.on("Network.loadingFailed", self.failed)
        cdp.send("Network.enable")

    def sent(self, event: dict[str, Any]) -> None:
        request_id = event["requestId"]
        self.asked_in.setdefault(request_id, self.visit)
        redirect = event.get("redirectResponse")
        if redirect is not None and self._is_tile_view(redirect["url"]):
            self._of(request_id).redirects += 1
        self.url[request_id] = event["request"]["url"]

    def served_from_cache(self, event: dict[str, Any]) -> None:
        self.from_cache.add(event["requestId"])

    def received(self, event: dict[str, Any]) -> None:
        request_id, response = event["requestId"], event["response"]
        if not response["url"].startswith(self.s3):
            return
        cached = (
            response.get("fromDiskCache")
            or response.get("fromMemoryCache")
            or request_id in self.from_cache
        )
        if cached:
            self._of(request_id).s3_cached += 1
        else:
            self._of(request_id).s3_network += 1
            self.on_s3.add(request_id)

    def finished(self, event: dict[str, Any]) -> None:
        if event["requestId"] in self.on_s3:
            self._of(event["requestId"]).s3_bytes += int(event["encodedDataLength"])

    def failed(self, event: dict[str, Any]) -> None:
        url = self.url.get(event["requestId"], "")
        if url.startswith(self.s3) or self._is_tile_view(url):
            self._of(event["requestId"]).failed += 1

    def _of(self, request_id: str) -> Visit:
        return self.visits[self.asked_in.get(request_id, self.visit)]

    @staticmethod
    def _is_tile_view(url: str) -> bool:
        return url.endswith(("/grid", "/thumbnail"))


def picture(width: int, height: int, seed: int) -> bytes:
    """A photograph-like PNG: blurred shapes over gradients, with texture at a few scales that
    survives the reduction to a thumbnail as a photograph's detail does (flat drawings would make
    tiles of 3 KB; these make 22-32 KB grid renditions, 44-63 KB thumbnails)."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    rnd = random.Random(seed)
    ramp = Image.linear_gradient("L").resize((width, height))
    radial = Image.radial_gradient("L").resize((width, height))
    image = Image.merge("RGB", (ramp, radial, ramp.transpose(Image.Transpose.ROTATE_180)))
    draw = ImageDraw.Draw(image)
    for _ in range(80):
        x, y, r = rnd.randrange(width), rnd.randrange(height), rnd.randrange(8, 160)
        colour = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(3))
    for scale, sigma in ((8, 36), (3, 16), (1, 6)):
        size = (width // scale, height // scale)
        noise = Image.merge("RGB", [Image.effect_noise(size, sigma) for _ in range(3)])
        image = ImageChops.add(
            image, noise.resize((width, height), Image.Resampling.BICUBIC), offset=-128
        )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed(environment: dict[str, str], count: int) -> tuple[list[str], tuple[str, str]]:
    """One person with `count` images, stored in the bucket through the real ingest path; returns
    their UUIDs and a session cookie of theirs. Django runs in this process, before Playwright
    (whose event loop in the main thread would make Django refuse the database)."""
    os.environ.update(environment, DJANGO_SETTINGS_MODULE="imagegen.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    from bench.lighthouse import PROMPTS
    from gallery.ingest import ingest_image
    from imagegen.models import Generation

    owner = User.objects.create_user(USERNAME)
    started = time.monotonic()
    uuids, sizes = [], {"original": 0, "thumbnail": 0, "grid": 0}
    for n in range(count):
        width, height = SIZES[n % len(SIZES)]
        generation = Generation.objects.create(
            owner=owner,
            model_name=MODELS[n % len(MODELS)],
            prompt=PROMPTS[n % len(PROMPTS)],
            parameters={"n": 1, "size": f"{width}x{height}"},
            status=Generation.Status.SUCCEEDED,
        )
        image = ingest_image(generation, 0, picture(width, height, seed=n))
        uuids.append(str(image.uuid))
        for name in sizes:
            sizes[name] += getattr(image, "file" if name == "original" else name).size
    print(
        f"seeded {count} images in the bucket in {time.monotonic() - started:.0f} s: "
        + ", ".join(f"{name}s {total / count / 1024:.0f} KiB" for name, total in sizes.items())
        + " on average",
        flush=True,
    )
    signed_in = Client()
    signed_in.force_login(owner)  # a session as the sign-in form makes one
    session_key = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    return uuids, (settings.SESSION_COOKIE_NAME, session_key)


def same_url_twice(page: Any, base: str, uuid: str) -> bool:
    """Does the studio hand out the same signed URL for one tile, asked twice a second apart?"""
    locations = []
    for attempt in range(2):
        if attempt:
            time.sleep(1.1)  # a signature made a second later differs (X-Amz-Date)
        answer = page.request.get(f"{base}/images/{uuid}/grid", max_redirects=0)
        assert answer.status == 302, f"/images/{uuid}/grid answered {answer.status}"
        locations.append(answer.headers["location"])
    return locations[0] == locations[1]


def not_loaded(page: Any, variant: str, visit: int, console: list[str]) -> str:
    """Why the tiles did not all load: those still waiting, and what the console said."""
    waiting = page.evaluate(
        """() => [...document.querySelectorAll('.image-grid .tile img')]
          .filter((i) => !(i.complete && i.naturalWidth)).map((i) => i.currentSrc || i.src)"""
    )
    lines = [f"{variant}, visit {visit}: {len(waiting)} tiles not loaded in {TIMEOUT_MS} ms"]
    lines += [f"  {url}" for url in waiting[:5]]
    lines += [f"  console {line[:300]}" for line in console[-5:]]
    return "\n".join(lines)


def measure(
    browser: Any, variant: Variant, cookie: tuple[str, str], s3: str, uuid: str, visits: int
) -> Any:
    """Signed in, in a fresh context (an empty cache), visit the gallery `visits` times."""
    base = variant.urls[0]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        name, value = cookie
        context.add_cookies([{"name": name, "value": value, "url": base, "httpOnly": True}])
        # Through Playwright's own client, which shares the cookies but not the browser's cache.
        answer = page.request.get(f"{base}/accounts/settings/", max_redirects=0)
        if answer.status != 200:
            raise RuntimeError(f"the session was refused by {base} ({answer.status})")
        same = same_url_twice(page, base, uuid)
        traffic = Traffic(context.new_cdp_session(page), s3)
        for number in range(1, visits + 1):
            traffic.visit = number
            started = time.perf_counter()
            page.goto(f"{base}/images/", wait_until="domcontentloaded")
            try:
                tiles = page.wait_for_function(ALL_TILES, timeout=TIMEOUT_MS, polling="raf")
            except PlaywrightTimeout:
                raise RuntimeError(not_loaded(page, variant.name, number, console)) from None
            traffic.visits[number].ms = (time.perf_counter() - started) * 1000
            traffic.visits[number].tiles = tiles.json_value()
            # The last events of this visit's requests come in; and the next visit is in another
            # second: a URL signed anew within the same second is the same URL (X-Amz-Date), which
            # would let the old code's visits share some tiles, as a person's never would.
            page.wait_for_timeout(1100)
        traffic.visit = visits + 1  # anything later is no visit's
        return same, [traffic.visits[number] for number in range(1, visits + 1)]
    finally:
        context.close()


def report(results: dict[str, tuple[bool, list[Visit]]], load_before: float) -> bool:
    header = (
        f"{'variant':<8}{'visit':>6}{'tiles':>7}{'redirects':>11}{'S3 network':>12}"
        f"{'S3 cached':>11}{'MB from S3':>12}{'ms to all tiles':>17}{'failed':>8}"
    )
    print(f"\n{header}\n{'-' * len(header)}")
    for name, (_same, visits) in results.items():
        for number, v in enumerate(visits, 1):
            print(
                f"{name:<8}{number:>6}{v.tiles:>7}{v.redirects:>11}{v.s3_network:>12}"
                f"{v.s3_cached:>11}{v.s3_bytes / 1e6:>12.2f}{v.ms:>17.0f}{v.failed:>8}"
            )
    print(
        "redirects: the studio's answers for a tile (/grid, /thumbnail: never cached); S3 network"
        "\nand S3 cached: requests for the signed URLs that reached the bucket and that the"
        "\nbrowser served from its cache; MB from S3: bytes over the network from the bucket;"
        "\nfailed: tile requests dropped or failed."
    )
    for name, (same, _visits) in results.items():
        got = "the same" if same else "a new"
        print(f"{name}: one tile asked twice, a second apart, got {got} signed URL")
    after = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load_before:.2f} before, {after:.2f} after")
    second = results["now"][1][1]
    # Every tile came from somewhere: no count of 0 from events that were never seen.
    held = second.s3_network == 0 and second.s3_cached >= second.tiles > 0
    if held:
        print(
            "\nCLAIM HOLDS: visit 2 of 'now' fetched no tile from S3 over the network "
            f"({second.s3_cached} from the browser's cache)"
        )
    else:
        print(
            f"\nCLAIM FAILS: visit 2 of 'now' fetched {second.s3_network} tiles from S3 over the "
            f"network ({second.s3_bytes / 1e6:.2f} MB) and {second.s3_cached} from the browser's "
            f"cache, for {second.tiles} tiles"
        )
    return held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60, help="images in the gallery (default 60)")
    parser.add_argument("--visits", type=int, default=3, help="visits of /images/ (default 3)")
    args = parser.parse_args()
    if args.visits < 2 or args.images < 1:
        parser.error("at least one image and two visits: the claim is about the second")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # through every `finally` below
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="bench-signed-urls-") as tmp, running_server() as s3:
        root = Path(tmp)
        print(f"S3 (moto) on {s3.endpoint_url}; studio in {root}", flush=True)
        prepared = prepare(
            root, f"sqlite:///{root / 'studio.sqlite3'}", web_processes=1, workers=0,
            **s3.environment(),
        )  # fmt: skip
        uuids, cookie = seed(prepared.environment, args.images)
        variants = [
            Variant("before", False, prepared.environment, prepared.logs),
            Variant("now", True, prepared.environment, prepared.logs),
        ]

        results = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for variant in variants:
                    try:
                        variant.start()
                        print(f"{variant.name}: serving on {variant.urls[0]}", flush=True)
                        results[variant.name] = measure(
                            browser, variant, cookie, s3.endpoint_url, uuids[0], args.visits
                        )
                    except RuntimeError:
                        for log in sorted(prepared.logs.glob("*.log")):
                            print(f"--- {log.name}\n{log.read_text()[-4000:]}", file=sys.stderr)
                        raise
                    finally:
                        variant.stop()
            finally:
                browser.close()
        return 0 if report(results, load_before) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: the processes are stopped and the temporary files removed")
        sys.exit(130)
