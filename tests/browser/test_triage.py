"""Keyboard triage through a page of the gallery: arrows move between tiles (mirrored in
Arabic), Space selects, F favourites, 1-5 rate; the grid keeps up by itself."""

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.studio_pages import choose_model, sign_up, submit_generation, wait_until_finished

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "ar"])
def test_triage_a_page_by_keyboard(browser: Browser, base_url: str, language: str) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_up(page)
        choose_model(page, "qwen-image")
        cards = [submit_generation(page, f"A river stone, number {n}") for n in range(4)]
        for card in cards:
            wait_until_finished(card)
        page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
        page.goto("/images/")
        tiles = page.locator("#gallery .tile")
        expect(tiles).to_have_count(4)
        tiles.nth(0).locator("a").first.focus()
        forward = "ArrowRight" if language == "en" else "ArrowLeft"
        page.keyboard.press(forward)
        expect(tiles.nth(1).locator("a").first).to_be_focused()
        page.keyboard.press(" ")  # select the second
        expect(tiles.nth(1).locator(".tile-select")).to_be_checked()
        page.keyboard.press(forward)
        page.keyboard.press("f")  # favourite the third
        expect(tiles.nth(2).locator("button.favourite")).to_have_attribute(
            "aria-pressed", "true", timeout=15_000
        )
        page.keyboard.press("2")  # two stars for the third
        expect(tiles.nth(2).locator(".tile-rating")).to_have_text("★★", timeout=15_000)
        back = "ArrowLeft" if language == "en" else "ArrowRight"
        page.keyboard.press(back)
        page.keyboard.press(back)
        expect(tiles.nth(0).locator("a").first).to_be_focused()
        page.keyboard.press(back)  # nothing before the first: the focus stays
        expect(tiles.nth(0).locator("a").first).to_be_focused()
        expect(page.locator("[data-selected-count]")).not_to_have_text("")
    finally:
        context.close()
