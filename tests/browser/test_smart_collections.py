"""Smart collections in Chromium: a search saved from the gallery (Enter in the name field),
listed among the collections, updating itself as images are made, its search changed and saved
again from its own page, a name already used refused with what was typed kept, and shared by
link; axe finds nothing on each of those pages and states. On a desktop in English, on a phone
in Arabic (dark)."""

import re
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.studio_pages import generate, sign_up
from tests.browser.test_compare import (
    DESKTOP,
    PHONE,
    choose_language,
    new_page,
    no_axe_violations,
)

pytestmark = pytest.mark.browser

# Each wait is for the thing itself, with room for a loaded 2-core machine.
WAIT_MS = 20_000
COLLECTION_URL = re.compile(r"/collections/[0-9a-f-]{36}/\?q=lighthouse$")


def tiles(page: Page) -> Locator:
    return page.locator(".image-grid .tile")


def save_search(page: Page, name: str) -> None:
    """Open "Save as smart collection", type a name and press Enter (no button clicked)."""
    page.locator("details.save-search > summary").click()
    page.locator("#smart-name").fill(name)
    page.locator("#smart-name").press("Enter")


def generate_meanwhile(page: Page, base_url: str, language: str, prompt: str) -> None:
    """Make an image through the generate page (driven by its English labels)."""
    choose_language(page, base_url, "en")
    generate(page, prompt)
    choose_language(page, base_url, language)


def search_here(page: Page, text: str) -> None:
    """Search as someone typing on the page they are on (htmx swaps the results in)."""
    box = page.get_by_role("searchbox")
    # Typing alone searches (after a pause). Enter as well would send a second request, whose
    # swap, late on a loaded machine, would close the "Save as" panel the test then opens.
    box.fill(text)
    expect(page).to_have_url(re.compile(rf"\?q={text}"), timeout=WAIT_MS)
    expect(page.locator(".htmx-request")).to_have_count(0, timeout=WAIT_MS)


@pytest.mark.parametrize(("language", "viewport"), [("en", DESKTOP), ("ar", PHONE)])
def test_a_saved_search_updates_itself_changes_and_is_shared(
    browser: Browser, base_url: str, axe_source: str, language: str, viewport: dict
) -> None:
    page = new_page(browser, base_url, "en", viewport)  # signs up by the English labels
    visitor = new_page(browser, base_url, language, viewport)
    try:
        sign_up(page)
        marker = uuid4().hex[:6]
        generate(page, f"A lighthouse at dusk {marker}")
        generate(page, f"A red fox in the snow {marker}")
        choose_language(page, base_url, language)

        page.goto("/images/?q=lighthouse")
        expect(tiles(page)).to_have_count(1, timeout=WAIT_MS)
        page.locator("details.save-search > summary").click()
        expect(page.locator("#smart-name")).to_be_visible()
        no_axe_violations(page, axe_source, "the gallery, saving its search")
        page.locator("#smart-name").fill("Lighthouses")
        page.locator("#smart-name").press("Enter")
        expect(page).to_have_url(COLLECTION_URL, timeout=WAIT_MS)
        expect(page.locator("h1")).to_have_text("Lighthouses")
        expect(page.locator(".smart-note")).to_be_visible()
        expect(tiles(page)).to_have_count(1)
        collection_url = page.url
        no_axe_violations(page, axe_source, "a smart collection, with the message it was saved")

        page.goto("/collections/")
        smart_one = page.locator(".collection-list li.is-smart")
        expect(smart_one).to_have_count(1)
        expect(smart_one.locator(".smart-badge")).to_be_visible()
        no_axe_violations(page, axe_source, "the collections, one smart")

        # It updates itself.
        generate_meanwhile(page, base_url, language, f"Another lighthouse in the fog {marker}")
        page.goto("/collections/")
        page.locator(".collection-list li.is-smart a").click()
        expect(page).to_have_url(collection_url, timeout=WAIT_MS)
        expect(tiles(page)).to_have_count(2, timeout=WAIT_MS)

        search_here(page, "fox")
        expect(page.locator(".smart-changed")).to_be_visible(timeout=WAIT_MS)
        expect(tiles(page)).to_have_count(1)
        no_axe_violations(page, axe_source, "a smart collection, its search changed")
        page.locator('button[form="update-search"]').click()
        expect(page).to_have_url(re.compile(r"/collections/[0-9a-f-]{36}/\?q=fox$"))
        expect(page.locator(".smart-note")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator(".messages")).to_be_visible()
        expect(tiles(page)).to_have_count(1)

        search_here(page, "lighthouse")
        save_search(page, "LIGHTHOUSES")
        expect(page.locator("#id_name")).to_have_value("LIGHTHOUSES", timeout=WAIT_MS)
        expect(page.locator(".field-name .error")).to_be_visible()
        no_axe_violations(page, axe_source, "a name already used")

        page.goto(collection_url.split("?")[0])
        page.locator("details.collection-tools > summary").click()
        page.locator("details.collection-tools a.button").click()
        expect(page.locator("form.share-form")).to_be_visible(timeout=WAIT_MS)
        no_axe_violations(page, axe_source, "sharing a smart collection")
        page.locator("form.share-form button[type=submit]").click()
        shared_url = page.locator(".share-url input").first.input_value()

        visitor.goto(shared_url)
        expect(tiles(visitor).or_(visitor.locator(".image-grid li"))).to_have_count(1)
        expect(visitor.locator(".image-grid img")).to_have_attribute("alt", re.compile("fox"))
        no_axe_violations(visitor, axe_source, "a shared smart collection")
        generate_meanwhile(page, base_url, language, f"A second red fox {marker}")
        visitor.reload()
        expect(visitor.locator(".image-grid img")).to_have_count(2, timeout=WAIT_MS)
    finally:
        page.context.close()
        visitor.context.close()
