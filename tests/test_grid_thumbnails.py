"""The grid rendition (issue 12): made at ingest beside the thumbnail, served to its owner and
through share links like the thumbnail, chosen by `srcset` in the gallery's justified grid;
the tile size control; a job's images tied together; hover and focus information."""

import io
import os
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from gallery import grid
from gallery.models import Image, ShareLink
from gallery.uploads import ingest_upload
from gallery.verify import GRID_SIZE, verify_image
from imagegen.models import Generation
from tests.conftest import gif_bytes, png_bytes, svg_bytes


def decoded(data: bytes) -> PILImage.Image:
    image = PILImage.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("data", "thumbnail", "grid_size"),
    [
        (png_bytes(1024, 1024), (512, 512), (320, 320)),
        (png_bytes(1536, 1024), (512, 341), (320, 213)),
        (png_bytes(1024, 1792), (293, 512), (183, 320)),
        (png_bytes(64, 48), (64, 48), (64, 48)),  # small already: the thumbnail's size
        (gif_bytes(), None, None),
        (svg_bytes(), (300, 200), (300, 200)),  # drawn at its own size, within both
    ],
)
def test_verifying_makes_a_grid_webp_no_larger_than_the_grid_size(
    data: bytes, thumbnail: tuple[int, int] | None, grid_size: tuple[int, int] | None
) -> None:
    verified = verify_image(data)

    made = decoded(verified.grid)
    assert made.format == "WEBP"
    assert made.size == (verified.grid_width, verified.grid_height)
    assert max(made.size) <= GRID_SIZE
    if thumbnail:
        assert (verified.thumbnail_width, verified.thumbnail_height) == thumbnail
        assert made.size == grid_size
    assert len(verified.grid) <= len(verified.thumbnail)


def test_a_transparent_image_keeps_its_transparency_in_the_grid() -> None:
    out = io.BytesIO()
    PILImage.new("RGBA", (800, 600), (255, 0, 0, 0)).save(out, "PNG")

    assert decoded(verify_image(out.getvalue()).grid).mode == "RGBA"


def test_ingest_stores_the_grid_rendition_with_its_size(alice: User, make_image) -> None:
    image = make_image(alice, data=png_bytes(1536, 1024))

    image.refresh_from_db()
    assert image.grid.name == f"grid/{image.created_at:%Y/%m}/{image.uuid}.webp"
    assert (image.grid_width, image.grid_height) == (320, 213)
    with image.grid.open("rb") as file:
        assert decoded(file.read()).size == (320, 213)


def test_an_upload_gets_a_grid_rendition_too(alice: User) -> None:
    image = ingest_upload(alice, png_bytes(1024, 768), "harbour.png")

    assert image.grid and (image.grid_width, image.grid_height) == (320, 240)


def test_deleting_an_image_deletes_its_grid_rendition(
    alice: User, make_image, django_capture_on_commit_callbacks
) -> None:
    image = make_image(alice)
    path = image.grid.path

    with django_capture_on_commit_callbacks(execute=True):
        Image.objects.filter(pk=image.pk).delete_with_files()

    assert not os.path.exists(path)


def test_the_owner_gets_the_grid_rendition_with_the_thumbnails_caching(
    alice_client: Client, alice: User, make_image
) -> None:
    image = make_image(alice, data=png_bytes(1024, 1024))

    response = alice_client.get(reverse("image_grid", args=[image.uuid]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["ETag"] == f'"{image.uuid}-grid"'
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert decoded(b"".join(response.streaming_content)).size == (320, 320)
    again = alice_client.get(
        reverse("image_grid", args=[image.uuid]), headers={"If-None-Match": response["ETag"]}
    )
    assert again.status_code == 304


def test_nobody_else_gets_my_grid_rendition(bob_client: Client, alice: User, make_image) -> None:
    image = make_image(alice)

    assert bob_client.get(reverse("image_grid", args=[image.uuid])).status_code == 404
    assert Client().get(reverse("image_grid", args=[image.uuid])).status_code == 302


def test_an_image_not_yet_backfilled_answers_for_its_grid_with_its_thumbnail(
    alice_client: Client, alice: User, make_image
) -> None:
    image = make_image(alice)
    Image.objects.filter(pk=image.pk).update(grid=None, grid_width=None, grid_height=None)

    response = alice_client.get(reverse("image_grid", args=[image.uuid]))

    assert response.status_code == 200
    assert response["ETag"] == f'"{image.uuid}-thumbnail"'
    with image.thumbnail.open("rb") as file:
        assert b"".join(response.streaming_content) == file.read()


def test_a_share_link_serves_the_grid_rendition_until_it_is_revoked(
    alice: User, make_image
) -> None:
    image = make_image(alice)
    link = ShareLink.objects.create(owner=alice, image=image)
    url = reverse("shared_grid", args=[link.token, image.uuid])

    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Robots-Tag"] == "noindex"
    response.close()

    link.revoke()
    assert Client().get(url).status_code == 404


def test_a_share_link_serves_no_grid_of_an_image_it_does_not_share(alice: User, make_image) -> None:
    shared, other = make_image(alice), make_image(alice, prompt="another")
    link = ShareLink.objects.create(owner=alice, image=shared)

    assert Client().get(reverse("shared_grid", args=[link.token, other.uuid])).status_code == 404


def tiles(html: str) -> list[str]:
    return re.findall(r'<li class="tile[^"]*"[^>]*>.*?</li>', html, re.S)


def test_the_gallery_offers_the_grid_rendition_and_the_thumbnail_by_srcset(
    alice_client: Client, alice: User, make_image
) -> None:
    image = make_image(alice, data=png_bytes(1536, 1024))

    html = alice_client.get(reverse("image_list")).content.decode()

    [tile] = tiles(html)
    grid_url = reverse("image_grid", args=[image.uuid])
    thumbnail_url = reverse("image_thumbnail", args=[image.uuid])
    assert f'src="{grid_url}"' in tile
    assert f'srcset="{grid_url} 320w, {thumbnail_url} 512w"' in tile
    # The row heights of a medium tile (phone, wider screen) times the image's 3:2.
    assert 'sizes="(max-width: 40em) 150px, 270px"' in tile
    assert 'width="512" height="341"' in tile
    assert " r150 " in tile  # its aspect ratio, for the justified rows (no inline style)
    assert 'fetchpriority="high"' in tile


def test_a_tile_without_a_grid_rendition_shows_its_thumbnail(
    alice_client: Client, alice: User, make_image
) -> None:
    image = make_image(alice)
    Image.objects.filter(pk=image.pk).update(grid=None, grid_width=None, grid_height=None)

    [tile] = tiles(alice_client.get(reverse("image_list")).content.decode())

    assert f'src="{reverse("image_thumbnail", args=[image.uuid])}"' in tile
    assert "srcset" not in tile


def test_a_tile_shows_prompt_and_model_for_hover_and_focus(
    alice_client: Client, alice: User, make_image
) -> None:
    make_image(alice, prompt="a <b>bold</b> heron " + "x" * 300, model_name="gpt-image-2")

    [tile] = tiles(alice_client.get(reverse("image_list")).content.decode())

    info = re.search(r'<span class="tile-info">(.*?)</span></span></a>', tile, re.S)
    assert info is not None
    assert "a &lt;b&gt;bold&lt;/b&gt; heron" in info.group(1)  # escaped
    assert "gpt-image-2" in info.group(1)
    assert "x" * 170 not in info.group(1)  # a long prompt is cut; the rest is on its page


def job_with(owner: User, count: int, prompt: str) -> list[Image]:
    from gallery.ingest import ingest_image

    job = Generation.objects.create(
        owner=owner, model_name="gpt-image-2", prompt=prompt, parameters={"n": count},
        status=Generation.Status.SUCCEEDED,
    )  # fmt: skip
    return [ingest_image(job, index, png_bytes(64 + index, 48)) for index in range(count)]


def test_the_images_of_one_job_are_tied_together(
    alice_client: Client, alice: User, make_image
) -> None:
    make_image(alice, prompt="alone")
    job_with(alice, 3, "three herons")
    job_with(alice, 2, "two kites")

    found = tiles(alice_client.get(reverse("image_list")).content.decode())

    classes = [re.match(r'<li class="([^"]*)"', tile).group(1).split() for tile in found]
    # Newest first: the kites (2), the herons (3), the lone image.
    assert [c for c in classes[0] if c.startswith("job")] == ["job", "job-a", "job-start"]
    assert [c for c in classes[1] if c.startswith("job")] == ["job", "job-a", "job-end"]
    assert [c for c in classes[2] if c.startswith("job")] == ["job", "job-b", "job-start"]
    assert [c for c in classes[3] if c.startswith("job")] == ["job", "job-b"]
    assert [c for c in classes[4] if c.startswith("job")] == ["job", "job-b", "job-end"]
    assert not [c for c in classes[5] if c.startswith("job")]
    assert "· 1 of 2" in found[0] and "· 3 of 3" in found[4]


def test_job_places_counts_only_adjacent_images_of_one_job() -> None:
    a = [Image(id=n, generation_id="a") for n in (1, 2)]
    b = [Image(id=n, generation_id="b") for n in (3,)]
    upload = [Image(id=n, generation_id=None) for n in (4, 5)]

    assert grid.job_places([*a, *b, *upload]) == {1: (1, 2, 0), 2: (2, 2, 0)}


def test_the_tile_size_is_remembered_in_a_cookie_and_read_back(
    alice_client: Client, alice: User, make_image
) -> None:
    make_image(alice, data=png_bytes(1024, 1024))
    page = alice_client.get(reverse("image_list")).content.decode()
    assert 'value="medium" aria-pressed="true"' in page

    response = alice_client.post(
        reverse("gallery_tile_size"), {"tiles": "large", "next": "/images/?q=heron"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/images/?q=heron"
    assert response.cookies[grid.SIZE_COOKIE].value == "large"
    page = alice_client.get(reverse("image_list")).content.decode()
    assert 'value="large" aria-pressed="true"' in page
    [tile] = tiles(page)
    assert "size-large" in tile and 'sizes="(max-width: 40em) 160px, 280px"' in tile


def test_the_tile_size_refuses_unknown_sizes_and_other_sites(alice_client: Client) -> None:
    response = alice_client.post(
        reverse("gallery_tile_size"), {"tiles": "huge", "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("image_list")
    assert grid.SIZE_COOKIE not in response.cookies
    assert alice_client.get(reverse("gallery_tile_size")).status_code == 405


def test_an_unknown_size_in_the_cookie_is_the_default(
    alice_client: Client, alice: User, make_image
) -> None:
    make_image(alice)
    alice_client.cookies[grid.SIZE_COOKIE] = "<script>"

    page = alice_client.get(reverse("image_list")).content.decode()

    assert "size-medium" in page and "<script>" not in page


def test_the_size_control_comes_once_on_a_first_page_only(
    alice_client: Client, alice: User, make_image
) -> None:
    for n in range(3):
        make_image(alice, prompt=f"heron {n}")

    first = alice_client.get(reverse("image_list")).content.decode()
    later = alice_client.get(reverse("image_list"), {"before": 10**9}).content.decode()

    assert first.count('class="grid-tools"') == 1
    assert 'class="grid-tools"' not in later
    assert 'loading="lazy"' in later and "fetchpriority" not in later


def test_the_gallery_page_costs_the_same_queries_for_one_tile_or_many(
    alice_client: Client, alice: User, make_image, django_assert_max_num_queries
) -> None:
    make_image(alice)
    with django_assert_max_num_queries(12) as one:
        alice_client.get(reverse("image_list"))
    for n in range(5):
        job_with(alice, 2, f"pair {n}")

    with django_assert_max_num_queries(len(one.captured_queries)):
        alice_client.get(reverse("image_list"))


def test_a_filtered_gallery_keeps_its_search_in_each_tiles_link(
    alice_client: Client, alice: User, make_image
) -> None:
    image = make_image(alice, prompt="a heron & a kite")

    [tile] = tiles(alice_client.get(reverse("image_list"), {"q": "heron"}).content.decode())

    assert f'href="{reverse("image_detail", args=[image.uuid])}?q=heron"' in tile


def test_a_shared_collection_offers_the_grid_rendition_by_srcset(alice: User, make_image) -> None:
    from gallery.models import Collection, CollectionImage

    image = make_image(alice, data=png_bytes(1024, 1024))
    collection = Collection.objects.create(owner=alice, name="Herons")
    CollectionImage.objects.create(collection=collection, image=image)
    link = ShareLink.objects.create(owner=alice, collection=collection)

    html = Client().get(reverse("shared_page", args=[link.token])).content.decode()

    grid_url = reverse("shared_grid", args=[link.token, image.uuid])
    thumbnail_url = reverse("shared_thumbnail", args=[link.token, image.uuid])
    assert f'srcset="{grid_url} 320w, {thumbnail_url} 512w"' in html
    assert Client().get(grid_url).status_code == 200
