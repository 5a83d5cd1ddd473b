"""Pages are gzipped for browsers that accept it; files are sent as they are."""

import gzip

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse


def test_it_gzips_a_page_for_a_browser_that_accepts_gzip(alice_client: Client) -> None:
    response = alice_client.get(reverse("image_list"), headers={"Accept-Encoding": "gzip, br"})

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    page = gzip.decompress(response.content).decode()
    assert "<html" in page
    assert int(response["Content-Length"]) == len(response.content)


def test_it_sends_a_page_plain_to_a_client_that_does_not_accept_gzip(
    alice_client: Client,
) -> None:
    response = alice_client.get(reverse("image_list"))

    assert not response.has_header("Content-Encoding")
    assert b"<html" in response.content


def test_it_leaves_an_image_uncompressed(alice: User, alice_client: Client, make_image) -> None:
    image = make_image(alice)

    response = alice_client.get(
        reverse("image_thumbnail", args=[image.uuid]), headers={"Accept-Encoding": "gzip"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert not response.has_header("Content-Encoding")
    assert response["ETag"] == f'"{image.uuid}-thumbnail"'  # strong: the bytes are the file's
    response.close()


def test_it_leaves_a_short_redirect_alone(client: Client) -> None:
    response = client.get(reverse("image_list"), headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 302
    assert not response.has_header("Content-Encoding")
