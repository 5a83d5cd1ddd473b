"""The studio on object storage, in Chromium: every image a page shows reaches the browser.

On S3 (django-storages, selected by AWS_STORAGE_BUCKET_NAME) each file view answers with a
redirect to a URL signed for the bucket, and the browser checks that target against the page's
Content-Security-Policy: with `img-src 'self' data:` Chromium refused every tile, and no test
noticed, because every other browser test runs the studio on local files. Here a studio of this
module's own keeps its files in a fresh bucket of moto's real S3 server on loopback (the session's
`s3_server`, tests/conftest.py), served as production serves it (`manage.py serve`: the web
server and the workers), and one person's images are made through the generate form: the
offline provider answers, and a worker ingests them into the bucket.

The tests look only through the browser, HTTP, and the bucket itself (boto3):
1. the gallery shows every tile, each fetched from the bucket, with no CSP violation or console
   error (gallery.media.BucketImagesAllowed adds the bucket's origin to img-src);
2. a second visit takes the tiles from the browser's cache, not the bucket (a URL is signed as of
   its window's start, so either web process hands out the same one, and the owner's answer
   may be kept);
3. the image page shows the original, and "Download original" gives its bytes under its
   readable name;
4. a share link shows the image to someone signed out, and once revoked shows the 404 page and
   no image.
"""

import hashlib
import json
import shutil
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import browser_studio_environment
from tests.browser.studio_pages import choose_model, sign_up, submit_generation
from tests.s3_server import Bucket
from tests.studio_process import free_port, manage, serve, stop, wait_until_serving

# Waits sized for a loaded 2-core CI machine, as in the other browser modules (Playwright's own
# default is 5 s). A job here is a worker's poll, the offline provider and four ingests to S3.
WAIT_MS = 20_000
JOB_WAIT_MS = 60_000
IMAGES = 4  # one generation through the form: a row of tiles, all eager (the first 12 are)
PROMPT = "A lighthouse on a rocky island under a stormy sky"
TILES = ".image-grid .tile img"
SIGNING_WINDOW = 150  # seconds: half of AWS_QUERYSTRING_EXPIRE's default (gallery.object_storage)
# Listens before any script of the page runs (a context's init script): every CSP violation.
WATCH_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.violations.push(`${event.violatedDirective} refused ${event.blockedURI}`);
});
"""
# The studio's record of each image: what the page should show and the bucket should hold.
IMAGE_FACTS = """
import json
from gallery.models import Image
print(json.dumps([
    {"uuid": str(image.uuid), "key": image.file.name, "width": image.width,
     "sha256": image.sha256, "name": image.download_name()}
    for image in Image.objects.order_by("created_at")
]))
"""


@dataclass
class S3Studio:
    url: str
    environment: dict[str, str]
    log: Path  # what `manage.py serve` printed: web and workers
    bucket: Bucket
    bucket_url: str  # where the signed URLs point: the endpoint and the bucket (path style)
    owner: dict  # the signed-in owner's storage state, for new browser contexts
    images: list[dict]  # IMAGE_FACTS, oldest first

    def context(self, browser: Browser, *, signed_in: bool = True) -> BrowserContext:
        context = browser.new_context(
            base_url=self.url, storage_state=self.owner if signed_in else None
        )
        context.add_init_script(script=WATCH_VIOLATIONS)
        context.set_default_timeout(WAIT_MS)
        return context

    def log_tail(self) -> str:
        return f"--- the end of {self.log}:\n{self.log.read_text()[-3000:]}"


@pytest.fixture(scope="module")
def s3_studio(
    tmp_path_factory: pytest.TempPathFactory, s3_server: Any, browser: Browser
) -> Iterator[S3Studio]:
    root = tmp_path_factory.mktemp("s3-studio")
    bucket = Bucket(s3_server.new_bucket(), s3_server.client())
    environment = {
        **browser_studio_environment(root),
        **s3_server.environment(bucket.name),
        "OFFLINE_LATENCY": "0.5",  # no job is watched while it runs here
        # Two web processes, as deployed: a tile's URL is the same whichever answers its
        # redirect (signed as of the window's start: gallery.object_storage), so visit 2 reuses
        # it. When each process kept its own URLs, 1 to 4 of 4 tiles were fetched again.
        "WEB_PROCESSES": "2",
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "serve.log"
    processes = [serve(environment, port, log=log)]  # web and workers, migrated first
    try:
        wait_until_serving(url, processes, log, timeout=180)
        studio = S3Studio(
            url, environment, log, bucket, f"{s3_server.endpoint_url}/{bucket.name}/", {}, []
        )
        studio.owner = make_images(studio, browser)
        studio.images = json.loads(manage(environment, "shell", "-c", IMAGE_FACTS).splitlines()[-1])
        assert len(studio.images) == IMAGES, studio.images
        stored = bucket.keys()
        assert all(image["key"] in stored for image in studio.images), (studio.images, stored)
        yield studio
    finally:
        stop(processes)
        shutil.rmtree(root / "media", ignore_errors=True)


def make_images(studio: S3Studio, browser: Browser) -> dict:
    """Sign up and generate IMAGES images through the form; returns the signed-in state."""
    context = browser.new_context(base_url=studio.url)
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        sign_up(page)
        page.goto("/generate/")
        choose_model(page, "gpt-image-2")
        page.locator("#model-fields").get_by_label("Number of images").fill(str(IMAGES))
        card = submit_generation(page, PROMPT)
        try:
            expect(card).to_have_class("generation-card status-succeeded", timeout=JOB_WAIT_MS)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{studio.log_tail()}") from None
        return context.storage_state()
    finally:
        context.close()


@dataclass
class Watch:
    """What one page asked for and complained about."""

    page: Page
    bucket_url: str
    errors: list[str] = field(default_factory=list)  # console errors
    to_bucket: dict[str, str] = field(default_factory=dict)  # studio URL -> the bucket URL

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("request", self._request)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _request(self, request: Any) -> None:
        asked = request.redirected_from
        if asked is not None and request.url.startswith(self.bucket_url):
            self.to_bucket[asked.url] = request.url

    def violations(self) -> list[str]:
        return self.page.evaluate("window.violations")

    def complaints(self) -> str:
        return f"CSP violations: {self.violations()}; console errors: {self.errors}"


def settled_images(page: Page, selector: str) -> list[dict]:
    """Once every image the selector finds has loaded or failed: their source and natural width."""
    with suppress(PlaywrightTimeout):  # then the caller's assertions say which did not
        page.wait_for_function(
            """(selector) => {
              const images = [...document.querySelectorAll(selector)];
              return images.length > 0 && images.every((image) => image.complete);
            }""",
            arg=selector,
            timeout=WAIT_MS,
        )
    return page.eval_on_selector_all(
        selector,
        "images => images.map((image) => ({src: image.currentSrc, width: image.naturalWidth}))",
    )


def assert_from_the_bucket(watch: Watch, images: list[dict], studio: S3Studio) -> None:
    """Every image loaded, through the studio's redirect to the bucket, and nothing complained."""
    assert images, "no image on the page"
    broken = [image["src"] for image in images if not image["width"]]
    assert not broken, f"{len(broken)} of {len(images)} images did not load: {broken}\n" + (
        watch.complaints()
    )
    for image in images:
        assert image["src"].startswith(studio.url), image
        assert image["src"] in watch.to_bucket, f"{image['src']} was not redirected to the bucket"
    assert watch.violations() == []
    assert watch.errors == []


def test_the_gallery_shows_every_tile_from_the_bucket(s3_studio: S3Studio, browser: Browser):
    context = s3_studio.context(browser)
    try:
        page = context.new_page()
        watch = Watch(page, s3_studio.bucket_url)
        page.goto("/images/")
        tiles = settled_images(page, TILES)
        assert len(tiles) == IMAGES
        assert_from_the_bucket(watch, tiles, s3_studio)
    finally:
        context.close()


class BucketTraffic:
    """The responses from the bucket, by visit: over the network, or from the browser's cache
    (counted over CDP, as bench/signed_urls.py does: Playwright does not tell them apart)."""

    def __init__(self, page: Page, bucket_url: str) -> None:
        self.bucket_url = bucket_url
        self.visit = 0
        self.network: dict[int, list[str]] = defaultdict(list)
        self.cached: dict[int, list[str]] = defaultdict(list)
        self._served_from_cache: set[str] = set()
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.requestServedFromCache", self._from_cache)
        cdp.on("Network.responseReceived", self._received)
        cdp.send("Network.enable")

    def _from_cache(self, event: dict) -> None:
        self._served_from_cache.add(event["requestId"])

    def _received(self, event: dict) -> None:
        response = event["response"]
        if not response["url"].startswith(self.bucket_url):
            return
        cached = (
            response.get("fromDiskCache")
            or response.get("fromMemoryCache")
            or event["requestId"] in self._served_from_cache
        )
        (self.cached if cached else self.network)[self.visit].append(response["url"])


def test_a_second_visit_takes_the_tiles_from_the_browser_cache(
    s3_studio: S3Studio, browser: Browser
):
    context = s3_studio.context(browser)
    try:
        page = context.new_page()
        traffic = BucketTraffic(page, s3_studio.bucket_url)
        # Both visits within one signing window (150 s, half of AWS_QUERYSTRING_EXPIRE's 300): a
        # URL is signed anew at a window's start, so the last seconds of one are waited out.
        left = SIGNING_WINDOW - time.time() % SIGNING_WINDOW
        if left < 45:
            time.sleep(left + 0.5)
        for visit in (1, 2):
            traffic.visit = visit
            page.goto("/images/")
            tiles = settled_images(page, TILES)
            assert len(tiles) == IMAGES and all(tile["width"] for tile in tiles), (visit, tiles)
            # The last events come in; and the next visit is in another second, where a URL
            # signed at its own second (X-Amz-Date) would differ: one signed as of its window's
            # start is the same.
            page.wait_for_timeout(1100)
        # The first visit fetched every tile from the bucket. On the second each tile's redirect
        # is asked again (never cached: access is checked each time) and leads to the same URL,
        # which the browser has. All but one: a tile whose srcset choice changed between visits
        # (a grid rendition, then the thumbnail) may be fetched once more, and rightly.
        assert len(traffic.network[1]) >= IMAGES, dict(traffic.network)
        assert len(traffic.network[2]) <= 1, (
            f"visit 2 fetched {len(traffic.network[2])} tiles from the bucket again: "
            f"{traffic.network[2]}"
        )
        assert len(traffic.cached[2]) >= IMAGES - 1, dict(traffic.cached)
    finally:
        context.close()


def test_the_image_page_shows_and_downloads_the_original(s3_studio: S3Studio, browser: Browser):
    image = s3_studio.images[0]
    context = s3_studio.context(browser)
    try:
        page = context.new_page()
        watch = Watch(page, s3_studio.bucket_url)
        page.goto(f"/images/{image['uuid']}/")
        shown = settled_images(page, ".image-detail figure img")
        assert_from_the_bucket(watch, shown, s3_studio)
        assert shown[0]["width"] == image["width"]  # the original, not a thumbnail
        expect(page.locator("code.hash")).to_have_text(image["sha256"])

        link = page.get_by_role("link", name="Download original")
        # The studio's answer: a redirect to the bucket, signed to send the file as an
        # attachment under its readable name (the start of the prompt, the short id).
        answer = context.request.get(link.get_attribute("href") or "", max_redirects=0)
        assert answer.status == 302, answer.status
        signed = answer.headers["location"]
        assert signed.startswith(s3_studio.bucket_url), signed
        disposition = parse_qs(urlsplit(signed).query)["response-content-disposition"][0]
        assert disposition.startswith("attachment") and image["name"] in disposition, disposition
        assert image["name"].startswith("A-lighthouse-on-a-rocky-island")

        with page.expect_download(timeout=WAIT_MS) as started:
            link.click()
        download = started.value
        assert download.failure() is None
        assert download.suggested_filename == image["name"]
        downloaded = hashlib.sha256(download.path().read_bytes()).hexdigest()
        in_the_bucket = hashlib.sha256(s3_studio.bucket.read(image["key"])).hexdigest()
        assert downloaded == in_the_bucket == image["sha256"]
    finally:
        context.close()


def test_a_share_link_shows_the_image_until_revoked(s3_studio: S3Studio, browser: Browser):
    image = s3_studio.images[1]
    owner = s3_studio.context(browser)
    visitor = s3_studio.context(browser, signed_in=False)  # the link's recipient
    try:
        page = owner.new_page()
        page.goto(f"/images/{image['uuid']}/")
        page.get_by_role("link", name="Share", exact=True).click()
        page.get_by_role("button", name="Create link").click()
        shared_url = page.get_by_label("Link address").input_value()
        assert shared_url.startswith(f"{s3_studio.url}/s/"), shared_url

        shared = visitor.new_page()
        watch = Watch(shared, s3_studio.bucket_url)
        response = shared.goto(shared_url)
        assert response is not None and response.status == 200
        shown = settled_images(shared, ".shared-image figure img")
        assert_from_the_bucket(watch, shown, s3_studio)
        original = shown[0]["src"]
        assert urlsplit(original).path.endswith(f"/{image['uuid']}/original"), original

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke").click()
        expect(page.locator("#share-status")).to_have_text("Link revoked.")

        gone = shared.reload()
        assert gone is not None and gone.status == 404
        expect(shared.get_by_role("heading", name="Page not found")).to_be_visible()
        expect(shared.locator("img")).to_have_count(0)
        # Asked again, the file answers 404 (the redirect is never cached, and the bucket's
        # answer to a share is the browser's alone), so the image no longer loads anywhere.
        assert visitor.request.get(original, max_redirects=0).status == 404
        loads = shared.evaluate(
            """(address) => new Promise((done) => {
              const image = new Image();
              image.onload = () => done(image.naturalWidth);
              image.onerror = () => done(0);
              image.src = address;
            })""",
            original,
        )
        assert loads == 0
    finally:
        visitor.close()
        owner.close()
