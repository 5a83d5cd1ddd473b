"""The generate form's token in a real browser: pressing Generate again on purpose makes a second
job (the answer brought a new token), while the same form sent again after its answer was lost
on the way shows the job already made; Vary in the feed, clicked twice, makes two; and a form
shown again by Back from the browser's back-forward cache, its token answered, makes a new job
(static/js/submit_tokens.js)."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserType, Page, Route, expect

from tests.browser.studio_pages import choose_model, settled, sign_up, submit_generation

JOB_MS = 60_000  # a job on a busy 2-core machine: a free worker, the provider's 3 s, the poll
TOKEN = "#generate-panel input[name=submit_token]"


def test_generate_pressed_twice_on_purpose_makes_two_jobs(page: Page) -> None:
    sign_up(page)
    choose_model(page, "qwen-image")
    first_token = page.locator(TOKEN).input_value()

    submit_generation(page, "A paper boat on a pond")
    second_token = page.locator(TOKEN).input_value()
    page.get_by_role("button", name="Generate", exact=True).click()

    cards = page.locator(".generation-card", has_text="A paper boat on a pond")
    expect(cards).to_have_count(2, timeout=JOB_MS)
    assert second_token != first_token
    page.reload()  # what the studio kept, not only what the page drew
    expect(cards).to_have_count(2, timeout=JOB_MS)


def test_the_form_sent_again_after_a_lost_answer_shows_the_job_already_made(page: Page) -> None:
    sign_up(page)
    choose_model(page, "qwen-image")
    sent_token = page.locator(TOKEN).input_value()
    lost: list[str] = []

    def lose_the_answer(route: Route) -> None:
        if route.request.method != "POST" or lost:
            route.fallback()
            return
        route.fetch(timeout=JOB_MS)  # the studio gets the form and makes the job...
        lost.append(route.request.url)
        route.abort("connectionreset")  # ...and its answer never arrives

    page.route(re.compile(r"/generate/$"), lose_the_answer)
    page.get_by_label("Prompt", exact=True).fill("A lantern in the rain")
    generate = page.get_by_role("button", name="Generate", exact=True)
    with page.expect_event("requestfailed", timeout=2 * JOB_MS):
        generate.click()
    assert len(lost) == 1
    cards = page.locator(".generation-card", has_text="A lantern in the rain")
    expect(generate).to_be_enabled()  # htmx gave up on the request
    expect(cards).to_have_count(0)
    assert page.locator(TOKEN).input_value() == sent_token  # the same form, untouched

    generate.click()  # the person tries again

    expect(cards).to_have_count(1, timeout=JOB_MS)
    settled(page)
    assert page.locator(TOKEN).input_value() != sent_token
    page.reload()
    expect(cards).to_have_count(1, timeout=JOB_MS)  # one job made, not two


def test_vary_in_the_feed_clicked_twice_makes_two_variations(page: Page) -> None:
    sign_up(page)
    choose_model(page, "qwen-image")
    card = submit_generation(page, "A teapot on a windowsill")
    expect(card).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=JOB_MS)
    # The same button both times: this job's, not the variation's that lands above it.
    vary = page.locator(f"#{card.get_attribute('id')}").get_by_role("button", name="Vary")
    cards = page.locator(".generation-card", has_text="A teapot on a windowsill")

    vary.click()
    expect(cards).to_have_count(2, timeout=JOB_MS)
    vary.click()

    expect(cards).to_have_count(3, timeout=JOB_MS)
    page.reload()
    expect(cards).to_have_count(3, timeout=JOB_MS)


@pytest.fixture
def cached_page(
    browser_type: BrowserType, browser_type_launch_args: dict, base_url: str
) -> Iterator[Page]:
    """A page in a Chromium that keeps pages for Back (Playwright turns the cache off)."""
    browser = browser_type.launch(
        **browser_type_launch_args, ignore_default_args=["--disable-back-forward-cache"]
    )
    try:
        yield browser.new_context(base_url=base_url).new_page()
    finally:
        browser.close()


def test_vary_sent_again_after_back_to_a_cached_page_makes_a_new_job(cached_page: Page) -> None:
    page = cached_page
    sign_up(page)
    choose_model(page, "qwen-image")
    card = submit_generation(page, "A fox in the snow")
    expect(card).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=JOB_MS)
    card.get_by_role("link", name="Open").first.click()
    expect(page).to_have_url(re.compile(r"/images/[0-9a-f-]{36}/$"))
    page.evaluate("window.leftAt = 'image page'")  # still there only if the page was cached
    vary = page.locator("main form", has=page.get_by_role("button", name="Vary"))

    vary.get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/generations/[0-9a-f-]{36}/$"), timeout=JOB_MS)
    first_job = page.url
    page.go_back(wait_until="commit")  # a page from the cache fires no "load"
    expect(page).to_have_url(re.compile(r"/images/[0-9a-f-]{36}/$"))
    assert page.evaluate("window.leftAt") == "image page", "shown from the back-forward cache"
    vary.get_by_role("button").click()

    expect(page).to_have_url(re.compile(r"/generations/[0-9a-f-]{36}/$"), timeout=JOB_MS)
    assert page.url != first_job
