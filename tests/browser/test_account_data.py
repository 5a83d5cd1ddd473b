"""A person's own data in a real browser, at desktop width: "Download everything" on the settings
page gives a zip of their images with their metadata; "Delete my account" asks for the password,
refuses a wrong one, then deletes everything, signs them out and says so."""

import io
import json
import zipfile

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.studio_pages import (
    PASSWORD,
    choose_model,
    sign_up,
    submit_generation,
    wait_until_finished,
)
from tests.browser.test_accessibility import axe_violations

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def test_download_everything_then_delete_the_account(
    browser: Browser, base_url: str, axe_source: str
) -> None:
    context = browser.new_context(base_url=base_url, accept_downloads=True, **DESKTOP)
    page = context.new_page()
    try:
        username = sign_up(page)
        choose_model(page, "qwen-image")
        prompts = ["A paper lantern on a pond", "A paper lantern in the snow"]
        for card in [submit_generation(page, prompt) for prompt in prompts]:
            wait_until_finished(card)

        page.goto("/accounts/settings/")
        assert axe_violations(page, axe_source) == []
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download everything").click()
        download = download_info.value
        assert download.suggested_filename.endswith(".zip")
        archive = zipfile.ZipFile(io.BytesIO(download.path().read_bytes()))
        index = json.loads(archive.read("index.json"))
        assert index["account"]["username"] == username
        assert len(index["images"]) == 2
        for row in index["images"]:
            assert archive.read(row["file"])[:8] == b"\x89PNG\r\n\x1a\n"
            assert json.loads(archive.read(row["metadata"]))["prompt"] in prompts

        page.get_by_role("link", name="Delete my account").click()
        expect(page).to_have_url("/accounts/settings/delete/")
        expect(page.get_by_role("heading", name="Delete your account?")).to_be_visible()
        assert axe_violations(page, axe_source) == []
        page.get_by_label("Your password").fill("not my password")
        page.get_by_role("button", name="Delete my account").click()
        expect(page.get_by_text("That is not your password. Nothing was deleted.")).to_be_visible()

        page.get_by_label("Your password").fill(PASSWORD)
        page.get_by_role("button", name="Delete my account").click()
        expect(page).to_have_url("/accounts/deleted/")
        expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()
        assert axe_violations(page, axe_source) == []

        page.goto("/images/")
        expect(page).to_have_url(f"{base_url}/accounts/login/?next=/images/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".form-errors")).to_be_visible()
    finally:
        context.close()
