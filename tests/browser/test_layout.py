"""Phone widths, dark mode, and the Arabic and Japanese interfaces, in the browser."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.tour import PUBLIC_PAGES, Tour

PHONE = {"width": 375, "height": 740}
ARABIC_LETTERS = re.compile("[\u0600-\u06ff]")
JAPANESE_LETTERS = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")


def context_page(browser: Browser, base_url: str, tour: Tour | None = None, **options) -> Page:
    state = {"storage_state": tour.storage_state} if tour else {}
    return browser.new_context(base_url=base_url, **state, **options).new_page()


def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("language", ["en", "ar", "ja"])
def test_every_page_fits_a_phone(browser: Browser, base_url: str, tour: Tour, language) -> None:
    page = context_page(browser, base_url, tour, viewport=PHONE, locale=language)
    visitor = context_page(browser, base_url, viewport=PHONE, locale=language)
    try:
        for name, path in tour.pages().items():
            page.goto(path)
            assert overflow(page) == 0, f"{name} scrolls sideways at 375 px"
        for name, path in {**PUBLIC_PAGES, "shared page": tour.shared}.items():
            visitor.goto(path)
            assert overflow(visitor) == 0, f"{name} scrolls sideways at 375 px"
    finally:
        page.context.close()
        visitor.context.close()


def test_the_phone_gallery_form_detail_and_lightbox(browser: Browser, base_url, tour) -> None:
    page = context_page(browser, base_url, tour, viewport=PHONE)
    try:
        page.goto("/images/")
        tiles = page.locator(".image-grid .tile")
        first, second = tiles.nth(0).bounding_box(), tiles.nth(1).bounding_box()
        assert first and second and first["y"] == second["y"], "two tiles per row on a phone"
        assert second["x"] + second["width"] <= PHONE["width"]

        page.goto("/generate/")
        for control in ("Model", "Prompt"):
            box = page.get_by_label(control, exact=True).bounding_box()
            assert box and box["width"] >= 300, f"{control} should use the phone's width"
        submit = page.get_by_role("button", name="Generate", exact=True).bounding_box()
        assert submit and submit["height"] >= 40, "a touch-sized Generate button"

        page.goto(tour.image)
        picture = page.locator(".image-detail figure img").bounding_box()
        assert picture and picture["width"] <= PHONE["width"]
        page.locator(".image-detail figure a").click()
        full = page.locator("dialog.lightbox img")
        expect(full).to_be_visible()
        box = full.bounding_box()
        assert box and box["width"] <= PHONE["width"] and box["height"] <= PHONE["height"]
        page.get_by_role("button", name="Close").click()
        expect(full).to_be_hidden()
    finally:
        page.context.close()


@pytest.mark.parametrize(("scheme", "dark"), [("light", False), ("dark", True)])
def test_the_theme_follows_the_system(browser: Browser, base_url, tour, scheme, dark) -> None:
    page = context_page(browser, base_url, tour, color_scheme=scheme)
    visitor = context_page(browser, base_url, color_scheme=scheme)
    try:
        for view, path in ((page, "/images/"), (page, "/generate/"), (visitor, tour.shared)):
            view.goto(path)
            lightness = view.evaluate(
                """() => {
                    const [r, g, b] = getComputedStyle(document.body).backgroundColor
                        .match(/\\d+/g).map(Number);
                    return (r * 299 + g * 587 + b * 114) / 1000;
                }"""
            )
            assert (lightness < 60) if dark else (lightness > 200), f"{path}: {lightness}"
    finally:
        page.context.close()
        visitor.context.close()


def test_arabic_mirrors_the_whole_layout(browser: Browser, base_url: str, tour: Tour) -> None:
    page = context_page(browser, base_url, tour, locale="ar")
    try:
        page.goto("/images/")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("html")).to_have_attribute("lang", "ar")
        width = page.viewport_size["width"]
        brand = page.locator(".brand").bounding_box()
        assert brand and brand["x"] > width / 2, "the brand starts on the right"
        nav = page.get_by_role("navigation").first
        assert ARABIC_LETTERS.search(nav.inner_text()), nav.inner_text()
        tiles = page.locator(".image-grid .tile")
        first, second = tiles.nth(0).bounding_box(), tiles.nth(1).bounding_box()
        assert first and second and first["x"] > second["x"], "the newest image is on the right"

        page.goto(tour.image)
        created = page.locator(".metadata time").inner_text()
        assert ARABIC_LETTERS.search(created), f"the date is localised: {created}"
        prompt = page.locator(".prompt-full").first
        expect(prompt).to_have_attribute("dir", "auto")  # a Latin prompt still reads left to right
    finally:
        page.context.close()


def test_the_language_switcher_changes_and_keeps_the_language(browser, base_url, tour) -> None:
    page = context_page(browser, base_url, tour)  # an English browser
    try:
        page.goto("/images/")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_label("Language").select_option("ja")
        page.get_by_role("button", name="Change").click()
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        expect(page).to_have_url(re.compile("/images/$"))  # stays on the same page
        assert JAPANESE_LETTERS.search(page.locator("h1").inner_text())
        page.goto("/generate/")  # the choice is remembered
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        expect(page.locator("html")).to_have_attribute("dir", "ltr")

        page.get_by_role("combobox", name=re.compile("言語")).select_option("ar")
        page.locator(".language-form button").click()
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
    finally:
        page.context.close()


def test_arrow_keys_follow_the_reading_direction(browser: Browser, base_url, tour) -> None:
    """In Arabic the older image is to the left, so ArrowLeft goes to it."""
    page = context_page(browser, base_url, tour, locale="ar")
    try:
        page.goto("/images/")
        page.locator(".image-grid .tile a").first.click()
        expect(page).to_have_url(re.compile(r"/images/[0-9a-f-]{36}/$"))
        newest = page.url
        older = page.locator("[data-key=next]").get_attribute("href")
        page.keyboard.press("ArrowLeft")
        expect(page).to_have_url(re.compile(re.escape(older or "missing") + "$"))
        page.keyboard.press("ArrowRight")
        expect(page).to_have_url(newest)
    finally:
        page.context.close()
