"""The create page's feed in Chromium: pages loaded as it scrolls, filters, each result's actions,
a phone bringing a new job into view, and one prompt sent to three models with a winner picked."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.studio_pages import (
    JOB_TIMEOUT_MS,
    choose_model,
    settled,
    sign_up,
    submit_generation,
    wait_until_finished,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
# Ten jobs a page (imagegen/feed.py); the test makes one more.
JOBS_PER_PAGE = 10


def send(page: Page, prompt: str) -> None:
    """Submit without waiting for the job: the feed gets its card at once."""
    page.locator("#id_prompt").fill(prompt)
    page.locator("#generate-submit").click()
    expect(page.locator(".generation-card").filter(has_text=prompt)).to_have_count(1)
    settled(page)


def test_the_feed_loads_older_jobs_as_it_scrolls_and_filters_them(page: Page) -> None:
    sign_up(page)
    choose_model(page, "qwen-image")
    for number in range(JOBS_PER_PAGE):
        send(page, f"Qwen job {number}")
    choose_model(page, "gpt-image-2")
    send(page, "The one GPT job")
    page.goto("/generate/")
    cards = page.locator(".generation-card")
    expect(cards).to_have_count(JOBS_PER_PAGE)
    # The oldest job is on the second page, fetched when the link to it scrolls into view.
    page.locator("#feed-more").scroll_into_view_if_needed()
    expect(cards).to_have_count(JOBS_PER_PAGE + 1, timeout=JOB_TIMEOUT_MS)
    expect(cards.last).to_contain_text("Qwen job 0")
    expect(page.locator("#feed-more")).to_have_count(0)
    # A filter narrows the feed in place, and the address says so (a link to share or reload).
    page.locator("#feed-model").select_option("gpt-image-2")
    expect(cards).to_have_count(1, timeout=JOB_TIMEOUT_MS)
    expect(cards.first).to_contain_text("The one GPT job")
    expect(page).to_have_url(re.compile(r"model_filter=gpt-image-2"))
    page.reload()
    expect(cards).to_have_count(1)
    expect(page.locator("#feed-model")).to_have_value("gpt-image-2")


def test_every_action_of_a_result_from_the_feed(page: Page) -> None:
    sign_up(page)
    page.goto("/collections/")
    page.get_by_label("Name").fill("Keepers")
    page.get_by_role("button", name="Create collection").click()
    page.goto("/generate/")
    choose_model(page, "qwen-image")
    card = submit_generation(page, "A blue teapot on a windowsill")
    wait_until_finished(card)
    result = card.locator(".result").first
    expect(result.locator(".result-open img")).to_be_visible()
    # Favourite, in place.
    star = result.locator("button.favourite")
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    expect(result.locator("button.favourite")).to_have_attribute("aria-pressed", "true")
    # Download: the original file, under its own name.
    result.get_by_text("More").click()
    with page.expect_download() as download:
        result.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename.endswith(".png")
    # Add to a collection, and come back to the same result.
    result.get_by_label("Add to collection").select_option(label="Keepers")
    result.get_by_role("button", name="Add", exact=True).click()
    expect(page).to_have_url(re.compile(r"/generate/#result-"))
    page.goto("/collections/")
    page.get_by_role("link", name="Keepers").first.click()
    expect(page.locator(".image-grid .tile")).to_have_count(1)
    page.goto("/generate/")
    # The first job stays the last card of the feed as new ones arrive above it.
    result = page.locator(".generation-card").last.locator(".result").first
    image_link = result.locator(".result-open").get_attribute("href") or ""
    image_id = image_link.strip("/").split("/")[-1]
    # Vary: a new job at the top of the feed, the page stays.
    result.get_by_role("button", name="Vary").click()
    expect(page.locator(".generation-card")).to_have_count(2, timeout=JOB_TIMEOUT_MS)
    expect(page).to_have_url(re.compile(r"/generate/$"))
    wait_until_finished(page.locator(".generation-card").first)
    # Use as reference: the form opens with it ticked (Qwen takes none: the default model does).
    result.get_by_role("link", name="Use as reference").click()
    expect(page.locator(f'input[name=reference][value="{image_id}"]')).to_be_checked()
    page.go_back()
    # Edit opens the editor; Open the image's page.
    result = page.locator(".generation-card").last.locator(".result").first
    result.get_by_role("link", name="Edit").click()
    expect(page).to_have_url(re.compile(rf"/images/{image_id}/edit/"))
    page.go_back()
    result = page.locator(".generation-card").last.locator(".result").first
    result.get_by_role("link", name="Open").click()
    expect(page).to_have_url(re.compile(rf"/images/{image_id}/$"))
    page.go_back()
    # To the Trash, no confirmation: the result says so in place, with Undo; the page stays.
    result = page.locator(".generation-card").last.locator(".result").first
    result.get_by_text("More").click()
    result.get_by_role("link", name="Move to the Trash").click()
    notice = page.locator(f"#result-{image_id}.trashed-notice")
    expect(notice).to_be_visible(timeout=15_000)
    page.goto(f"/images/{image_id}/")
    expect(page.get_by_role("heading", name=re.compile("not found", re.I))).to_be_visible()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_on_a_phone_a_new_job_comes_into_view(
    browser: Browser, base_url: str, language: str
) -> None:
    context = browser.new_context(base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_up(page)
        page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
        page.goto("/generate/")
        page.locator("#id_prompt").fill("A kite over the dunes")
        page.locator("#generate-submit").click()
        card = page.locator(".generation-card").first
        expect(card).to_be_in_viewport(timeout=JOB_TIMEOUT_MS)
        # The feed sits below the whole form on a phone: the card was brought to the person.
        assert page.evaluate("window.scrollY") > 200
        wait_until_finished(card)
        expect(card.locator(".result-open img")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize(
    ("language", "viewport"), [("en", DESKTOP), ("ar", PHONE)], ids=["en-desktop", "ar-phone"]
)
def test_one_prompt_three_models_side_by_side_and_a_winner(
    browser: Browser, base_url: str, language: str, viewport: dict
) -> None:
    context = browser.new_context(base_url=base_url, viewport=viewport)
    page = context.new_page()
    try:
        sign_up(page)
        page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
        page.goto("/generate/?model=gpt-image-2")
        page.locator("#id_prompt").fill("A red fox in fresh snow")
        page.locator(".compare-models summary").click()
        for model in ("qwen-image", "doubao-seedream-5-0-260128"):
            page.locator(f'[name=compare_with][value="{model}"]').check()
        # The chosen model is not offered as its own companion.
        expect(page.locator('[name=compare_with][value="gpt-image-2"]')).to_be_hidden()
        # What each of the three will receive, before anything is sent.
        plan = page.locator("#comparison-plan .plan > li")
        expect(plan).to_have_count(3, timeout=JOB_TIMEOUT_MS)
        expect(plan.nth(2)).to_contain_text("1328")  # Qwen keeps a size of its own
        page.locator("#generate-submit").click()
        expect(page).to_have_url(re.compile(r"/comparisons/[0-9a-f-]+/$"), timeout=JOB_TIMEOUT_MS)
        entries = page.locator(".compare-entry")
        expect(entries).to_have_count(3)
        expect(page.locator(".compare-entry img:not(.preview)")).to_have_count(
            3, timeout=JOB_TIMEOUT_MS * 2
        )
        winner = entries.nth(2)
        winner.locator("button[name=image]").click()
        expect(winner.locator(".compare-figure.is-winner")).to_have_count(1, timeout=JOB_TIMEOUT_MS)
        # The winner is a favourite now, in the gallery too.
        page.goto("/images/?favourites=1")
        expect(page.locator(".image-grid .tile")).to_have_count(1)
    finally:
        context.close()
