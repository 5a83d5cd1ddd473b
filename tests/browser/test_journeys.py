"""The studio's main journeys, end to end in Chromium against the running studio."""

import re
from uuid import uuid4

from playwright.sync_api import Browser, Page, expect

from tests.browser.studio_pages import (
    JOB_TIMEOUT_MS,
    choose_model,
    choose_size,
    generate,
    search_gallery,
    sign_up,
    size_values,
    submit_generation,
    wait_until_finished,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def option_values(page: Page, label: str) -> list[str]:
    return (
        page.get_by_label(label, exact=True)
        .locator("option")
        .evaluate_all("options => options.map(option => option.value)")
    )


def test_the_form_adapts_to_each_model_family_and_each_family_generates(page: Page) -> None:
    sign_up(page)
    fields = page.locator("#model-fields")
    # A fresh studio offers only what the key can still use: DALL·E retired in May 2026.
    assert "dall-e-3" not in option_values(page, "Model")
    expect(page.locator("#model-fields > legend")).to_have_text("Options for GPT Image 2")

    choose_model(page, "gpt-image-2")
    expect(fields.get_by_label("Style")).to_have_count(0)
    assert option_values(page, "Background") == ["auto", "opaque", "transparent"]
    assert "custom" in size_values(page)
    fields.get_by_label("Number of images").fill("2")
    choose_size(page, "custom")
    fields.get_by_label("Width").fill("1280")
    fields.get_by_label("Height").fill("720")
    gpt = submit_generation(page, "A glass greenhouse in the snow, wide shot")

    choose_model(page, "gpt-image-2.6-flare")
    expect(fields.get_by_label("Number of images")).to_have_value("2")  # choices carry over
    assert option_values(page, "Quality")[-2:] == ["xhigh", "max"]
    assert option_values(page, "Output format") == ["png", "jpeg", "webp", "gif", "svg"]
    fields.get_by_label("Number of images").fill("1")
    choose_size(page, "1024x1024")
    # Fields that apply only to a GIF wait until GIF is chosen (the schema's only_when).
    expect(fields.get_by_label("Frames")).to_be_hidden()
    expect(fields.get_by_label("Compression")).to_be_hidden()
    fields.get_by_label("Output format").select_option("gif")
    expect(fields.get_by_label("Compression")).to_be_hidden()
    fields.get_by_label("Frames").fill("4")
    gif = submit_generation(page, "A paper windmill turning in the wind")

    choose_model(page, "doubao-seedream-5-0-260128")
    assert size_values(page)[:2] == ["2K", "4K"]
    expect(fields.get_by_label("Watermark")).to_be_checked()
    expect(fields.get_by_label("Quality")).to_have_count(0)
    choose_size(page, "1728x2304")
    fields.get_by_label("Seed").fill("42")
    fields.get_by_label("Guidance scale").fill("6.5")
    seedream = submit_generation(page, "A lighthouse keeper's cat, vivid poster")

    choose_model(page, "qwen-image")
    expect(fields.get_by_label("Quality")).to_have_count(0)
    expect(fields.get_by_label("Background")).to_have_count(0)
    assert size_values(page)[0] == "1328x1328"
    qwen = submit_generation(page, "山の上の小さな茶屋、水彩画")

    for card, images in ((gpt, 2), (gif, 1), (seedream, 1), (qwen, 1)):
        wait_until_finished(card)
        expect(card.locator(".result-open img")).to_have_count(images)
    page.goto("/images/?model=gpt-image-2")
    page.locator(".image-grid .tile a").first.click()
    expect(page.locator(".metadata")).to_contain_text("1280x720")
    page.goto("/images/?model=gpt-image-2.6-flare")
    page.locator(".image-grid .tile a").first.click()
    expect(page.locator(".metadata")).to_contain_text("Frames")
    page.goto("/images/?model=doubao-seedream-5-0-260128")
    page.locator(".image-grid .tile a").first.click()
    expect(page.locator(".metadata")).to_contain_text("1728x2304")
    expect(page.locator(".metadata")).to_contain_text("Guidance scale")


def test_a_bad_combination_is_explained_and_the_prompt_is_kept(page: Page) -> None:
    sign_up(page)
    choose_model(page, "gpt-image-2")
    fields = page.locator("#model-fields")
    choose_size(page, "custom")
    fields.get_by_label("Width").fill("1000")
    fields.get_by_label("Height").fill("1000")
    page.get_by_label("Prompt", exact=True).fill("An odd-sized square")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.get_by_text("Both edges must be multiples of 16.")).to_be_visible()
    expect(page.get_by_label("Prompt", exact=True)).to_have_value("An odd-sized square")
    expect(page.locator(".generation-card")).to_have_count(0)


def test_a_job_shows_its_progress_and_partial_previews(page: Page) -> None:
    sign_up(page)
    choose_model(page, "gpt-image-2.5-flare")
    page.get_by_label("Stream partial previews").check()
    page.get_by_label("Partial previews", exact=True).fill("3")
    card = submit_generation(page, "A hot-air balloon over terraced fields")

    # The card lives in a polite live region, so screen readers hear its progress.
    expect(page.locator("[aria-live=polite]").filter(has=card)).to_have_count(1)
    expect(card.locator(".badge").first).to_have_text(re.compile("Queued|Running"))
    preview = card.locator("img.preview")
    expect(preview).to_be_visible(timeout=JOB_TIMEOUT_MS)
    assert preview.evaluate("image => image.complete && image.naturalWidth > 0")
    wait_until_finished(card)
    expect(card.locator(".badge").first).to_have_text("Done")
    expect(preview).to_have_count(0)
    expect(card.locator(".result-open img")).to_have_attribute(
        "alt", "A hot-air balloon over terraced fields"
    )


def test_a_failed_job_says_why(page: Page) -> None:
    sign_up(page)
    choose_model(page, "qwen-image")
    card = submit_generation(page, "A harmless teapot [fault:content_policy_violation]")
    expect(card.get_by_role("alert")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(card.locator(".badge").first).to_have_text("Failed")


def test_find_favourite_collect_and_download_an_image(page: Page) -> None:
    sign_up(page)
    marker = uuid4().hex[:6]
    generate(page, f"A quiet harbour at dawn, fishing boats {marker}")
    generate(page, "A desert caravan under the stars")

    page.goto("/collections/")
    page.get_by_label("Name").fill("Harbours")
    page.get_by_role("button", name="Create collection").click()
    expect(page.get_by_role("heading", name="Harbours")).to_be_visible()

    tiles = search_gallery(page, "harbour at da")
    expect(tiles).to_have_count(1)
    tiles.first.get_by_role("link").click()
    expect(page.locator(".prompt-full").first).to_contain_text(marker)

    page.get_by_role("button", name="Add to favourites").click()
    expect(page.locator(".image-meta button.favourite")).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Add to").select_option(label="Harbours")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".membership .chips")).to_contain_text("Harbours")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download original").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".png")
    assert "harbour" in download.suggested_filename
    assert download.path().read_bytes()[:8] == PNG_SIGNATURE

    page.goto("/images/?favourites=1")
    expect(page.locator(".image-grid .tile")).to_have_count(1)
    page.goto("/collections/")
    page.get_by_role("link", name="Harbours").click()
    expect(page.locator(".image-grid .tile")).to_have_count(1)


def test_prompts_in_arabic_and_japanese_are_found_by_a_fragment(page: Page) -> None:
    sign_up(page)
    generate(page, "قطة نائمة على حافة النافذة")
    generate(page, "海辺の猫、水彩画")
    generate(page, "A red bicycle against a blue wall")
    expect(search_gallery(page, "نائمة")).to_have_count(1)
    expect(search_gallery(page, "猫")).to_have_count(1)
    tile = search_gallery(page, "海辺").first
    expect(tile.get_by_role("img")).to_have_attribute("alt", "海辺の猫、水彩画")


def test_share_open_signed_out_then_revoke(page: Page, browser: Browser, base_url: str) -> None:
    sign_up(page)
    generate(page, "A paper lantern festival on a river")
    page.goto("/images/")
    page.locator(".image-grid .tile a").first.click()
    page.get_by_role("link", name="Share", exact=True).click()
    page.get_by_role("button", name="Create link").click()
    shared_url = page.get_by_label("Link address").input_value()
    assert shared_url.startswith(f"{base_url}/s/")

    visitor = browser.new_context()  # no cookies: the link's recipient
    try:
        shared = visitor.new_page()
        response = shared.goto(shared_url)
        assert response is not None and response.status == 200
        expect(shared.locator("meta[property='og:title']")).to_have_attribute(
            "content", re.compile("paper lantern festival")
        )
        expect(shared.locator("meta[name='twitter:card']")).to_have_attribute(
            "content", "summary_large_image"
        )
        og_image = shared.locator("meta[property='og:image']").get_attribute("content")
        assert og_image and og_image.startswith(base_url)
        picture = visitor.request.get(og_image)
        assert picture.status == 200 and picture.body()[:8] == PNG_SIGNATURE
        expect(shared.get_by_role("img")).to_have_attribute("alt", re.compile("paper lantern"))

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke").click()
        expect(page.locator("#share-status")).to_have_text("Link revoked.")
        expect(page.locator(".share-status")).to_have_text("Revoked")

        gone = shared.reload()
        assert gone is not None and gone.status == 404
        assert visitor.request.get(og_image).status == 404
    finally:
        visitor.close()


def test_bulk_move_to_the_trash_from_the_gallery(page: Page) -> None:
    sign_up(page)
    page.goto("/generate/")
    choose_model(page, "gpt-image-2")
    page.locator("#model-fields").get_by_label("Number of images").fill("3")
    wait_until_finished(submit_generation(page, "Three studies of a pear"))

    page.goto("/images/")
    tiles = page.locator(".image-grid .tile")
    expect(tiles).to_have_count(3)
    tiles.nth(0).get_by_role("checkbox").check()
    tiles.nth(1).get_by_role("checkbox").check()
    expect(page.locator("[data-selected-count]")).to_contain_text("2")
    page.get_by_label("With selected").select_option("delete")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url("/images/")  # no confirmation: it can be undone
    expect(tiles).to_have_count(1)
    expect(page.locator(".messages")).to_contain_text("Moved 2 images to the Trash.")
