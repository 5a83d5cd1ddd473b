"""Rating by key: 1-5 on a focused tile in the gallery, and on an image's page; the same key
again takes the stars away."""

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.studio_pages import choose_model, sign_up, submit_generation, wait_until_finished

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "ar"])
def test_keys_rate_in_the_gallery_and_on_the_image_page(
    browser: Browser, base_url: str, language: str
) -> None:
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    try:
        sign_up(page)
        choose_model(page, "qwen-image")
        wait_until_finished(submit_generation(page, "A kingfisher on a reed"))
        page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
        page.goto("/images/")
        tile = page.locator(".image-grid .tile").first
        tile.locator("a").first.focus()
        page.keyboard.press("3")
        expect(tile.locator(".tile-rating")).to_have_text("★★★", timeout=15_000)
        page.reload()
        expect(page.locator(".image-grid .tile").first).to_have_attribute("data-rating", "3")
        page.locator(".image-grid .tile a").first.click()
        stars = page.locator("form.rating .star.is-lit")
        expect(stars).to_have_count(3)
        page.keyboard.press("5")
        expect(stars).to_have_count(5, timeout=15_000)
        page.keyboard.press("5")  # the same key again: no stars
        expect(stars).to_have_count(0, timeout=15_000)
        page.reload()
        expect(page.locator("form.rating")).to_have_attribute("data-rating", "0")
    finally:
        context.close()
