"""The public pages a share link opens: signed out, only what was shared, gone once revoked."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery.embedding import read_metadata
from gallery.models import Collection, Image, ShareLink
from tests.conftest import gif_bytes, png_bytes, svg_bytes

PROMPT = "a lantern in fog over the harbour"


class MetaTags(HTMLParser):
    """The <meta> tags of a page, by property or name, and every <img>."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.images: list[dict[str, str]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "meta" and ("property" in values or "name" in values):
            self.meta[values.get("property") or values["name"]] = values.get("content", "")
        elif tag == "img":
            self.images.append(values)


@pytest.fixture
def image(alice: User, make_image) -> Image:
    return make_image(alice, prompt=PROMPT)


def share(
    image: Image | None = None, collection: Collection | None = None, **fields: object
) -> ShareLink:
    owner = image.owner if image else collection.owner
    return ShareLink.objects.create(owner=owner, image=image, collection=collection, **fields)


def body(response: HttpResponseBase) -> bytes:
    """The whole body, streamed or not, closing the file a streamed one was reading."""
    content = response.getvalue()
    response.close()
    return content


def status(client: Client, url: str) -> int:
    response = client.get(url)
    response.close()
    return response.status_code


def stored(image: Image) -> bytes:
    with image.file.open("rb") as file:
        return file.read()


def page_urls(link: ShareLink, image: Image) -> list[str]:
    return [
        reverse("shared_page", args=[link.token]),
        reverse("shared_image", args=[link.token, image.uuid]),
        reverse("shared_original", args=[link.token, image.uuid]),
        reverse("shared_thumbnail", args=[link.token, image.uuid]),
    ]


def test_a_shared_image_opens_signed_out_with_its_details(client: Client, image: Image) -> None:
    link = share(image)

    response = client.get(reverse("shared_page", args=[link.token]))

    page = response.content.decode()
    assert response.status_code == 200
    assert PROMPT in page
    assert image.model_name in page
    assert image.size in page
    tags = MetaTags(page)
    [shown] = tags.images
    assert shown["src"] == reverse("shared_original", args=[link.token, image.uuid])
    assert shown["alt"] == PROMPT
    assert (shown["width"], shown["height"]) == (str(image.width), str(image.height))
    assert tags.meta["robots"] == "noindex"


def test_its_files_open_signed_out(client: Client, image: Image) -> None:
    link = share(image)

    original = client.get(reverse("shared_original", args=[link.token, image.uuid]))
    thumbnail = client.get(reverse("shared_thumbnail", args=[link.token, image.uuid]))

    assert original.status_code == thumbnail.status_code == 200
    assert body(original) == stored(image)
    assert body(thumbnail)[8:12] == b"WEBP"
    assert thumbnail["Content-Type"] == "image/webp"
    assert original["X-Robots-Tag"] == "noindex"


def test_the_page_tells_nothing_else_about_the_owner_or_the_generation(
    client: Client, alice: User, image: Image, make_image
) -> None:
    other = make_image(alice, prompt="a private picnic")
    link = share(image)

    page = client.get(reverse("shared_page", args=[link.token])).content.decode()

    for secret in (
        "alice",
        str(image.generation_id),
        image.sha256,
        str(other.uuid),
        "a private picnic",
        reverse("image_detail", args=[image.uuid]),
        "csrfmiddlewaretoken",
    ):
        assert secret not in page, secret


def test_the_preview_tags_carry_absolute_urls_and_the_image_size(
    client: Client, image: Image
) -> None:
    link = share(image)
    page_url = f"http://testserver/s/{link.token}/"
    image_url = f"http://testserver/s/{link.token}/{image.uuid}/original"

    meta = MetaTags(client.get(page_url).content.decode()).meta

    assert meta["og:type"] == "website"
    assert meta["og:title"] == PROMPT
    assert meta["og:description"] == f"An image made with {image.model_name}, {image.size} pixels."
    assert meta["og:url"] == page_url
    assert meta["og:image"] == image_url
    assert meta["og:image:width"] == str(image.width)
    assert meta["og:image:height"] == str(image.height)
    assert meta["og:image:type"] == "image/png"
    assert meta["og:image:alt"] == PROMPT
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["twitter:title"] == PROMPT
    assert meta["twitter:description"] == meta["og:description"]
    assert meta["twitter:image"] == image_url


def test_a_shared_animation_is_shown_whole_and_previewed_as_a_gif(
    client: Client, alice: User, make_image
) -> None:
    animation = make_image(alice, prompt=PROMPT, data=gif_bytes(size=(1024, 768)))
    link = share(animation)
    original = reverse("shared_original", args=[link.token, animation.uuid])

    tags = MetaTags(client.get(reverse("shared_page", args=[link.token])).content.decode())

    [shown] = tags.images
    assert shown["src"] == original
    assert "srcset" not in shown  # a phone would get the still thumbnail instead
    assert tags.meta["og:image"] == f"http://testserver{original}"
    assert tags.meta["og:image:type"] == "image/gif"


def test_a_still_image_still_offers_phones_its_thumbnail(
    client: Client, alice: User, make_image
) -> None:
    still = make_image(alice, prompt=PROMPT, data=png_bytes(1024, 768))
    link = share(still)

    tags = MetaTags(client.get(reverse("shared_page", args=[link.token])).content.decode())

    [shown] = tags.images
    assert reverse("shared_thumbnail", args=[link.token, still.uuid]) in shown["srcset"]


def test_a_shared_drawing_is_shown_by_img_and_previewed_by_its_thumbnail(
    client: Client, alice: User, make_image
) -> None:
    drawing = make_image(alice, prompt=PROMPT, data=svg_bytes(width=2000, height=1000))
    link = share(drawing)
    thumbnail = reverse("shared_thumbnail", args=[link.token, drawing.uuid])

    tags = MetaTags(client.get(reverse("shared_page", args=[link.token])).content.decode())

    [shown] = tags.images
    assert shown["src"] == reverse("shared_original", args=[link.token, drawing.uuid])
    assert "srcset" not in shown
    # Chat apps draw no SVG: the preview is the WebP thumbnail, with its own size.
    assert tags.meta["og:image"] == tags.meta["twitter:image"] == f"http://testserver{thumbnail}"
    assert tags.meta["og:image:type"] == "image/webp"
    assert (tags.meta["og:image:width"], tags.meta["og:image:height"]) == ("512", "256")


def test_hiding_the_prompt_hides_it_from_the_page_tags_alt_text_and_files(
    client: Client, image: Image
) -> None:
    link = share(image, hide_prompt=True)

    page = client.get(reverse("shared_page", args=[link.token])).content.decode()
    original = client.get(reverse("shared_original", args=[link.token, image.uuid]))
    download = client.get(
        reverse("shared_original", args=[link.token, image.uuid]), {"download": "1"}
    )
    thumbnail = client.get(reverse("shared_thumbnail", args=[link.token, image.uuid]))

    assert "lantern" not in page
    assert image.model_name not in page
    tags = MetaTags(page)
    assert tags.meta["og:title"] == "A shared image"
    assert all("lantern" not in value for value in tags.meta.values())
    assert [img["alt"] for img in tags.images] == ["Shared image"]
    assert read_metadata(stored(image))["prompt"] == PROMPT  # kept for the owner
    assert read_metadata(original.content) == {}
    assert b"lantern" not in original.content
    assert b"lantern" not in body(thumbnail)
    for response in (original, download, thumbnail):
        assert "lantern" not in response["Content-Disposition"]
    assert download["Content-Disposition"].startswith("attachment;")


def test_a_shared_collection_shows_its_images_and_no_others(
    client: Client, alice: User, bob: User, make_image
) -> None:
    inside = [make_image(alice, prompt=f"harbour {i}") for i in range(2)]
    outside = make_image(alice, prompt="a private picnic")
    collection = Collection.objects.create(owner=alice, name="Harbour walks")
    collection.images.add(*inside)
    link = share(collection=collection)

    page = client.get(reverse("shared_page", args=[link.token])).content.decode()

    assert "Harbour walks" in page
    for image in inside:
        assert reverse("shared_image", args=[link.token, image.uuid]) in page
        assert reverse("shared_thumbnail", args=[link.token, image.uuid]) in page
    assert str(outside.uuid) not in page
    assert "a private picnic" not in page
    meta = MetaTags(page).meta
    assert meta["og:title"] == "Harbour walks"
    assert meta["og:image"] == f"http://testserver/s/{link.token}/{inside[-1].uuid}/original"
    assert meta["og:description"] == "2 images shared from Image studio."


def test_one_image_of_a_shared_collection_has_its_own_page(
    client: Client, alice: User, image: Image
) -> None:
    collection = Collection.objects.create(owner=alice, name="Harbour walks")
    collection.images.add(image)
    link = share(collection=collection)

    page = client.get(reverse("shared_image", args=[link.token, image.uuid])).content.decode()

    assert PROMPT in page
    assert reverse("shared_page", args=[link.token]) in page  # back to the collection
    assert MetaTags(page).meta["og:title"] == PROMPT


def test_a_collection_link_refuses_images_outside_the_collection(
    client: Client, alice: User, bob: User, image: Image, make_image
) -> None:
    collection = Collection.objects.create(owner=alice, name="Harbour walks")
    collection.images.add(image)
    link = share(collection=collection)
    for outsider in (make_image(alice, prompt="a private picnic"), make_image(bob)):
        for url in page_urls(link, outsider)[1:]:
            assert status(client, url) == 404, url


def test_an_image_link_refuses_any_other_image(
    client: Client, alice: User, image: Image, make_image
) -> None:
    link = share(image)
    for url in page_urls(link, make_image(alice, prompt="a private picnic"))[1:]:
        assert status(client, url) == 404, url


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_a_revoked_or_expired_link_answers_404_for_its_page_and_files(
    client: Client, image: Image, ending: str
) -> None:
    link = share(image)
    if ending == "revoked":
        link.revoke()
    else:
        ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))

    for url in page_urls(link, image):
        assert status(client, url) == 404, url


def test_a_link_that_has_not_expired_yet_still_works(client: Client, image: Image) -> None:
    link = share(image, expires_at=timezone.now() + timedelta(hours=1))

    for url in page_urls(link, image):
        assert status(client, url) == 200, url


def test_an_unknown_token_answers_404(client: Client, image: Image) -> None:
    share(image)
    token = "A" * 43

    for url in page_urls(ShareLink(token=token), image):
        assert status(client, url) == 404, url


def test_each_page_view_counts_once_and_file_fetches_do_not(
    client: Client, alice: User, image: Image
) -> None:
    link = share(image)
    page, image_page, original, thumbnail = page_urls(link, image)

    client.get(page)
    client.get(page)
    client.get(image_page)
    status(client, original)
    status(client, thumbnail)
    client.head(page)

    link.refresh_from_db()
    assert link.view_count == 3


def test_signed_in_visitors_see_the_same_public_page(bob_client: Client, image: Image) -> None:
    link = share(image)

    response = bob_client.get(reverse("shared_page", args=[link.token]))

    assert response.status_code == 200
    assert "bob" not in response.content.decode()


def test_pages_are_never_cached_and_carry_no_inline_script_or_style(
    client: Client, image: Image
) -> None:
    link = share(image)

    response = client.get(reverse("shared_page", args=[link.token]))

    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "<script" not in page
    assert "style=" not in page
    assert "<style" not in page


def test_shared_files_are_revalidated_by_every_cache_each_time(
    client: Client, image: Image
) -> None:
    lasting = share(image)
    ending = share(image, expires_at=timezone.now() + timedelta(seconds=90))

    cache = client.get(reverse("shared_original", args=[lasting.token, image.uuid]))
    short = client.get(reverse("shared_thumbnail", args=[ending.token, image.uuid]))

    for response in (cache, short):
        assert response["Cache-Control"] == "no-cache"  # never a max-age a revocation outlives
        assert response["ETag"]
        response.close()


def test_the_public_pages_refuse_post(client: Client, image: Image) -> None:
    link = share(image)

    for url in page_urls(link, image):
        assert client.post(url).status_code == 405, url
