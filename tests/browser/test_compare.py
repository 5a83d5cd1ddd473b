"""Comparisons in the browser: three gallery images compared from the bulk bar, the two-up
slider moved by keyboard and by mouse (left to right and right to left), a winner picked, the
comparison shared; and three jobs started together landing live on their comparison's page.
On a desktop and a phone, in English and Arabic, with axe on every page and state.

The browser tests never touch the database themselves: what a person cannot do from a page
(images made outside the generate form, a comparison started the way the generate page starts
one) is done by `manage.py shell` in the studio's own environment.
"""

import json
import re

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import Studio
from tests.browser.studio_pages import sign_up
from tests.browser.test_accessibility import axe_violations
from tests.studio_process import manage

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# Three jobs on a loaded 2-core machine: 3 s of offline latency per image, a worker's poll, the
# page's 2 s poll. Generous, and each wait is for the thing itself.
LANDING_TIMEOUT_MS = 90_000
WAIT_MS = 20_000

MAKE_IMAGES = """
from io import BytesIO
from PIL import Image as Picture
from django.contrib.auth.models import User
from gallery.ingest import ingest_image
from imagegen.models import Generation

owner = User.objects.get(username={username!r})
for n, (model, colour) in enumerate([
    ("gpt-image-2", "crimson"), ("qwen-image", "seagreen"), ("gpt-image-1.5", "royalblue"),
]):
    buffer = BytesIO()
    Picture.new("RGB", (320, 240), colour).save(buffer, "PNG")
    job = Generation.objects.create(
        owner=owner, model_name=model, prompt=f"a {{colour}} lantern, study {{n}}",
        parameters={{"n": 1, "size": "1024x1024"}}, status="succeeded",
    )
    ingest_image(job, 0, buffer.getvalue())
"""

START_JOBS = """
from django.contrib.auth.models import User
from django.db import transaction
from gallery.models import Comparison
from imagegen.models import Generation
from imagegen.tasks import enqueue

owner = User.objects.get(username={username!r})
sent = [
    ("gpt-image-2", {{"n": 1, "size": "1024x1536", "quality": "low", "output_format": "png"}}),
    ("qwen-image", {{"n": 1, "size": "1328x1328"}}),
    ("doubao-seedream-5-0-260128",
     {{"n": 2, "size": "1280x720", "response_format": "url", "watermark": False}}),
]
with transaction.atomic():
    jobs = []
    for model, parameters in sent:
        job = Generation.objects.create(
            owner=owner, model_name=model, prompt="a tide pool at dawn", parameters=parameters
        )
        enqueue(job)
        jobs.append(job)
    comparison = Comparison.objects.start_for_jobs(owner, jobs)
print(comparison.get_absolute_url())
"""


def shell(studio: Studio, code: str) -> str:
    return manage(studio.environment, "shell", "--no-imports", "-c", code).strip()


def no_axe_violations(page: Page, axe_source: str, where: str) -> None:
    violations = axe_violations(page, axe_source)
    assert not violations, f"{where}: " + json.dumps(violations, indent=2, ensure_ascii=False)


def new_page(
    browser: Browser, base_url: str, language: str, viewport: dict, **options: object
) -> Page:
    """A phone is in dark mode: axe checks both colour schemes' contrast."""
    context = browser.new_context(
        base_url=base_url,
        locale=language,
        viewport=viewport,
        is_mobile=viewport == PHONE,
        has_touch=viewport == PHONE,
        color_scheme="dark" if viewport == PHONE else "light",
        **options,
    )
    return context.new_page()


def choose_language(page: Page, base_url: str, language: str) -> None:
    """As the footer's language switcher does, once signed up (in English, by its labels)."""
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])


def split(page: Page) -> int:
    return int(page.locator("#two-up-split").input_value())


def divider_share(page: Page) -> float:
    """How far along the image the divider sits, from the side where image A shows (the left
    in English, the right in Arabic)."""
    stage = page.locator(".two-up-stage").bounding_box()
    divider = page.locator(".two-up-divider").bounding_box()
    assert stage and divider
    middle = divider["x"] + divider["width"] / 2
    share = (middle - stage["x"]) / stage["width"]
    return 1 - share if page.locator("html").get_attribute("dir") == "rtl" else share


def drag(page: Page, stage: Locator, start: float, end: float) -> None:
    """Press on the image at `start` of its width (from the left) and drag to `end`."""
    box = stage.bounding_box()
    assert box
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * start, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * (start + end) / 2, y, steps=3)
    page.mouse.move(box["x"] + box["width"] * end, y, steps=3)
    page.mouse.up()


@pytest.mark.parametrize(
    ("language", "viewport"),
    [("en", DESKTOP), ("ar", DESKTOP), ("en", PHONE), ("ar", PHONE)],
    ids=["en-desktop", "ar-desktop", "en-phone", "ar-phone"],
)
def test_compare_three_gallery_images_slide_and_pick_a_winner(
    browser: Browser,
    base_url: str,
    studio: Studio,
    axe_source: str,
    language: str,
    viewport: dict,
) -> None:
    page = new_page(browser, base_url, "en", viewport)
    try:
        username = sign_up(page)
        shell(studio, MAKE_IMAGES.format(username=username))
        choose_language(page, base_url, language)

        # The bulk bar: three selected, "Compare".
        page.goto("/images/")
        tiles = page.locator(".image-grid .tile")
        expect(tiles).to_have_count(3, timeout=WAIT_MS)
        for n in range(3):
            tiles.nth(n).locator(".tile-select").check()
        expect(page.locator("[data-selected-count]")).to_contain_text("3")
        page.locator("#bulk-action").select_option("compare")
        page.locator(".bulk-bar button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/comparisons/[0-9a-f-]{36}/$"), timeout=WAIT_MS)
        comparison_url = page.url
        assert page.locator("html").get_attribute("lang") == language
        expect(page.locator(".compare-entry")).to_have_count(3)
        expect(page.locator(".compare-entry img")).to_have_count(3)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        no_axe_violations(page, axe_source, "the comparison")

        # The slider, live once compare.js has run: by keyboard...
        two_up = page.locator("[data-two-up]")
        expect(two_up).to_have_class(re.compile(r"\bis-live\b"), timeout=WAIT_MS)
        slider = page.locator("#two-up-split")
        assert split(page) == 50
        assert divider_share(page) == pytest.approx(0.5, abs=0.03)
        slider.focus()
        for _n in range(10):
            page.keyboard.press("ArrowUp")
        assert split(page) == 60
        assert divider_share(page) == pytest.approx(0.6, abs=0.03)
        page.keyboard.press("End")
        assert split(page) == 100
        page.keyboard.press("Home")
        assert split(page) == 0
        assert divider_share(page) == pytest.approx(0.0, abs=0.03)
        no_axe_violations(page, axe_source, "the slider, moved")

        # ...and by dragging on the images, A's side following the page's direction.
        stage = page.locator(".two-up-stage")
        stage.scroll_into_view_if_needed()
        drag(page, stage, 0.5, 0.25)
        expected = 75 if language == "ar" else 25
        assert split(page) == pytest.approx(expected, abs=3)
        assert divider_share(page) == pytest.approx(expected / 100, abs=0.04)

        # Choosing B swaps the picture in place.
        third = page.locator("#two-up-b option").nth(2).get_attribute("value")
        page.locator("#two-up-b").select_option(third)
        expect(page.locator('[data-two-up-image="b"]')).to_have_attribute(
            "src", re.compile(f"/images/{third}/original$")
        )

        # A winner, with htmx: marked on the page and in the list.
        second = page.locator(".compare-entry").nth(1)
        second.locator("button[name=image]").click()
        expect(second.locator(".compare-figure.is-winner")).to_have_count(1, timeout=WAIT_MS)
        expect(page.locator(".compare-announce")).to_be_visible()
        expect(page.locator("button[name=image]")).to_have_count(2)
        expect(page.locator("[data-two-up]")).to_have_class(re.compile(r"\bis-live\b"))
        no_axe_violations(page, axe_source, "the comparison with a winner")
        page.reload()
        expect(page.locator(".compare-figure.is-winner")).to_have_count(1)

        page.goto("/comparisons/")
        card = page.locator(".comparison-card")
        expect(card).to_have_count(1)
        expect(card).to_have_class(re.compile(r"\bhas-winner\b"))
        expect(card.locator(".is-winner img")).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        no_axe_violations(page, axe_source, "the list of comparisons")

        # Shared by link: read only, its own images, the slider working there too.
        page.goto(comparison_url)
        page.locator(".compare-tools summary").click()
        page.locator(".compare-tool-links a").first.click()
        page.locator(".share-form button[type=submit]").click()
        address = page.locator("input[id^=share-url-]").input_value()
        visitor = new_page(browser, base_url, language, viewport)
        try:
            visitor.goto(address)
            expect(visitor.locator(".compare-entry img")).to_have_count(3)
            expect(visitor.locator(".compare-figure.is-winner")).to_have_count(1)
            expect(visitor.locator("button[name=image]")).to_have_count(0)
            expect(visitor.locator("[data-two-up]")).to_have_class(
                re.compile(r"\bis-live\b"), timeout=WAIT_MS
            )
            visitor.locator("#two-up-split").focus()
            visitor.keyboard.press("PageUp")
            assert split(visitor) > 50
            for image in visitor.locator(".compare-entry img").all():
                assert "/s/" in (image.get_attribute("src") or "")
            no_axe_violations(visitor, axe_source, "the shared comparison")
        finally:
            visitor.context.close()
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("language", "viewport"), [("en", DESKTOP), ("ar", PHONE)], ids=["en-desktop", "ar-phone"]
)
def test_three_jobs_started_together_land_live_on_their_comparison(
    browser: Browser,
    base_url: str,
    studio: Studio,
    axe_source: str,
    language: str,
    viewport: dict,
) -> None:
    page = new_page(browser, base_url, "en", viewport)
    try:
        username = sign_up(page)
        choose_language(page, base_url, language)
        polls: list[str] = []
        page.on(
            "request",
            lambda request: (
                polls.append(request.url) if request.headers.get("hx-request") else None
            ),
        )
        path = shell(studio, START_JOBS.format(username=username))
        page.goto(path)
        polls.clear()  # the generate page that sign-up ended on polled for its own jobs

        entries = page.locator(".compare-entry")
        expect(entries).to_have_count(3)
        body = page.locator("#compare-body")
        # While the jobs run: placeholders the shape of their images, and one polling request.
        if body.get_attribute("hx-trigger"):
            expect(page.locator(".compare-placeholder, .compare-preview").first).to_be_visible()
            no_axe_violations(page, axe_source, "the comparison, running")

        # Every image lands without a reload: 1 + 1 + 2 (seedream made two).
        for n, count in enumerate([1, 1, 2]):
            expect(entries.nth(n).locator(".compare-figure img")).to_have_count(
                count, timeout=LANDING_TIMEOUT_MS
            )
        expect(body).not_to_have_attribute("hx-trigger", re.compile(".*"), timeout=WAIT_MS)
        expect(page.locator(".compare-entry .compare-facts")).to_have_count(3)
        for entry in entries.all():
            expect(entry.locator(".compare-facts dd").first).to_contain_text(re.compile(r"\d"))
        assert polls, "the page never asked for its grid"
        assert {url.split("?")[0] for url in polls} == {f"{base_url}{path}"}

        # Once landed the slider works, and the page is accessible.
        expect(page.locator("[data-two-up]")).to_have_class(
            re.compile(r"\bis-live\b"), timeout=WAIT_MS
        )
        page.locator("#two-up-split").focus()
        page.keyboard.press("ArrowDown")
        assert split(page) == 49
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        no_axe_violations(page, axe_source, "the comparison, landed")
    finally:
        page.context.close()


def test_without_javascript_the_grid_the_slider_and_the_winner_still_work(
    browser: Browser, base_url: str, studio: Studio
) -> None:
    page = new_page(browser, base_url, "en", DESKTOP, java_script_enabled=False)
    try:
        username = sign_up(page)
        shell(studio, MAKE_IMAGES.format(username=username))
        page.goto("/images/")
        tiles = page.locator(".image-grid .tile")
        for n in range(2):
            tiles.nth(n).locator(".tile-select").check()
        page.get_by_label("With selected").select_option("compare")
        page.get_by_role("button", name="Apply").click()
        expect(page).to_have_url(re.compile(r"/comparisons/[0-9a-f-]{36}/$"), timeout=WAIT_MS)

        # The slider's two images side by side, no divider; the form chooses them.
        two_up = page.locator("[data-two-up]")
        expect(two_up).not_to_have_class(re.compile(r"\bis-live\b"))
        a, b = (page.locator(f'[data-two-up-image="{side}"]') for side in "ab")
        a_box, b_box = a.bounding_box(), b.bounding_box()
        assert a_box and b_box and a_box["x"] + a_box["width"] <= b_box["x"]
        expect(page.locator("#two-up-split")).to_be_hidden()
        first = page.locator("#two-up-a").input_value()
        page.locator("#two-up-b").select_option(first)
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(rf"\?a=[0-9a-f-]+&b={first}#slider$"))
        # The same image twice is no comparison: B is the other one.
        expect(b).not_to_have_attribute("src", re.compile(first))

        page.locator("button[name=image]").first.click()
        expect(page.locator(".messages")).to_contain_text("Winner chosen")
        expect(page.locator(".compare-figure.is-winner")).to_have_count(1)
    finally:
        page.context.close()
