"""How files leave the server: headers, caching, 304s, X-Accel-Redirect, object storage, and
the headers that keep an SVG inert."""

from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.http.response import HttpResponseBase
from django.test import Client, RequestFactory
from django.urls import reverse

from gallery.embedding import read_metadata
from gallery.media import MEDIA_CSP, file_response
from gallery.models import Image, ShareLink
from tests.conftest import gif_bytes, svg_bytes

PROMPT = "a lantern in fog"


class SignedUrlStorage(FileSystemStorage):
    """Files on disk posing as an object store: no local path, and signed, expiring URLs."""

    def path(self, name: str) -> str:
        raise NotImplementedError("object storage has no local paths")

    def _open(self, name: str, mode: str = "rb") -> File:
        return File(open(Path(self.location) / name, mode))

    def url(self, name: str | None, parameters: dict[str, str] | None = None) -> str:
        answer = urlencode(parameters or {})
        return f"https://bucket.example.com/{name}?{answer}&X-Amz-Expires=300&X-Amz-Signature=abc"


@pytest.fixture
def image(alice: User, make_image) -> Image:
    return make_image(alice, prompt=PROMPT)


def test_the_owner_gets_the_original_with_every_header(alice_client: Client, image: Image) -> None:
    response = alice_client.get(reverse("image_original", args=[image.uuid]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(image.bytes)
    assert response["ETag"] == f'"{image.sha256}"'
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline;")
    assert image.download_name() in response["Content-Disposition"]
    with image.file.open("rb") as file:
        assert response.getvalue() == file.read()
    response.close()


def test_a_download_is_an_attachment_with_a_readable_name(
    alice_client: Client, image: Image
) -> None:
    response = alice_client.get(reverse("image_original", args=[image.uuid]), {"download": "1"})
    response.close()

    assert response["Content-Disposition"] == (
        f'attachment; filename="a-lantern-in-fog-{str(image.uuid)[:8]}.png"'
    )


def test_the_thumbnail_is_webp_with_its_own_etag(alice_client: Client, image: Image) -> None:
    response = alice_client.get(reverse("image_thumbnail", args=[image.uuid]))

    assert response["Content-Type"] == "image/webp"
    assert response["ETag"] == f'"{image.uuid}-thumbnail"'
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert image.download_name("thumbnail") in response["Content-Disposition"]
    response.close()


@pytest.mark.parametrize("name", ["image_original", "image_thumbnail"])
def test_a_matching_etag_answers_304_without_the_bytes(
    alice_client: Client, image: Image, name: str
) -> None:
    url = reverse(name, args=[image.uuid])
    first = alice_client.get(url)
    first.close()
    etag = first["ETag"]

    response = alice_client.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"


def test_a_stale_etag_gets_the_file(alice_client: Client, image: Image) -> None:
    url = reverse("image_original", args=[image.uuid])

    response = alice_client.get(url, headers={"If-None-Match": '"something-else"'})
    response.close()

    assert response.status_code == 200


def test_with_an_accel_prefix_nginx_sends_the_bytes(
    alice_client: Client, image: Image, settings
) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"

    response = alice_client.get(reverse("image_original", args=[image.uuid]), {"download": "1"})

    assert response.status_code == 200
    assert response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{image.file.name}"
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["ETag"] == f'"{image.sha256}"'


def test_with_an_accel_prefix_a_matching_etag_still_answers_304(
    alice_client: Client, image: Image, settings
) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    url = reverse("image_thumbnail", args=[image.uuid])

    response = alice_client.get(url, headers={"If-None-Match": f'"{image.uuid}-thumbnail"'})

    assert response.status_code == 304
    assert "X-Accel-Redirect" not in response


def test_a_shared_file_through_nginx_is_revalidated_by_every_cache(
    client: Client, alice: User, image: Image, settings
) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    link = ShareLink.objects.create(owner=alice, image=image)

    response = client.get(reverse("shared_thumbnail", args=[link.token, image.uuid]))

    assert response["X-Accel-Redirect"] == f"/protected-media/{image.thumbnail.name}"
    assert response["Cache-Control"] == "no-cache"
    assert response["ETag"] == f'"{image.uuid}-thumbnail"'


def test_a_file_without_its_prompt_is_made_in_memory_never_by_nginx(
    client: Client, alice: User, image: Image, settings
) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    link = ShareLink.objects.create(owner=alice, image=image, hide_prompt=True)

    response = client.get(reverse("shared_original", args=[link.token, image.uuid]))

    assert "X-Accel-Redirect" not in response
    assert response["Content-Length"] == str(len(response.content))
    assert read_metadata(response.content) == {}
    assert response["ETag"] == f'"{image.sha256}-stripped"'
    assert response["Content-Disposition"] == f'inline; filename="image-{str(image.uuid)[:8]}.png"'


def test_object_storage_redirects_to_a_signed_url_that_is_never_cached(
    image: Image, settings
) -> None:
    image.file.storage = SignedUrlStorage(location=settings.MEDIA_ROOT)
    request = RequestFactory().get("/")

    response = file_response(request, image, "original", download=True)

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == f"/{image.file.name}"
    assert parse_qs(location.query) == {
        "ResponseContentType": ["image/png"],
        "ResponseContentDisposition": [f'attachment; filename="{image.download_name()}"'],
        # The owner's browser may keep the bytes under this URL (the same for half its life).
        "ResponseCacheControl": ["private, max-age=31536000, immutable"],
        "X-Amz-Expires": ["300"],
        "X-Amz-Signature": ["abc"],
    }
    assert response["Cache-Control"] == "private, no-store"
    shared = file_response(request, image, "original", public=True)
    assert parse_qs(urlsplit(shared["Location"]).query)["ResponseCacheControl"] == ["private"]


def test_object_storage_never_hands_out_a_file_that_still_has_its_prompt(
    image: Image, settings
) -> None:
    image.file.storage = SignedUrlStorage(location=settings.MEDIA_ROOT)
    request = RequestFactory().get("/")

    response = file_response(request, image, "original", public=True, strip_metadata=True)

    assert response.status_code == 200
    assert read_metadata(response.content) == {}
    assert PROMPT.encode() not in response.content


def test_public_files_are_never_immutable_and_owner_files_never_public(image: Image) -> None:
    request = RequestFactory().get("/")

    owner = file_response(request, image, "thumbnail")
    public = file_response(request, image, "thumbnail", public=True)

    owner.close()
    public.close()
    assert owner["Cache-Control"].startswith("private")
    assert public["Cache-Control"] == "no-cache"


def test_a_file_ingest_kept_without_metadata_is_served_as_stored(
    image: Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest keeps a file whose container it cannot walk as it came; stripping cannot walk it
    either, and there is nothing of ours in it to take out."""

    def cannot_walk(data: bytes, fmt: str) -> bytes:
        raise ValueError("bad JPEG marker")

    monkeypatch.setattr("gallery.embedding.strip_metadata", cannot_walk)
    request = RequestFactory().get("/")

    response = file_response(request, image, "original", public=True, strip_metadata=True)

    with image.file.open("rb") as file:
        assert response.content == file.read()


# GIF and SVG originals


@pytest.fixture
def drawing(alice: User, make_image) -> Image:
    return make_image(alice, prompt=PROMPT, data=svg_bytes())


def assert_inert_svg(response: HttpResponseBase, drawing: Image) -> None:
    """What every answer carrying an SVG original must say, whichever path it took."""
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == MEDIA_CSP
    assert "sandbox" in response["Content-Security-Policy"].split(";")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "X-Accel-Redirect" not in response
    with drawing.file.open("rb") as file:
        assert response.getvalue() == file.read()
    response.close()


def test_an_svg_original_is_sent_as_an_inert_attachment(
    alice_client: Client, drawing: Image
) -> None:
    response = alice_client.get(reverse("image_original", args=[drawing.uuid]))

    assert_inert_svg(response, drawing)
    assert response["Content-Disposition"].endswith('.svg"')


def test_an_svg_original_never_goes_through_nginx(
    alice_client: Client, drawing: Image, settings
) -> None:
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"

    response = alice_client.get(reverse("image_original", args=[drawing.uuid]))

    assert_inert_svg(response, drawing)


def test_an_svg_original_is_never_a_redirect_to_object_storage(drawing: Image, settings) -> None:
    """An object store cannot send a CSP header: the drawing comes through us instead."""
    drawing.file.storage = SignedUrlStorage(location=settings.MEDIA_ROOT)

    response = file_response(RequestFactory().get("/"), drawing, "original")

    assert_inert_svg(response, drawing)


def test_a_shared_svg_original_is_sent_inert_too(
    client: Client, alice: User, drawing: Image
) -> None:
    for hide_prompt in (False, True):
        link = ShareLink.objects.create(owner=alice, image=drawing, hide_prompt=hide_prompt)
        url = reverse("shared_original", args=[link.token, drawing.uuid])

        assert_inert_svg(client.get(url), drawing)
        assert_inert_svg(client.get(url, {"download": "1"}), drawing)


def test_a_304_for_an_svg_keeps_the_sandbox(alice_client: Client, drawing: Image) -> None:
    url = reverse("image_original", args=[drawing.uuid])

    response = alice_client.get(url, headers={"If-None-Match": f'"{drawing.sha256}"'})

    assert response.status_code == 304
    assert response["Content-Security-Policy"] == MEDIA_CSP
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_svg_thumbnail_is_a_webp_picture(alice_client: Client, drawing: Image) -> None:
    response = alice_client.get(reverse("image_thumbnail", args=[drawing.uuid]))

    assert response["Content-Type"] == "image/webp"
    assert response.getvalue()[8:12] == b"WEBP"
    response.close()


def test_a_page_shows_an_svg_only_through_img_never_inline(
    alice_client: Client, client: Client, alice: User, drawing: Image
) -> None:
    link = ShareLink.objects.create(owner=alice, image=drawing)
    pages = [
        alice_client.get(drawing.get_absolute_url()),
        alice_client.get(reverse("image_list")),
        client.get(reverse("shared_page", args=[link.token])),
    ]

    for page in pages:
        html = page.content.decode()
        assert "studio-test-rect" not in html  # the drawing's own markup
        assert "<img" in html


def test_every_file_is_sent_with_the_media_policy(alice_client: Client, image: Image) -> None:
    for name in ("image_original", "image_thumbnail"):
        response = alice_client.get(reverse(name, args=[image.uuid]))
        response.close()

        assert response["Content-Security-Policy"] == MEDIA_CSP


def test_an_animated_gif_original_is_sent_as_a_gif(
    alice_client: Client, alice: User, make_image
) -> None:
    gif = make_image(alice, prompt=PROMPT, data=gif_bytes())

    response = alice_client.get(reverse("image_original", args=[gif.uuid]))

    assert response["Content-Type"] == "image/gif"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Disposition"].endswith('.gif"')
    with gif.file.open("rb") as file:
        assert response.getvalue() == file.read()
    response.close()


def test_a_gif_shared_without_its_prompt_loses_only_our_comment(
    client: Client, alice: User, make_image
) -> None:
    data = gif_bytes()
    gif = make_image(alice, prompt=PROMPT, data=data)
    link = ShareLink.objects.create(owner=alice, image=gif, hide_prompt=True)

    response = client.get(reverse("shared_original", args=[link.token, gif.uuid]))

    assert response.content == data
    assert PROMPT.encode() not in response.content
    assert read_metadata(response.content) == {}
