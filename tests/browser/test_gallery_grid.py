"""The gallery's justified grid in the browser (issue 12): rows that keep every image's aspect
ratio uncropped and fill the width, at desktop and phone widths, in English and Arabic; the
tile size control, remembered; prompt and model on hover and on keyboard focus; a job's images
on one mat; axe with the information shown.

Images are made by `manage.py shell` in the studio's own environment (as tests/browser/
test_compare.py does): three jobs of several images and single ones, square, wide and tall.
"""

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Studio
from tests.browser.studio_pages import sign_up
from tests.browser.test_compare import PHONE, choose_language, new_page, no_axe_violations, shell

DESKTOP = {"width": 1280, "height": 900}
WAIT_MS = 20_000

MAKE_IMAGES = """
from io import BytesIO
from PIL import Image as Picture
from django.contrib.auth.models import User
from gallery.ingest import ingest_image
from imagegen.models import Generation

owner = User.objects.get(username={username!r})
jobs = [
    ("gpt-image-2", (1024, 1024), 1), ("qwen-image", (1664, 928), 1),
    ("gpt-image-2", (1536, 1024), 3), ("gpt-image-2", (1024, 1536), 1),
    ("qwen-image", (1328, 1328), 2), ("gpt-image-2", (1792, 1024), 1),
    ("gpt-image-2", (1024, 1792), 1), ("gpt-image-2", (2048, 1024), 1),
]
for n, (model, (width, height), count) in enumerate(jobs):
    job = Generation.objects.create(
        owner=owner, model_name=model, prompt=f"a heron in the reeds, study {{n}}",
        parameters={{"n": count, "size": f"{{width}}x{{height}}"}}, status="succeeded",
    )
    for index in range(count):
        buffer = BytesIO()
        Picture.new("RGB", (width // 4, height // 4), (40 * n % 255, 90, 160)).save(buffer, "PNG")
        ingest_image(job, index, buffer.getvalue())
"""


@pytest.fixture(scope="module")
def owner(studio: Studio, browser: Browser, base_url: str) -> dict:
    """A person with eleven images in eight jobs; their signed-in browser state."""
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    username = sign_up(page)
    shell(studio, MAKE_IMAGES.format(username=username))
    state = context.storage_state()
    context.close()
    return state


def gallery(browser: Browser, base_url: str, owner: dict, language: str, viewport: dict) -> Page:
    page = new_page(browser, base_url, language, viewport, storage_state=owner)
    choose_language(page, base_url, language)
    page.goto("/images/")
    expect(page.locator(".image-grid .tile")).to_have_count(11, timeout=WAIT_MS)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.image-grid .tile img')].every(i => i.complete)",
        timeout=WAIT_MS,
    )
    return page


def rows_of(page: Page) -> list[list[dict]]:
    """The tiles' images as laid out, in rows (by their top edge), with their own ratios."""
    boxes = page.locator(".image-grid .tile img").evaluate_all(
        """images => images.map(image => {
            const box = image.getBoundingClientRect();
            return {top: Math.round(box.top), left: box.left, right: box.right,
                    width: box.width, height: box.height,
                    ratio: image.width / image.height,
                    own: image.getAttribute('width') / image.getAttribute('height'),
                    row: parseFloat(getComputedStyle(image.closest('.tile'))
                                    .getPropertyValue('--row'))};
        })"""
    )
    rows: dict[int, list[dict]] = {}
    for box in boxes:
        rows.setdefault(box["top"], []).append(box)
    return [rows[top] for top in sorted(rows)]


def grid_box(page: Page) -> dict:
    box = page.locator(".image-grid").bounding_box()
    assert box
    return box


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "ar"])
def test_rows_keep_every_images_aspect_ratio_and_fill_the_width(
    browser: Browser, base_url: str, owner: dict, language: str, viewport: dict
) -> None:
    page = gallery(browser, base_url, owner, language, viewport)
    try:
        rows = rows_of(page)
        assert len(rows) >= 2
        area = grid_box(page)
        for n, row in enumerate(rows):
            heights = [box["height"] for box in row]
            assert max(heights) - min(heights) <= 2, f"row {n}: one height for all, {heights}"
            for box in row:  # uncropped: drawn at the image's own ratio
                assert box["width"] / box["height"] == pytest.approx(box["own"], rel=0.03)
            # Every row but the last is justified to both edges, unless stretching it so would
            # draw its tiles at more than twice the row height (gallery.css's cap).
            left = min(box["left"] for box in row)
            right = max(box["right"] for box in row)
            capped = all(box["height"] >= 2 * box["row"] - 1 for box in row)
            if n < len(rows) - 1 and not capped:
                start, end = (right, left) if language == "ar" else (left, right)
                edges = (area["x"], area["x"] + area["width"])
                if language == "ar":
                    edges = edges[::-1]
                assert start == pytest.approx(edges[0], abs=2), f"row {n} starts at the edge"
                assert end == pytest.approx(edges[1], abs=2), f"row {n} ends at the edge"
        if language == "ar":  # right to left: the newest image starts the first row's right
            first = rows[0][0]
            assert first["right"] == pytest.approx(area["x"] + area["width"], abs=2)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow == 0
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_tile_size_changes_the_rows_and_is_remembered(
    browser: Browser, base_url: str, owner: dict, viewport: dict
) -> None:
    page = gallery(browser, base_url, owner, "en", viewport)
    try:
        sizes = page.get_by_role("group", name="Tile size")
        expect(sizes.get_by_role("button", name="Medium")).to_have_attribute("aria-pressed", "true")
        medium = len(rows_of(page))

        sizes.get_by_role("button", name="Large").click()
        expect(sizes.get_by_role("button", name="Large")).to_have_attribute("aria-pressed", "true")
        expect(page.locator(".image-grid .tile.size-large")).to_have_count(11, timeout=WAIT_MS)
        large = len(rows_of(page))
        page.goto("/images/")  # remembered
        expect(page.locator(".image-grid .tile.size-large")).to_have_count(11)

        sizes.get_by_role("button", name="Small").click()
        expect(page.locator(".image-grid .tile.size-small")).to_have_count(11)
        assert len(rows_of(page)) < medium < large
        box = sizes.get_by_role("button", name="Small").bounding_box()
        assert box and box["height"] >= 44 and box["width"] >= 44, "a touch-sized button"
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_prompt_and_model_show_on_hover_and_on_keyboard_focus(
    browser: Browser, base_url: str, owner: dict, axe_source: str, language: str
) -> None:
    page = gallery(browser, base_url, owner, language, DESKTOP)
    try:
        tiles = page.locator(".image-grid .tile")
        # The pointer is wherever the language choice left it, and the rows settle under it:
        # move it off the grid and let any fade it started finish.
        page.mouse.move(0, 0)
        expect(tiles.nth(1).locator(".tile-info")).to_have_css("opacity", "0", timeout=WAIT_MS)
        tiles.nth(1).hover()
        expect(tiles.nth(1).locator(".tile-info")).to_have_css("opacity", "1")
        expect(tiles.nth(1).locator(".tile-info")).to_contain_text("a heron in the reeds")
        expect(tiles.nth(1).locator(".tile-info")).to_contain_text("gpt-image-2")
        no_axe_violations(page, axe_source, f"gallery with hover information ({language})")

        page.mouse.move(0, 0)
        tiles.nth(4).locator(".tile-select").focus()  # focus anywhere in the tile shows it
        expect(tiles.nth(4).locator(".tile-info")).to_have_css("opacity", "1")
        expect(tiles.nth(1).locator(".tile-info")).to_have_css("opacity", "0")
        page.keyboard.press("Shift+Tab")  # back to the tile's link
        expect(tiles.nth(4).locator("a").first).to_be_focused()
        expect(tiles.nth(4).locator(".tile-info")).to_have_css("opacity", "1")
        # The model is part of the link's name; the prompt is said once, by the image.
        name = tiles.nth(4).locator("a").first.evaluate("link => link.textContent")
        assert "qwen-image" in name
        no_axe_violations(page, axe_source, f"gallery with a focused tile ({language})")
    finally:
        page.context.close()


def test_the_images_of_one_job_stand_together_on_one_mat(
    browser: Browser, base_url: str, owner: dict
) -> None:
    page = gallery(browser, base_url, owner, "en", DESKTOP)
    try:
        tiles = page.locator(".image-grid .tile")
        shadows = tiles.evaluate_all("tiles => tiles.map(tile => getComputedStyle(tile).boxShadow)")
        # Newest first: 2048x1024, 1024x1792, 1792x1024, then the job of two, a tall single,
        # the job of three, and the rest.
        grouped = [shadow != "none" for shadow in shadows]
        assert grouped == [False, False, False, True, True, False, True, True, True, False, False]
        assert shadows[3] != shadows[6], "neighbouring jobs' mats differ"
        expect(tiles.nth(6).locator(".tile-model")).to_contain_text("1 of 3")
    finally:
        page.context.close()
