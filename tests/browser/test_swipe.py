"""On a phone, a swipe on an image or in its lightbox moves through the search (mirrored in
Arabic); from the lightbox the next image opens in its own lightbox."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.studio_pages import choose_model, sign_up, submit_generation, wait_until_finished

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
IMAGE_PAGE = re.compile(r"/images/([0-9a-f-]+)/")


def swipe(page: Page, selector: str, dx: float) -> None:
    """A one-finger swipe of `dx` CSS pixels across the middle of `selector`."""
    page.evaluate(
        """([selector, dx]) => {
          const target = document.querySelector(selector);
          const box = target.getBoundingClientRect();
          const x = box.left + box.width / 2, y = box.top + box.height / 2;
          const at = (clientX) => new Touch({ identifier: 1, target, clientX, clientY: y });
          target.dispatchEvent(new TouchEvent("touchstart",
            { touches: [at(x)], changedTouches: [at(x)], bubbles: true }));
          target.dispatchEvent(new TouchEvent("touchend",
            { touches: [], changedTouches: [at(x + dx)], bubbles: true }));
        }""",
        [selector, dx],
    )


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_swipe_moves_through_the_search(browser: Browser, base_url: str, language: str) -> None:
    context = browser.new_context(base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_up(page)
        choose_model(page, "qwen-image")
        for prompt in ("An older lighthouse", "A newer lighthouse"):
            wait_until_finished(submit_generation(page, prompt))
        page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
        page.goto("/images/")
        page.locator(".image-grid .tile a").first.click()
        newest = page.url
        # Towards older images: right to left in English, left to right in Arabic.
        towards_older = -150 if language == "en" else 150
        swipe(page, "a[data-lightbox]", -towards_older)  # the other way: nothing newer
        page.wait_for_timeout(500)
        assert page.url == newest
        swipe(page, "a[data-lightbox]", towards_older)
        expect(page).not_to_have_url(newest, timeout=15_000)
        older = page.url
        # A swipe in the lightbox goes back, and the lightbox opens there.
        page.locator("a[data-lightbox]").click()
        expect(page.locator("dialog.lightbox")).to_be_visible()
        swipe(page, "dialog.lightbox", -towards_older)
        expect(page).to_have_url(re.compile(re.escape(newest.split("?")[0]) + r".*#lightbox$"))
        expect(page.locator("dialog.lightbox")).to_be_visible()
        assert older != newest
    finally:
        context.close()
