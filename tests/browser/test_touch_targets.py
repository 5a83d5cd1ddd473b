"""On a phone every touch target is at least 44 CSS px each way: buttons, links drawn as buttons,
form fields, disclosure summaries, the menu, checkboxes with their labels. Links inside running
text are exempt (WCAG 2.5.8's inline exception), as are visually hidden helpers."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.tour import Tour

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SMALLEST = 44
# A checkbox or radio counts with its label (the label is its room).
TOO_SMALL = (Path(__file__).parent / "too_small_targets.js").read_text()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_touch_target_is_big_enough_on_a_phone(
    browser: Browser, base_url: str, tour: Tour, language: str
) -> None:
    context = browser.new_context(
        base_url=base_url,
        storage_state=tour.storage_state,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale=language,
    )
    page = context.new_page()
    found = {}
    try:
        for name, path in tour.pages().items():
            page.goto(path)
            page.wait_for_load_state("load")
            found[name] = page.evaluate(TOO_SMALL, SMALLEST)
    finally:
        context.close()
    problems = {name: small for name, small in found.items() if small}
    assert not problems, json.dumps(problems, indent=2, ensure_ascii=False)
