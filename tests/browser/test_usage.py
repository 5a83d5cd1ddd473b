"""The usage page in the browser: its charts drawn on the server, mirrored in Arabic, light and
dark, with nothing for axe to find, and the switch between 30 and 90 days (plain links)."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_accessibility import axe_violations
from tests.browser.tour import Tour

# Generous: the CI machine is loaded, and the tour's jobs are made before the page is read.
WAIT_MS = 20_000


def box(page: Page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box(timeout=WAIT_MS)
    assert found, f"{selector} is not drawn"
    return found


def centre(rectangle: dict) -> float:
    return rectangle["x"] + rectangle["width"] / 2


@pytest.mark.parametrize(
    ("language", "scheme"),
    [("en", "light"), ("en", "dark"), ("ar", "light"), ("ar", "dark"), ("ja", "light")],
)
def test_the_usage_page_draws_its_charts_mirrored_in_arabic_and_axe_finds_nothing(
    browser: Browser, base_url: str, tour: Tour, axe_source: str, language: str, scheme: str
) -> None:
    context = browser.new_context(
        base_url=base_url, storage_state=tour.storage_state, color_scheme=scheme, locale=language
    )
    page = context.new_page()
    try:
        page.goto("/usage/")
        spend = page.locator("#usage-spend")
        expect(spend).to_be_visible(timeout=WAIT_MS)
        expect(spend).to_have_attribute("role", "img")
        expect(page.locator("#usage-images")).to_be_visible()
        expect(page.locator(".usage-table tbody tr").first).to_be_visible()
        # The tour's jobs were all made today: today's bar is the only one, the newest.
        chart = box(page, "#usage-images")
        today = box(page, "#usage-images .day:last-child rect")
        label = box(page, "#usage-images .value-labels text")
        axis = box(page, "#usage-images .value-axis")
        if language == "ar":
            assert centre(today) < centre(chart), "the newest day is on the left"
            assert label["x"] >= axis["x"], "the value axis' labels are on the right"
        else:
            assert centre(today) > centre(chart), "the newest day is on the right"
            assert label["x"] + label["width"] <= axis["x"] + 1
        assert today["height"] > 10, "today's bar has a height"
        violations = axe_violations(page, axe_source)
    finally:
        context.close()
    assert not violations, json.dumps(violations, indent=2, ensure_ascii=False)


def test_the_days_switch_between_thirty_and_ninety_without_javascript(
    browser: Browser, base_url: str, tour: Tour
) -> None:
    context = browser.new_context(
        base_url=base_url, storage_state=tour.storage_state, java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto("/usage/")
        periods = page.get_by_role("navigation", name="Period")
        expect(periods.get_by_role("link", name="Last 30 days")).to_have_attribute(
            "aria-current", "page", timeout=WAIT_MS
        )
        expect(page.locator("#usage-spend .day")).to_have_count(30)
        periods.get_by_role("link", name="Last 90 days").click()
        expect(page).to_have_url("/usage/?days=90", timeout=WAIT_MS)
        expect(periods.get_by_role("link", name="Last 90 days")).to_have_attribute(
            "aria-current", "page"
        )
        expect(page.locator("#usage-spend .day")).to_have_count(90)
        expect(page.get_by_role("link", name="Download CSV")).to_have_attribute(
            "href", "/usage/usage.csv?days=90"
        )
        periods.get_by_role("link", name="Last 30 days").click()
        expect(page).to_have_url("/usage/?days=30", timeout=WAIT_MS)
        expect(page.locator("#usage-spend .day")).to_have_count(30)
    finally:
        context.close()


def test_the_csv_downloads_with_a_row_for_each_model(
    browser: Browser, base_url: str, tour: Tour
) -> None:
    context = browser.new_context(
        base_url=base_url, storage_state=tour.storage_state, accept_downloads=True
    )
    page = context.new_page()
    try:
        page.goto("/usage/")
        with page.expect_download(timeout=WAIT_MS) as download:
            page.get_by_role("link", name="Download CSV").click()
        assert download.value.suggested_filename.startswith("usage-user-")
        lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    finally:
        context.close()
    assert lines[0] == "date,model,images,cost,currency"
    assert {line.split(",")[1] for line in lines[1:]} >= {"gpt-image-2", "qwen-image"}
