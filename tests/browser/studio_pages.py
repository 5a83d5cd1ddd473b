"""What a user does in the studio, as steps the browser tests share.

Each step works through the page as a person would: labels, buttons and links, not private ids,
so a step breaks when the page stops making sense, not when markup is tidied.
"""

import re
from uuid import uuid4

from playwright.sync_api import Locator, Page, expect

PASSWORD = "a long browser-test passphrase"
# A job takes OFFLINE_LATENCY (3 s) plus a worker's poll; the card polls every second.
JOB_TIMEOUT_MS = 30_000


def sign_up(page: Page) -> str:
    """Create a new account through the sign-up page; returns its username."""
    username = f"user-{uuid4().hex[:12]}"
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url("/generate/")
    return username


def choose_model(page: Page, model: str) -> None:
    """Pick a model and wait for htmx to swap in that model's own fields."""
    settled(page)
    picker = page.get_by_label("Model", exact=True)
    if picker.input_value() == model:
        # Selecting it again would still fire "change": a swap that could land after the next
        # step and take its input away.
        return
    picker.select_option(model)
    label = picker.locator("option:checked").inner_text()
    # The child legend only: the reference slots, when the model takes images, have their own.
    expect(page.locator("#model-fields > legend")).to_have_text(f"Options for {label}")
    settled(page)


def submit_generation(page: Page, prompt: str) -> Locator:
    """Fill the prompt, press Generate; returns the new job's card."""
    cards = page.locator(".generation-card")
    before = cards.count()
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(cards).to_have_count(before + 1)
    card = cards.filter(has_text=prompt).first
    expect(card).to_be_visible()
    settled(page)
    return card


def settled(page: Page) -> None:
    """Wait until htmx has finished swapping the form in: until then, its new controls are not
    yet wired up, and a change made in those few milliseconds would send nothing."""
    expect(page.locator(".htmx-added, .htmx-settling, .htmx-swapping")).to_have_count(0)
    expect(page.locator("#generate-submit")).to_be_enabled()


def wait_until_finished(card: Locator) -> None:
    expect(card).to_have_class("generation-card status-succeeded", timeout=JOB_TIMEOUT_MS)


def generate(page: Page, prompt: str, model: str = "gpt-image-2") -> Locator:
    """A whole generation: choose, submit, wait until its images are in the gallery."""
    page.goto("/generate/")
    choose_model(page, model)
    card = submit_generation(page, prompt)
    wait_until_finished(card)
    return card


def search_gallery(page: Page, text: str) -> Locator:
    """Search the gallery as someone typing does; returns the tiles shown."""
    page.goto("/images/")
    page.get_by_role("searchbox").fill(text)
    page.get_by_role("searchbox").press("Enter")
    # Only the filters in use go in the address (?q=…, not ?q=…&model=&size=…).
    expect(page).to_have_url(re.compile(r"/images/\?q=[^&]+$"))
    return page.locator(".image-grid .tile")


def choose_size(page: Page, size: str) -> None:
    """Pick a size tile (a radio in the Size group) by the size it sends."""
    group = page.locator("#model-fields").get_by_role("group", name="Size", exact=True)
    group.locator(f'input[type="radio"][value="{size}"]').check()


def size_values(page: Page) -> list[str]:
    """The sizes the Size group offers, in order."""
    group = page.locator("#model-fields").get_by_role("group", name="Size", exact=True)
    return group.get_by_role("radio").evaluate_all("radios => radios.map(radio => radio.value)")
