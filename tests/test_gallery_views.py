"""My images: the list, the detail page and the private files, each only for their owner."""

from pathlib import Path

from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from gallery.models import Image
from tests.conftest import gif_bytes, svg_bytes


def test_the_list_shows_only_my_images(alice, bob, alice_client: Client, make_image) -> None:
    mine = make_image(alice, prompt="my lighthouse")
    theirs = make_image(bob, prompt="their secret garden")
    page = alice_client.get(reverse("image_list")).content.decode()
    assert str(mine.uuid) in page
    assert str(theirs.uuid) not in page
    assert "their secret garden" not in page


def test_the_list_pages_newest_first(alice, alice_client: Client, make_image, monkeypatch) -> None:
    monkeypatch.setattr("gallery.paging.PAGE_SIZE", 2)
    images = [make_image(alice, prompt=f"image {i}") for i in range(3)]
    first = alice_client.get(reverse("image_list"))
    assert [i.pk for i in first.context["images"]] == [images[2].pk, images[1].pk]
    second = alice_client.get(reverse("image_list"), {"before": first.context["next_before"]})
    assert [i.pk for i in second.context["images"]] == [images[0].pk]
    assert second.context["next_before"] is None


def test_the_detail_page_shows_the_metadata(alice, alice_client: Client, make_image) -> None:
    image = make_image(alice, prompt="a lantern in fog")
    page = alice_client.get(reverse("image_detail", args=[image.uuid])).content.decode()
    assert "a lantern in fog" in page
    assert image.sha256 in page
    assert reverse("image_original", args=[image.uuid]) in page


def test_another_persons_image_and_files_are_not_found(
    bob, alice_client: Client, make_image
) -> None:
    image = make_image(bob)
    for name in ("image_detail", "image_original", "image_thumbnail"):
        assert alice_client.get(reverse(name, args=[image.uuid])).status_code == 404, name


def test_signed_out_people_get_no_files(client: Client, alice, make_image) -> None:
    image = make_image(alice)
    for name in ("image_list", "image_detail", "image_original", "image_thumbnail"):
        args = [] if name == "image_list" else [image.uuid]
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login"))


def test_the_owner_gets_the_original_with_a_readable_name(
    alice, alice_client: Client, make_image
) -> None:
    image = make_image(alice, prompt="a lantern in fog")
    response = alice_client.get(reverse("image_original", args=[image.uuid]), {"download": "1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "private" in response["Cache-Control"]
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"a-lantern-in-fog-{str(image.uuid)[:8]}.png" in disposition
    assert b"".join(response.streaming_content) == image.file.open("rb").read()


def test_the_thumbnail_is_webp(alice, alice_client: Client, make_image) -> None:
    image = make_image(alice)
    response = alice_client.get(reverse("image_thumbnail", args=[image.uuid]))
    assert response["Content-Type"] == "image/webp"


def test_an_operator_with_permission_sees_thumbnails_in_admin(alice, bob, make_image) -> None:
    image = make_image(bob)
    alice.is_staff = True
    alice.save()
    alice.user_permissions.add(Permission.objects.get(codename="view_image"))
    # Viewing the files is its own permission (tests/test_file_access_permission.py).
    alice.user_permissions.add(Permission.objects.get(codename="view_any_files"))
    operator = Client()
    operator.force_login(User.objects.get(pk=alice.pk))
    assert operator.get(reverse("image_thumbnail", args=[image.uuid])).status_code == 200
    admin_page = operator.get(reverse("admin:gallery_image_changelist")).content.decode()
    assert reverse("image_thumbnail", args=[image.uuid]) in admin_page


def test_the_file_views_refuse_post(alice, alice_client: Client, make_image) -> None:
    image = make_image(alice)
    assert alice_client.post(reverse("image_original", args=[image.uuid])).status_code == 405


def test_the_grid_search_and_filters_combine_and_stay_in_the_url(
    alice, alice_client: Client, make_image
) -> None:
    harbour = make_image(alice, prompt="a quiet harbour at night")
    make_image(alice, prompt="a busy harbour at noon", model_name="dall-e-2")
    make_image(alice, prompt="a mountain lake")
    response = alice_client.get(reverse("image_list"), {"q": "harbour", "model": "dall-e-3"})
    assert [i.uuid for i in response.context["images"]] == [harbour.uuid]
    page = response.content.decode()
    assert 'value="harbour"' in page
    assert f"{reverse('image_detail', args=[harbour.uuid])}?q=harbour&amp;model=dall-e-3" in page


def test_a_bad_filter_is_reported_and_ignored(alice, alice_client: Client, make_image) -> None:
    make_image(alice)
    response = alice_client.get(reverse("image_list"), {"size": "huge", "since": "yesterday"})
    assert response.status_code == 200
    assert len(response.context["images"]) == 1
    assert "WIDTHxHEIGHT" in response.content.decode()


def test_favourites_filter_and_size_filter(alice, alice_client: Client, make_image) -> None:
    liked = make_image(alice, prompt="liked")
    make_image(alice, prompt="not liked")
    liked.toggle_favourite()
    response = alice_client.get(reverse("image_list"), {"favourites": "on", "size": "64x48"})
    assert [i.uuid for i in response.context["images"]] == [liked.uuid]
    assert not alice_client.get(reverse("image_list"), {"size": "1024x1024"}).context["images"]


def test_the_format_filter_offers_and_finds_gif_and_svg(
    alice, alice_client: Client, make_image
) -> None:
    still = make_image(alice, prompt="still")
    animation = make_image(alice, prompt="animation", data=gif_bytes())
    drawing = make_image(alice, prompt="drawing", data=svg_bytes())
    page = alice_client.get(reverse("image_list"))
    assert '<option value="gif">GIF</option>' in page.content.decode()
    assert '<option value="svg">SVG</option>' in page.content.decode()
    for fmt, image in [("png", still), ("gif", animation), ("svg", drawing)]:
        found = alice_client.get(reverse("image_list"), {"format": fmt}).context["images"]
        assert [i.uuid for i in found] == [image.uuid]


def test_the_detail_page_shows_an_animation_whole_and_the_grid_its_still_thumbnail(
    alice, alice_client: Client, make_image
) -> None:
    animation = make_image(alice, prompt="animation", data=gif_bytes())
    original = reverse("image_original", args=[animation.uuid])
    thumbnail = reverse("image_thumbnail", args=[animation.uuid])
    detail = alice_client.get(animation.get_absolute_url()).content.decode()
    grid = alice_client.get(reverse("image_list")).content.decode()
    assert detail.count(f'<img src="{original}"') == 2  # the page and its lightbox
    assert f'<img src="{thumbnail}"' in grid
    assert original not in grid


def test_the_next_page_for_infinite_scroll_is_a_fragment(
    alice, alice_client: Client, make_image, monkeypatch
) -> None:
    monkeypatch.setattr("gallery.paging.PAGE_SIZE", 1)
    older, newer = make_image(alice, prompt="older"), make_image(alice, prompt="newer")
    first = alice_client.get(reverse("image_list")).content.decode()
    assert f'before={newer.id}"' in first and 'hx-trigger="revealed"' in first
    fragment = alice_client.get(
        reverse("image_list"), {"before": newer.id}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" not in fragment
    assert str(older.uuid) in fragment and str(newer.uuid) not in fragment


def test_a_search_as_you_type_swaps_only_the_grid(alice, alice_client: Client, make_image) -> None:
    make_image(alice, prompt="a red kite"), make_image(alice, prompt="a blue whale")
    response = alice_client.get(
        reverse("image_list"), {"q": "kite"}, headers={"HX-Request": "true", "HX-Target": "gallery"}
    )
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<form id="gallery"')
    assert "<html" not in fragment and 'role="search"' not in fragment
    assert "a red kite" in fragment and "a blue whale" not in fragment


def test_the_search_form_submits_to_the_bare_path(alice, alice_client: Client) -> None:
    """htmx adds the form's fields to hx-get's URL: a query already in it would be doubled."""
    page = alice_client.get(reverse("image_list"), {"q": "kite"}).content.decode()
    assert f'hx-get="{reverse("image_list")}"' in page


def test_the_detail_page_links_to_its_neighbours_in_the_search(
    alice, alice_client: Client, make_image
) -> None:
    first = make_image(alice, prompt="cat one")
    make_image(alice, prompt="dog")
    middle = make_image(alice, prompt="cat two")
    last = make_image(alice, prompt="cat three")
    response = alice_client.get(reverse("image_detail", args=[middle.uuid]), {"q": "cat"})
    assert response.context["previous"].uuid == last.uuid
    assert response.context["following"].uuid == first.uuid
    assert 'rel="next"' in response.content.decode()


def test_the_detail_pages_neighbours_follow_the_galleries_sort(
    alice, alice_client: Client, make_image
) -> None:
    """Next and previous walk the images in the order the gallery showed them."""
    one, two, three, four = (make_image(alice, prompt=f"cat {n}") for n in range(4))
    for image, stars in ((one, 3), (two, 5), (three, 3)):
        image.rate(stars)

    def around(image: Image, sort: str) -> tuple[str | None, str | None]:
        url = reverse("image_detail", args=[image.uuid])
        context = alice_client.get(url, {"q": "cat", "sort": sort}).context
        return tuple(  # type: ignore[return-value]
            n.uuid if n else None for n in (context["previous"], context["following"])
        )

    assert around(two, "oldest") == (one.uuid, three.uuid)
    page = alice_client.get(reverse("image_detail", args=[two.uuid]), {"sort": "oldest"})
    assert ">Older</a>" in page.content.decode()  # the previous one is the older, here
    # Best rated first: two (5), three (3, newer), one (3); four is not rated.
    assert around(two, "rating") == (None, three.uuid)
    assert around(three, "rating") == (two.uuid, one.uuid)
    assert around(one, "rating") == (three.uuid, None)
    assert around(four, "rating") == (None, three.uuid)  # not in that grid: newest first


def test_favourite_toggles_with_htmx_and_without(alice, alice_client: Client, make_image) -> None:
    image = make_image(alice)
    url = reverse("image_favourite", args=[image.uuid])
    response = alice_client.post(url, {"next": "/images/"})
    assert response["Location"] == "/images/"
    image.refresh_from_db()
    assert image.favourite
    fragment = alice_client.post(url, headers={"HX-Request": "true"}).content.decode()
    image.refresh_from_db()
    assert not image.favourite
    assert 'aria-pressed="false"' in fragment


def test_favourite_never_redirects_off_site(alice, alice_client: Client, make_image) -> None:
    image = make_image(alice)
    response = alice_client.post(
        reverse("image_favourite", args=[image.uuid]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("image_detail", args=[image.uuid])


def test_deleting_an_image_asks_first_then_moves_it_to_the_trash(
    alice, alice_client: Client, make_image
) -> None:
    image = make_image(alice)
    paths = [image.file.path, image.thumbnail.path]
    url = reverse("image_delete", args=[image.uuid])
    assert "Move this image to the Trash?" in alice_client.get(url).content.decode()
    response = alice_client.post(url)
    assert response["Location"] == reverse("image_list")
    assert not Image.objects.for_user(alice).filter(pk=image.pk).exists()
    assert Image.objects.in_trash_of(alice).filter(pk=image.pk).exists()
    assert all(Path(path).exists() for path in paths)  # till it is purged (tests/test_trash.py)


def test_nobody_else_can_favourite_or_delete(bob, alice_client: Client, make_image) -> None:
    image = make_image(bob)
    for name in ("image_favourite", "image_delete"):
        assert alice_client.post(reverse(name, args=[image.uuid])).status_code == 404
    image.refresh_from_db()
    assert not image.favourite
