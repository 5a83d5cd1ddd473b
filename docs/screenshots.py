"""Take the README's screenshots from a running studio, in headless Chromium.

    make run                                  # in one terminal (offline provider, demo account)
    .venv/bin/pip install -e ".[browser]"     # once: Playwright's Python package
    .venv/bin/python docs/screenshots.py      # in another; writes docs/screenshots/*.png

It signs in as the demo account, makes a few images through the offline provider, and shoots
the generate page, the gallery and an image page, light and dark, at desktop and phone widths.
"""

import argparse
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PROMPTS = [
    ("gpt-image-2", "A lighthouse on a cliff at dusk, warm light, oil painting"),
    ("dall-e-3", "ملصق لقطة على الشاطئ عند الغروب"),
    ("qwen-image", "海辺の猫、水彩画"),
]


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "demo-studio")
    page.click("button[type=submit]")
    page.wait_for_url("**/generate/")


def make_images(page: Page) -> None:
    for model, prompt in PROMPTS:
        page.select_option("#id_model", model)
        page.wait_for_selector(f"#model-fields:has-text('{model.split('-')[0][:3]}')", timeout=5000)
        page.fill("#id_prompt", prompt)
        with page.expect_response(lambda r: r.request.method == "POST"):
            page.click("#generate-submit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--skip-generate", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        for scheme in ("light", "dark"):
            for width, height, device in ((1280, 860, "desktop"), (390, 844, "phone")):
                context = browser.new_context(
                    viewport={"width": width, "height": height}, color_scheme=scheme
                )
                page = context.new_page()
                sign_in(page, args.base_url)
                if not args.skip_generate and scheme == "light" and device == "desktop":
                    make_images(page)
                suffix = f"{device}-{scheme}"
                page.goto(f"{args.base_url}/generate/?model=gpt-image-2")
                page.screenshot(path=OUT / f"generate-{suffix}.png")
                page.goto(f"{args.base_url}/images/")
                page.screenshot(path=OUT / f"gallery-{suffix}.png")
                page.click(".image-grid a >> nth=0")
                page.wait_for_selector(".image-detail img")
                page.screenshot(path=OUT / f"image-{suffix}.png")
                context.close()
        browser.close()
    print(f"Screenshots written to {OUT}")


if __name__ == "__main__":
    main()
