"""Take the README's screenshots from a running studio, in headless Chromium.

    make run                                  # in one terminal (offline provider, demo account)
    .venv/bin/python docs/screenshots.py      # in another; writes docs/screenshots/*.png

It signs in as the demo account, makes a few images through the offline provider (an edit of one,
and one prompt on three models), and shoots the generate page with its feed, the comparison, the
gallery, a smart collection, the Trash, the usage page, an image page, the editor and a shared page:
light and dark, desktop and phone widths, in English and Arabic (--languages adds Japanese).
"""

import argparse
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
DEVICES = {"desktop": (1280, 860), "phone": (390, 844)}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PROMPTS = [
    ("gpt-image-2", "A lighthouse on a cliff at dusk, warm light, oil painting"),
    ("doubao-seedream-5-0-260128", "ملصق لقطة على الشاطئ عند الغروب"),
    ("gpt-image-2.6-flare", "A paper windmill turning in the wind"),
    ("qwen-image", "海辺の猫、水彩画"),
]


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "demo-studio")
    page.click("button[type=submit]")
    page.wait_for_url("**/generate/")


def make_images(page: Page) -> None:
    """Submit a few jobs, shoot the page while they run, and wait until all are done."""
    for model, prompt in PROMPTS:
        page.select_option("#id_model", model)
        label = page.locator("#id_model option:checked").inner_text()
        page.wait_for_selector(f"#model-fields > legend:has-text('{label}')")
        page.wait_for_selector("#generate-submit:enabled")
        page.fill("#id_prompt", prompt)
        cards = page.locator(".generation-card").count()
        page.click("#generate-submit")
        page.locator(".generation-card").nth(cards).wait_for()
    # A new job is scrolled into view (smoothly): shoot the top of the page once it has settled.
    page.wait_for_timeout(1000)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=OUT / "jobs-running-desktop-light-en.png")
    unfinished = page.locator(".status-queued, .status-running")
    unfinished.first.wait_for(state="detached", timeout=60_000)


def make_a_comparison(page: Page, base_url: str) -> str:
    """One prompt on three models from the form; returns the comparison's address."""
    page.goto(f"{base_url}/generate/?model=gpt-image-2")
    page.fill("#id_prompt", "A red fox in fresh snow, morning light")
    page.click(".compare-models summary")
    for model in ("doubao-seedream-5-0-260128", "qwen-image"):
        page.check(f'[name=compare_with][value="{model}"]')
    page.locator("#comparison-plan .plan > li").nth(2).wait_for()
    page.screenshot(path=OUT / "compare-plan-desktop-light-en.png")
    page.click("#generate-submit")
    page.wait_for_url("**/comparisons/*/")
    page.locator(".compare-entry img:not(.preview)").nth(2).wait_for(timeout=60_000)
    return page.url.removeprefix(base_url)


def paint_a_stroke(page: Page) -> None:
    page.wait_for_selector(".mask-editor.is-ready")
    box = page.locator("[data-mask-canvas]").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.55, steps=12)
    page.mouse.up()


def make_an_edit(page: Page, base_url: str) -> None:
    """Edit the newest image with a painted mask, so the newest image has a family tree."""
    page.goto(f"{base_url}/images/")
    page.click(".tile a >> nth=0")
    page.click(".image-meta a.button:has-text('Edit')")
    paint_a_stroke(page)
    page.fill("#id_prompt", "The same scene with a red kite in the sky")
    page.click("#edit-submit")
    page.wait_for_selector(".generation-card.status-succeeded", timeout=60_000)


def share_first_image(page: Page, base_url: str) -> str:
    page.goto(f"{base_url}/images/")
    page.click(".tile a >> nth=0")
    page.click(".image-meta a.button:has-text('Share')")
    page.click("button:has-text('Create link')")
    return page.input_value("input[readonly]")


def trash_an_image(page: Page, base_url: str) -> None:
    """The windmill goes to the Trash, unless an earlier run put something there."""
    page.goto(f"{base_url}/trash/")
    if page.locator(".trashed").count():
        return
    page.goto(f"{base_url}/images/?q=windmill")
    page.click(".tile a >> nth=0")
    page.click(".image-detail form button.danger")  # Move to the Trash
    page.wait_for_url("**/images/**")


def make_a_smart_collection(page: Page, base_url: str) -> str:
    """A search kept under a name (kept from an earlier run too); returns its page's address."""
    page.goto(f"{base_url}/collections/")
    made = page.locator(".collection-list a", has_text="Lighthouses")
    if made.count():
        return made.first.get_attribute("href")
    page.goto(f"{base_url}/images/?q=lighthouse")
    page.click(".save-search summary")
    page.fill("#smart-name", "Lighthouses")
    page.press("#smart-name", "Enter")
    page.wait_for_url("**/collections/**")
    return page.url.removeprefix(base_url)


def shoot(
    browser,
    base_url: str,
    shared_url: str,
    comparison: str,
    smart: str,
    language: str,
    scheme: str,
    device: str,
):
    width, height = DEVICES[device]
    options = {"viewport": {"width": width, "height": height}, "color_scheme": scheme}
    options["locale"] = language  # the studio follows the browser's Accept-Language
    suffix = f"{device}-{scheme}-{language}"
    context = browser.new_context(**options)
    page = context.new_page()
    sign_in(page, base_url)
    page.goto(f"{base_url}/generate/?model=gpt-image-2")
    page.screenshot(path=OUT / f"generate-{suffix}.png")
    if device == "desktop":  # the newer models' own fields: frames, watermark, seed, guidance
        for model, name in (
            ("gpt-image-2.6-flare", "gpt26"),
            ("doubao-seedream-5-0-260128", "seedream"),
        ):
            page.goto(f"{base_url}/generate/?model={model}&output_format=gif")
            page.screenshot(path=OUT / f"generate-{name}-{suffix}.png", full_page=True)
    page.goto(f"{base_url}{comparison}")
    page.wait_for_selector(".compare-entry img")
    page.screenshot(path=OUT / f"comparison-{suffix}.png", full_page=device == "phone")
    page.goto(f"{base_url}/images/")
    page.screenshot(path=OUT / f"gallery-{suffix}.png")
    page.click(".image-grid a >> nth=0")
    page.wait_for_selector(".image-detail img")
    page.screenshot(path=OUT / f"image-{suffix}.png")
    page.click(".image-meta a.button >> nth=1")  # Edit again
    paint_a_stroke(page)
    page.screenshot(path=OUT / f"editor-{suffix}.png", full_page=device == "phone")
    page.goto(f"{base_url}{smart}")
    page.screenshot(path=OUT / f"smart-collection-{suffix}.png")
    page.goto(f"{base_url}/trash/")
    page.screenshot(path=OUT / f"trash-{suffix}.png", full_page=device == "phone")
    page.goto(f"{base_url}/usage/")
    page.wait_for_selector("#usage-spend")
    page.screenshot(path=OUT / f"usage-{suffix}.png")
    context.close()
    visitor = browser.new_context(**options)  # signed out, as the link's recipient
    visitor.new_page().goto(shared_url)
    visitor.pages[0].screenshot(path=OUT / f"shared-{suffix}.png")
    visitor.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument("--languages", default="en,ar", help="comma-separated, e.g. en,ar,ja")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en")
        page = context.new_page()
        sign_in(page, args.base_url)
        if not args.skip_generate:
            make_images(page)
            make_an_edit(page, args.base_url)
        comparison = make_a_comparison(page, args.base_url)
        shared_url = share_first_image(page, args.base_url)
        smart = make_a_smart_collection(page, args.base_url)
        trash_an_image(page, args.base_url)
        context.close()
        for language in args.languages.split(","):
            for scheme in ("light", "dark"):
                for device in DEVICES:
                    shoot(
                        browser,
                        args.base_url,
                        shared_url,
                        comparison,
                        smart,
                        language,
                        scheme,
                        device,
                    )
        browser.close()
    print(f"Screenshots written to {OUT}")


if __name__ == "__main__":
    main()
