"""The create page's jobs: Enter submits, one status request serves every running card, and a
card keeps its size while its job runs and lands (issue 11)."""

import re

from playwright.sync_api import Page, Request, expect

from tests.browser.studio_pages import choose_model, settled, sign_up, submit_generation

# A job on a busy 2-core machine: a free worker, the provider's 3 s, the download, the poll.
JOB_MS = 60_000
CARD_PAGE = re.compile(r"/generations/[0-9a-f-]{36}/$")


def test_enter_in_a_number_field_submits_the_form(page: Page) -> None:
    sign_up(page)
    choose_model(page, "gpt-image-2")
    cards = page.locator(".generation-card")
    page.get_by_label("Prompt", exact=True).fill("Three paper boats on a pond")
    images = page.locator("#model-fields").get_by_label("Number of images")
    images.fill("2")
    images.press("Enter")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Three paper boats on a pond")
    settled(page)
    # The options were kept: it was a submit, not the model switch.
    expect(page.locator(".generation-card .result:not(.pending)")).to_have_count(2)


def test_one_status_request_a_second_serves_every_running_card(page: Page) -> None:
    sign_up(page)
    choose_model(page, "gpt-image-2")
    for prompt in ("A red door", "A blue door", "A green door"):
        submit_generation(page, prompt)
    asked: list[str] = []

    def note(request: Request) -> None:
        if "/generations/" in request.url:
            asked.append(request.url)

    page.on("request", note)
    page.wait_for_timeout(3_000)
    page.remove_listener("request", note)
    status = [url for url in asked if "/generations/status/" in url]
    per_card = [url for url in asked if CARD_PAGE.search(url)]
    assert per_card == []
    assert 1 <= len(status) <= 5, asked  # about one a second, however many cards
    for card in page.locator(".generation-card").all():
        expect(card).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=JOB_MS)
    # Nothing left running: the page stops asking.
    page.wait_for_timeout(2_500)
    asked.clear()
    page.on("request", note)
    page.wait_for_timeout(2_500)
    assert [url for url in asked if "/generations/status/" in url] == []


def test_a_card_keeps_its_size_from_running_to_done(page: Page) -> None:
    sign_up(page)
    choose_model(page, "gpt-image-2")
    card = submit_generation(page, "A lighthouse in fog")
    expect(card).to_have_class(re.compile(r"\bstatus-(queued|running)\b"))
    running = card.bounding_box()
    expect(card).to_have_class(re.compile(r"\bstatus-succeeded\b"), timeout=JOB_MS)
    expect(card.locator(".result-open img")).to_have_count(1)
    done = card.bounding_box()
    assert running and done
    assert abs(running["height"] - done["height"]) <= 1, (running, done)


def test_the_prompt_counts_against_the_models_limit_and_ctrl_enter_sends(page: Page) -> None:
    sign_up(page)
    choose_model(page, "gpt-image-2")
    prompt = page.get_by_label("Prompt", exact=True)
    counter = page.locator(".char-count")
    prompt.fill("A kite")
    expect(counter).to_have_text("6 of 32,000 characters")
    choose_model(page, "qwen-image")  # the limit follows the model
    expect(counter).to_have_text("6 of 800 characters")
    prompt.fill("x" * 801)
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    prompt.fill("A kite over the dunes")
    cards = page.locator(".generation-card")
    prompt.press("Control+Enter")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("A kite over the dunes")
