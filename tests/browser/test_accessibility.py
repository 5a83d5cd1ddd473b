"""Accessibility in the browser: axe-core on every page, keyboard use, motion, live regions."""

import json
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.studio_pages import choose_size, submit_generation
from tests.browser.tour import PUBLIC_PAGES, Tour

# WCAG 2.1 A and AA, plus axe's best practices (landmarks, one h1, heading order…).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page: Page, axe_source: str) -> list[dict]:
    # Evaluated over the DevTools protocol, which the page's Content-Security-Policy allows;
    # an injected <script> tag would be refused, as it should be.
    page.evaluate(axe_source)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"][:5]],
        }
        for violation in results["violations"]
    ]


@pytest.mark.parametrize(
    ("language", "scheme"),
    [("en", "light"), ("en", "dark"), ("ar", "light"), ("ar", "dark"), ("ja", "light")],
)
def test_axe_finds_nothing_on_any_page(
    browser: Browser, base_url: str, tour: Tour, axe_source: str, scheme: str, language: str
) -> None:
    context = browser.new_context(
        base_url=base_url, storage_state=tour.storage_state, color_scheme=scheme, locale=language
    )
    visitor = browser.new_context(base_url=base_url, color_scheme=scheme, locale=language)
    try:
        found = {}
        signed_in = context.new_page()
        for name, path in tour.pages().items():
            signed_in.goto(path)
            found[name] = axe_violations(signed_in, axe_source)
        signed_out = visitor.new_page()
        for name, path in {**PUBLIC_PAGES, "shared page": tour.shared}.items():
            signed_out.goto(path)
            found[name] = axe_violations(signed_out, axe_source)
        assert signed_in.locator("html").get_attribute("lang") == language
    finally:
        context.close()
        visitor.close()
    assert len(found) == 18  # every page of the tour, the public ones and a share
    problems = {name: violations for name, violations in found.items() if violations}
    assert not problems, json.dumps(problems, indent=2, ensure_ascii=False)


def has_visible_focus(page: Page) -> bool:
    return page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
            return outline || style.boxShadow !== "none";
        }"""
    )


def focused(page: Page) -> str:
    return page.evaluate(
        "() => document.activeElement.id || document.activeElement.textContent.trim()"
    )


@pytest.fixture
def signed_in(browser: Browser, base_url: str, tour: Tour) -> Page:
    context = browser.new_context(base_url=base_url, storage_state=tour.storage_state)
    yield context.new_page()
    context.close()


def test_generate_by_keyboard_alone_with_a_visible_focus_ring(signed_in: Page) -> None:
    page = signed_in
    page.goto("/generate/")
    page.keyboard.press("Tab")
    assert focused(page) == "Skip to content"
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
    visited = []
    while focused(page) != "id_prompt":
        page.keyboard.press("Tab")
        visited.append(focused(page))
        assert has_visible_focus(page), f"no focus ring on {visited[-1]!r}"
        assert len(visited) < 30, f"the prompt is not reachable by Tab: {visited}"
    assert "id_model" in visited
    page.keyboard.type("A kite festival seen from above")
    while focused(page) != "generate-submit":
        page.keyboard.press("Tab")
        assert has_visible_focus(page), f"no focus ring on {focused(page)!r}"
        assert len(visited) < 60
        visited.append(focused(page))
    cards = page.locator(".generation-card")
    before = cards.count()
    page.keyboard.press("Enter")
    expect(cards).to_have_count(before + 1)
    expect(cards.filter(has_text="A kite festival seen from above")).to_have_count(1)


def test_image_pages_by_keyboard_and_the_lightbox(signed_in: Page) -> None:
    page = signed_in
    page.goto("/images/")
    page.locator(".image-grid .tile a").first.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/images/[0-9a-f-]{36}/$"))
    first = page.url
    page.keyboard.press("ArrowRight")  # older, in a left-to-right page
    expect(page).not_to_have_url(first)
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(first)

    lightbox = page.locator("dialog.lightbox")
    # The arrow keys changed page: its script must be running before the click is its to take.
    page.wait_for_load_state("load")
    page.locator(".image-detail figure a").click()
    expect(lightbox).to_be_visible()
    expect(page.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Escape")  # closes the lightbox, stays on the page
    expect(lightbox).to_be_hidden()
    expect(page).to_have_url(first)
    page.keyboard.press("Escape")  # then back to the grid
    expect(page).to_have_url("/images/")


@pytest.mark.parametrize(("motion", "animation"), [("reduce", "none"), ("no-preference", "pulse")])
def test_motion_follows_the_system_setting(signed_in: Page, motion: str, animation: str) -> None:
    page = signed_in
    page.emulate_media(reduced_motion=motion)
    page.goto("/generate/")
    page.get_by_label("Prompt", exact=True).fill("A slow pendulum")
    page.get_by_role("button", name="Generate", exact=True).click()
    badge = page.locator(".status-running .badge").first
    expect(badge).to_be_visible(timeout=15_000)
    # Retried: the card is swapped every second, and a detached element has no computed style.
    expect(badge).to_have_css("animation-name", animation)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_in_the_pages_other_states(
    browser: Browser, base_url: str, tour: Tour, axe_source: str, scheme: str
) -> None:
    """Errors shown, panels open, nothing found, the lightbox up: states a first load misses."""
    context = browser.new_context(
        base_url=base_url, storage_state=tour.storage_state, color_scheme=scheme
    )
    page = context.new_page()
    found = {}
    try:
        page.goto("/generate/?model=gpt-image-2")
        submit_generation(page, "A lantern in the rain")  # its badge pulses while it runs
        expect(page.locator(".status-running .badge").first).to_be_visible(timeout=15_000)
        choose_size(page, "custom")
        page.locator("#model-fields").get_by_label("Width").fill("1000")
        page.locator("#model-fields").get_by_label("Height").fill("1000")
        page.get_by_role("button", name="Generate", exact=True).click()
        expect(page.get_by_text("Both edges must be multiples of 16.")).to_be_visible()
        found["generate, a job running, errors shown"] = axe_violations(page, axe_source)

        page.goto("/generate/?model=gpt-image-2")
        page.get_by_label("Prompt", exact=True).fill("A lantern in the rain")
        page.locator(".compare-models summary").click()
        page.locator('[name=compare_with][value="qwen-image"]').check()
        expect(page.locator("#comparison-plan .plan > li")).to_have_count(2, timeout=15_000)
        # The oldest job's result: a job still running above it may finish meanwhile.
        more = page.locator(".generation-card").last.locator(".result-more").first
        more.locator("summary").click()
        expect(more.locator(".result-menu")).to_be_visible()
        found["generate, comparing two models, a result's menu open"] = axe_violations(
            page, axe_source
        )

        page.goto("/images/?q=nothing-matches-this&since=2020-01-01")
        expect(page.locator(".filter-more")).to_have_attribute("open", "")
        found["gallery, nothing found, filters open"] = axe_violations(page, axe_source)

        page.goto(tour.image)
        page.locator(".image-detail figure a").click()
        expect(page.locator("dialog.lightbox")).to_be_visible()
        found["image, lightbox open"] = axe_violations(page, axe_source)

        page.goto(tour.collection)
        page.get_by_text("Rename, share or delete").click()
        found["collection, tools open"] = axe_violations(page, axe_source)
    finally:
        context.close()
    problems = {name: violations for name, violations in found.items() if violations}
    assert not problems, json.dumps(problems, indent=2, ensure_ascii=False)


def test_the_gallery_by_keyboard_select_and_favourite(signed_in: Page) -> None:
    page = signed_in
    page.goto("/images/")
    first_tile = page.locator(".image-grid .tile").first
    checkbox = first_tile.get_by_role("checkbox")
    steps = 0
    while not checkbox.evaluate("box => box === document.activeElement"):
        page.keyboard.press("Tab")
        assert has_visible_focus(page), f"no focus ring on {focused(page)!r}"
        steps += 1
        assert steps < 40, "the first tile's checkbox is not reachable by Tab"
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()
    expect(page.locator("[data-selected-count]")).to_have_text("Selected: 1")
    page.keyboard.press("Tab")
    favourite = first_tile.locator("button.favourite")
    expect(favourite).to_be_focused()
    assert has_visible_focus(page)
    was = favourite.get_attribute("aria-pressed")
    page.keyboard.press("Enter")
    expect(first_tile.locator("button.favourite")).not_to_have_attribute("aria-pressed", was or "")
