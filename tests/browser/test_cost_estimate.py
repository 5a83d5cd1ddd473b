"""The estimate before sending, in the browser: it follows quality, the number of images and the
model as they change, prices a comparison model by model with a total, and axe finds nothing."""

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.studio_pages import choose_model, settled, sign_up
from tests.browser.test_accessibility import axe_violations

# The estimate is asked for 250 ms after a change; a loaded 2-core machine may take seconds.
ESTIMATE_MS = 20_000
MONEY = re.compile(r"\$(\d+\.\d+)")


def amount(estimate: Locator) -> float:
    found = MONEY.search(estimate.inner_text())
    assert found, estimate.inner_text()
    return float(found[1])


def changes_from(estimate: Locator, before: str) -> str:
    expect(estimate).not_to_have_text(before, timeout=ESTIMATE_MS)
    return estimate.inner_text()


def test_the_estimate_follows_quality_images_and_model(page: Page, axe_source: str) -> None:
    sign_up(page)
    choose_model(page, "gpt-image-2")
    estimate = page.locator("#cost-estimate [data-estimate]")
    page.get_by_label("Prompt", exact=True).fill("A paper crane on a windowsill")
    # On load: "auto" quality and size, estimated as the most the model chooses itself.
    expect(estimate).to_contain_text("about $", timeout=ESTIMATE_MS)
    fields = page.locator("#model-fields")
    fields.get_by_label("Quality").select_option("low")
    low = changes_from(estimate, estimate.inner_text())

    fields.get_by_label("Quality").select_option("high")
    high = changes_from(estimate, low)
    assert amount(estimate) > 10 * float(MONEY.search(low)[1])  # 4160 tokens against 272

    images = fields.get_by_label("Number of images")
    images.fill("4")
    images.dispatch_event("change")
    changes_from(estimate, high)
    assert page.locator("#cost-estimate .help").first.inner_text().startswith("4 images")
    assert axe_violations(page, axe_source) == []

    # A model priced per image: exact, no "about".
    choose_model(page, "qwen-image")
    expect(estimate).to_have_text("$0.02", timeout=ESTIMATE_MS)


def test_a_comparison_is_estimated_model_by_model_with_a_total(page: Page, axe_source: str) -> None:
    sign_up(page)
    choose_model(page, "doubao-seedream-5-0-260128")
    fields = page.locator("#model-fields")
    images = fields.get_by_label("Number of images")
    images.fill("3")
    images.dispatch_event("change")
    settled(page)
    page.get_by_text("Compare with other models").click()
    page.get_by_label("Qwen Image").check()
    total = page.locator("#cost-estimate [data-estimate-total]")
    expect(total).to_have_text("$0.14", timeout=ESTIMATE_MS)  # 3 x $0.04 + $0.02
    table = page.get_by_role("table", name="Estimated cost for each model")
    expect(table.get_by_role("row")).to_have_count(4)  # head, two models, total
    assert axe_violations(page, axe_source) == []
