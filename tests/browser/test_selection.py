"""Selecting in the gallery: every tile shown at once, and Shift+click for a run of tiles."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.studio_pages import choose_model, sign_up, submit_generation, wait_until_finished

pytestmark = pytest.mark.browser


def test_select_all_and_a_shift_click_range(page: Page) -> None:
    sign_up(page)
    choose_model(page, "qwen-image")
    cards = [submit_generation(page, f"A paper lantern, number {n}") for n in range(5)]
    for card in cards:
        wait_until_finished(card)
    page.goto("/images/")
    boxes = page.locator("#gallery .tile-select")
    expect(boxes).to_have_count(5)
    count = page.locator("[data-selected-count]")
    # A run: the second, then Shift+click on the fourth ticks the third too.
    boxes.nth(1).click()
    boxes.nth(3).click(modifiers=["Shift"])
    expect(count).to_have_text("Selected: 3")
    for index, ticked in enumerate([False, True, True, True, False]):
        expect(boxes.nth(index)).to_be_checked(checked=ticked)
    # The run takes the state of the box Shift+clicked: ticked back to the first...
    boxes.nth(3).click()
    boxes.nth(0).click(modifiers=["Shift"])
    expect(count).to_have_text("Selected: 4")
    # ...and unticked again.
    boxes.nth(0).click()
    boxes.nth(3).click(modifiers=["Shift"])
    expect(count).to_have_text("")
    # Select all, and the box follows the tiles.
    select_all = page.get_by_label("Select all shown")
    select_all.check()
    expect(count).to_have_text("Selected: 5")
    boxes.nth(2).click()
    expect(select_all).not_to_be_checked()
    boxes.nth(2).click()
    expect(select_all).to_be_checked()
    select_all.uncheck()
    expect(count).to_have_text("")
