"""My images: the list, the detail page and the private files, each only for their owner."""

from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse


def test_the_list_shows_only_my_images(alice, bob, alice_client: Client, make_image) -> None:
    mine = make_image(alice, prompt="my lighthouse")
    theirs = make_image(bob, prompt="their secret garden")
    page = alice_client.get(reverse("image_list")).content.decode()
    assert str(mine.uuid) in page
    assert str(theirs.uuid) not in page
    assert "their secret garden" not in page


def test_the_list_pages_newest_first(alice, alice_client: Client, make_image, monkeypatch) -> None:
    monkeypatch.setattr("gallery.views.PAGE_SIZE", 2)
    images = [make_image(alice, prompt=f"image {i}") for i in range(3)]
    first = alice_client.get(reverse("image_list"))
    assert [i.pk for i in first.context["images"]] == [images[2].pk, images[1].pk]
    second = alice_client.get(reverse("image_list"), {"before": first.context["next_before"]})
    assert [i.pk for i in second.context["images"]] == [images[0].pk]
    assert second.context["next_before"] == ""


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
    operator = Client()
    operator.force_login(User.objects.get(pk=alice.pk))
    assert operator.get(reverse("image_thumbnail", args=[image.uuid])).status_code == 200
    admin_page = operator.get(reverse("admin:gallery_image_changelist")).content.decode()
    assert reverse("image_thumbnail", args=[image.uuid]) in admin_page


def test_the_file_views_refuse_post(alice, alice_client: Client, make_image) -> None:
    image = make_image(alice)
    assert alice_client.post(reverse("image_original", args=[image.uuid])).status_code == 405
