"""Cross-cutting security: CSRF on every POST, and the API key never leaves the server."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from imagegen.models import Generation

SECRET = "sk-comet-test-0123456789abcdef"


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("generate", {"model": "qwen-image", "prompt": "x", "size": "1328x1328"}),
        ("logout", {}),
        ("trash_undo", {}),
        ("trash_empty", {"confirm": "yes"}),
        ("set_language", {"language": "ar"}),
    ],
)
def test_every_signed_in_post_needs_a_csrf_token(alice, url_name: str, data: dict) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse(url_name), data).status_code == 403


@pytest.mark.parametrize("url_name", ["login", "signup"])
def test_the_sign_in_and_sign_up_posts_need_a_csrf_token(db, url_name: str) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse(url_name), {"username": "x", "password": "y"})
    assert response.status_code == 403


def test_the_key_never_appears_in_a_page_or_a_log(
    alice, alice_client, settings, caplog, monkeypatch
) -> None:
    """With a key set, the real code path runs (here against a mock upstream that fails)."""
    import httpx

    from imagegen import service

    settings.COMETAPI_KEY = SECRET
    seen_headers: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen_headers.append(request.headers["Authorization"])
        return httpx.Response(
            401,
            json={
                "error": {
                    "message": f"Incorrect API key {SECRET[:8]}…",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        )

    client = httpx.Client(
        base_url=settings.COMETAPI_BASE_URL,
        headers={"Authorization": f"Bearer {SECRET}"},
        transport=httpx.MockTransport(upstream),
    )
    monkeypatch.setattr(service, "get_client", lambda: client)
    caplog.set_level(logging.DEBUG)
    response = alice_client.post(
        reverse("generate"),
        {"model": "qwen-image", "prompt": "x", "size": "1328x1328"},
        follow=True,
    )
    assert seen_headers == [f"Bearer {SECRET}"]
    assert Generation.objects.get().error_code == "auth_failed"
    pages = [response.content.decode()]
    pages += [
        alice_client.get(reverse(name)).content.decode() for name in ("generate", "image_list")
    ]
    for text in [*pages, caplog.text]:
        assert SECRET not in text
        assert SECRET[8:] not in text
