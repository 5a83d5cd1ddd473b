"""The generate form's tools in Chromium, at desktop and phone widths, in English and Arabic:
size tiles, "Advanced", saving and applying a preset, and the prompt history (issue 11).

The steps find things by their place in the form (ids, names), not their words: the journey is
the same in both languages, and words still untranslated would not make it fail.
"""

import re
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.studio_pages import settled, sign_up
from tests.browser.test_accessibility import axe_violations

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
SEEDREAM = "doubao-seedream-5-0-260128"
# Waits for the page itself, generous for a loaded 2-core machine.
WAIT_MS = 30_000


def signed_in_page(browser: Browser, base_url: str, locale: str, viewport: dict) -> Page:
    english = browser.new_context(base_url=base_url)
    sign_up(english.new_page())
    state = english.storage_state()
    english.close()
    context = browser.new_context(
        base_url=base_url, storage_state=state, locale=locale, viewport=viewport
    )
    return context.new_page()


def open_tool(page: Page, tool: str) -> None:
    details = page.locator(f"details.{tool}")
    if details.get_attribute("open") is None:
        details.locator("> summary").click()
    expect(details).to_have_attribute("open", "", timeout=WAIT_MS)


def fits_the_width(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize(
    ("locale", "viewport"),
    [("en", DESKTOP), ("ar", DESKTOP), ("en", PHONE), ("ar", PHONE)],
    ids=["en-desktop", "ar-desktop", "en-phone", "ar-phone"],
)
def test_tiles_advanced_presets_and_history(
    browser: Browser, base_url: str, axe_source: str, locale: str, viewport: dict
) -> None:
    page = signed_in_page(browser, base_url, locale, viewport)
    marker = uuid4().hex[:8]
    prompt = f"A fox asleep in the snow {marker}"
    try:
        page.goto(f"/generate/?model={SEEDREAM}")
        settled(page)
        fields = page.locator("#model-fields")
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if locale == "ar" else "ltr")

        # A ratio tile: a radio in a fieldset, with the pixels; Arrow keys move within it.
        tall = fields.locator('input[name="size"][value="1728x2304"]')
        tall.check()
        expect(tall).to_be_checked()
        tile = tall.locator("xpath=..")  # its label, the tile
        expect(tile.locator(".tile-name")).to_contain_text("3:4")
        expect(tile.locator(".tile-pixels")).to_have_text("1728 \N{MULTIPLICATION SIGN} 2304")
        tall.press("ArrowDown")
        expect(fields.locator('input[name="size"][value="2848x1600"]')).to_be_checked()
        expect(fields.locator('input[name="size"][value="2848x1600"]')).to_be_focused()
        tall.check()

        # "Advanced" is closed; opened, its response format changes.
        advanced = fields.locator("details.advanced-options")
        expect(advanced).not_to_have_attribute("open", "")
        expect(page.locator("#id_response_format")).to_be_hidden()
        advanced.locator("> summary").click()
        expect(page.locator("#id_response_format")).to_be_visible()
        page.locator("#id_response_format").select_option("url")

        # A job, so the prompt has a history.
        page.locator("#id_prompt").fill(prompt)
        page.locator("#generate-submit").click()
        expect(page.locator(".generation-card", has_text=marker).first).to_be_visible(
            timeout=WAIT_MS
        )
        settled(page)

        # Save these settings as a preset: back on the form, with them, and listed.
        open_tool(page, "presets-tool")
        page.locator("#id_preset_name").fill(f"Tall fox {marker}")
        page.locator("#id_preset_name").press("Enter")
        expect(page).to_have_url(re.compile(rf"/generate/\?model={SEEDREAM}&"), timeout=WAIT_MS)
        expect(page.locator(".messages")).to_contain_text(f"Tall fox {marker}")
        preset = page.locator("a[data-preset]", has_text=f"Tall fox {marker}")
        expect(preset).to_have_count(1)

        # Apply it from another model: its model and options come back, the prompt stays.
        page.locator("#id_model").select_option("qwen-image")
        expect(page.locator('#model-fields input[name="size"][value="1328x1328"]')).to_be_visible(
            timeout=WAIT_MS
        )
        settled(page)
        page.locator("#id_prompt").fill("keep me")
        open_tool(page, "presets-tool")
        preset.click()
        expect(page.locator("#id_model")).to_have_value(SEEDREAM, timeout=WAIT_MS)
        expect(page.locator('#model-fields input[name="size"][value="1728x2304"]')).to_be_checked()
        expect(page.locator("#id_response_format")).to_have_value("url")
        expect(page.locator("#id_prompt")).to_have_value("keep me")

        # The prompt history: searched, and a prompt put back into the form in place.
        open_tool(page, "history-tool")
        results = page.locator(".history-tool .history-use")
        expect(results.first).to_be_visible(timeout=WAIT_MS)
        page.locator("#id_history_q").fill(marker)
        expect(results).to_have_count(1, timeout=WAIT_MS)
        expect(results.first).to_have_text(prompt)
        results.first.click()
        expect(page.locator("#id_prompt")).to_have_value(prompt)
        expect(page.locator("#id_prompt")).to_be_focused()
        assert "/prompts/" not in page.url  # filled in place, not followed

        # Everything open at once: nothing for axe to find, nothing wider than the screen.
        open_tool(page, "presets-tool")
        open_tool(page, "history-tool")
        expect(page.locator(".history-tool .history-use").first).to_be_visible(timeout=WAIT_MS)
        advanced = page.locator("#model-fields details.advanced-options")
        if advanced.get_attribute("open") is None:
            advanced.locator("> summary").click()
        expect(page.locator("#id_response_format")).to_be_visible()
        assert axe_violations(page, axe_source) == []
        assert fits_the_width(page)

        page.goto("/presets/")
        expect(page.locator(".preset-row")).to_have_count(1)
        assert axe_violations(page, axe_source) == []
        page.goto(f"/prompts/?q={marker}")
        expect(page.locator(".history-use")).to_have_count(1)
        assert axe_violations(page, axe_source) == []
        assert fits_the_width(page)
    finally:
        page.context.close()


def test_a_preset_is_renamed_and_deleted_on_its_page(browser: Browser, base_url: str) -> None:
    page = signed_in_page(browser, base_url, "en", DESKTOP)
    try:
        page.goto("/generate/?model=qwen-image")
        settled(page)
        open_tool(page, "presets-tool")
        page.locator("#id_preset_name").fill("Square qwen")
        page.get_by_role("button", name="Save these settings as a preset").click()
        expect(page.locator("a[data-preset]")).to_have_text("Square qwen", timeout=WAIT_MS)

        page.goto("/presets/")
        page.get_by_label("New name for Square qwen").fill("Qwen, square")
        page.get_by_role("button", name="Rename").click()
        expect(page.locator(".preset-apply")).to_have_text("Qwen, square", timeout=WAIT_MS)
        page.get_by_role("button", name="Delete Qwen, square").click()
        expect(page.locator(".preset-row")).to_have_count(0, timeout=WAIT_MS)
        expect(page.locator("#preset-manager .empty")).to_be_visible()
    finally:
        page.context.close()


def test_an_invalid_preset_is_explained_beside_the_button(browser: Browser, base_url: str) -> None:
    page = signed_in_page(browser, base_url, "en", DESKTOP)
    try:
        page.goto("/generate/?model=qwen-image")
        settled(page)
        open_tool(page, "presets-tool")
        page.get_by_role("button", name="Save these settings as a preset").click()  # no name
        expect(page.locator("#preset-save-status")).to_contain_text(
            "Give the preset a name", timeout=WAIT_MS
        )
        expect(page).to_have_url(re.compile(r"/generate/\?model=qwen-image$"))
        expect(page.locator("a[data-preset]")).to_have_count(0)
    finally:
        page.context.close()
