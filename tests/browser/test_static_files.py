"""The served studio's static files: compressed, cached for good, from our own origin."""

import re

import httpx
from playwright.sync_api import Page

from tests.browser.conftest import Studio


def test_static_files_are_compressed_and_cached_for_good(studio: Studio) -> None:
    page = httpx.get(f"{studio.url}/accounts/login/")
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert any(asset.endswith(".css") for asset in assets)
    assert any(asset.endswith(".js") for asset in assets)
    for asset in assets:
        assert re.search(r"\.[0-9a-f]{12}\.", asset), f"{asset} has no content hash in its name"
        response = httpx.get(f"{studio.url}{asset}", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert "immutable" in response.headers["cache-control"], asset
        if asset.endswith((".css", ".js", ".svg")):
            assert response.headers.get("content-encoding") == "gzip", asset


def test_pages_load_nothing_from_another_origin(page: Page, studio: Studio) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/accounts/login/")
    page.wait_for_load_state("networkidle")
    assert requested and all(url.startswith(studio.url) for url in requested), requested
