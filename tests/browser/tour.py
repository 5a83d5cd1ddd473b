"""A signed-in user with something on every page, made once, and the pages to visit."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, expect

from tests.browser.studio_pages import generate, sign_up


@dataclass
class Tour:
    """Where each page of the studio is for one user who has used all of it."""

    storage_state: dict  # the signed-in session, for new browser contexts
    image: str
    collection: str
    share: str
    shared: str
    generation: str

    def pages(self) -> dict[str, str]:
        return {
            "generate": "/generate/",
            "gallery": "/images/",
            "image": self.image,
            "collections": "/collections/",
            "collection": self.collection,
            "share links": "/shares/",
            "share": self.share,
            "generation": self.generation,
            "comparisons": "/comparisons/",
            "settings": "/accounts/settings/",
            "change password": "/accounts/settings/password/",
            "trash": "/trash/",
            "prompt history": "/prompts/",
            "presets": "/presets/",
            "usage": "/usage/",
        }


PUBLIC_PAGES = {"sign in": "/accounts/login/", "sign up": "/accounts/signup/"}


def take_tour(browser: Browser, base_url: str) -> Tour:
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    sign_up(page)
    card = generate(page, "A lighthouse on a cliff at dusk, warm light, oil painting")
    generation = card.locator("a.model").get_attribute("href")
    generate(page, "海辺の猫、水彩画", model="qwen-image")
    generate(page, "ملصق لقطة على الشاطئ عند الغروب", model="doubao-seedream-4-5-251128")
    collection = make_collection(page, "Coast")
    page.goto("/images/")
    page.locator(".image-grid .tile a").first.click()
    image = page.url.removeprefix(base_url)
    page.get_by_label("Add to").select_option(label="Coast")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_role("link", name="Share", exact=True).click()
    page.get_by_role("button", name="Create link").click()
    shared = page.get_by_label("Link address").input_value()
    tour = Tour(
        storage_state=context.storage_state(),
        image=image,
        collection=collection,
        share=page.url.removeprefix(base_url),
        shared=shared.removeprefix(base_url),
        generation=generation or "",
    )
    context.close()
    return tour


def make_collection(page: Page, name: str) -> str:
    page.goto("/collections/")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create collection").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    return urlsplit(page.url).path
