"""The Trash in a real browser, desktop and phone, English and Arabic: Delete in the grid and
"Undo" in place; a selection to the Trash and "Undo" in the message, back to the same search;
the Trash page restores and empties; axe finds nothing on any of its states."""

import json

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.studio_pages import choose_model, sign_up, submit_generation, wait_until_finished
from tests.browser.test_accessibility import axe_violations

pytestmark = pytest.mark.browser

DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
SWAP_MS = 15_000  # a request and its swap on a loaded two-core machine


def make_images(page: Page, count: int) -> None:
    choose_model(page, "qwen-image")
    cards = [submit_generation(page, f"A glass buoy, number {n}") for n in range(count)]
    for card in cards:
        wait_until_finished(card)


def accessible(page: Page, axe_source: str, found: dict, name: str) -> None:
    found[name] = axe_violations(page, axe_source)


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "ar"])
def test_trash_undo_restore_and_empty(
    browser: Browser, base_url: str, axe_source: str, language: str, device: str
) -> None:
    context = browser.new_context(base_url=base_url, **DEVICES[device])
    page = context.new_page()
    found: dict[str, list] = {}
    try:
        sign_up(page)
        make_images(page, 4)
        page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
        page.goto("/images/?q=buoy")
        tiles = page.locator("#gallery .tile:not(.trashed-notice)")
        expect(tiles).to_have_count(4)

        if device == "desktop":
            # Delete on a focused tile: it says so in place, with Undo; the focus moves on.
            tiles.nth(0).locator("a").first.focus()
            page.keyboard.press("Delete")
            notice = page.locator("#gallery .trashed-notice")
            expect(notice).to_be_visible(timeout=SWAP_MS)
            expect(tiles).to_have_count(3)
            expect(tiles.nth(0).locator("a").first).to_be_focused()
            accessible(page, axe_source, found, "gallery, a tile moved to the Trash")
            notice.locator(".undo-trash button").click()
        else:
            # On a phone: the image's own page, then back to the same search.
            tiles.nth(0).locator("a").first.click()
            page.locator(".image-detail form button.danger").click()
            expect(page).to_have_url(f"{base_url}/images/?q=buoy", timeout=SWAP_MS)
            expect(tiles).to_have_count(3)
            message = page.locator(".messages .success")
            expect(message.locator(".undo-trash button")).to_be_visible()
            accessible(page, axe_source, found, "gallery, a message with Undo")
            message.locator(".undo-trash button").click()
        expect(page).to_have_url(f"{base_url}/images/?q=buoy", timeout=SWAP_MS)
        expect(tiles).to_have_count(4)

        # A selection goes by the bulk bar; its message's Undo brings it all back.
        boxes = page.locator("#gallery .tile-select")
        boxes.nth(1).click()
        boxes.nth(3).click(modifiers=["Shift"])
        expect(page.locator("#gallery .tile-select:checked")).to_have_count(3)
        page.locator("#bulk-action").select_option("delete")
        page.locator(".bulk-bar button[type=submit]").click()
        expect(tiles).to_have_count(1, timeout=SWAP_MS)
        expect(page).to_have_url(f"{base_url}/images/?q=buoy")

        # The Trash: three images; restore one, then empty it, confirmed.
        page.goto("/trash/")
        trashed = page.locator(".trashed")
        expect(trashed).to_have_count(3)
        accessible(page, axe_source, found, "trash")
        trashed.nth(0).locator("label").click()  # the picture and prompt tick the box
        expect(page.locator("[data-selected-count]")).not_to_have_text("")
        page.locator(".bulk-bar button[value=restore]").click()
        expect(trashed).to_have_count(2, timeout=SWAP_MS)
        accessible(page, axe_source, found, "trash, after a restore")
        page.locator(".trash-empty button").click()
        expect(page.locator(".auth-card .thumbs li")).to_have_count(2, timeout=SWAP_MS)
        accessible(page, axe_source, found, "trash, empty it?")
        page.locator(".auth-card button.danger").click()
        expect(page.locator("p.empty")).to_be_visible(timeout=SWAP_MS)
        expect(trashed).to_have_count(0)
        accessible(page, axe_source, found, "trash, empty")
        page.goto("/images/?q=buoy")
        expect(tiles).to_have_count(2)
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    finally:
        context.close()
    problems = {name: violations for name, violations in found.items() if violations}
    assert not problems, json.dumps(problems, indent=2, ensure_ascii=False)
