"""Collections: create, rename, delete, and an image's membership, for their owner only."""

from django.test import Client
from django.urls import reverse

from gallery.models import Collection, Image


def test_a_person_creates_a_collection_and_lands_on_it(alice, alice_client: Client) -> None:
    response = alice_client.post(reverse("collection_list"), {"name": "Harbours"})
    collection = Collection.objects.get()
    assert collection.owner == alice
    assert response["Location"] == reverse("collection_detail", args=[collection.uuid])
    assert "Harbours" in alice_client.get(reverse("collection_list")).content.decode()


def test_names_are_unique_per_person_only(alice, bob, alice_client: Client) -> None:
    Collection.objects.create(owner=alice, name="Harbours")
    Collection.objects.create(owner=bob, name="Skies")
    response = alice_client.post(reverse("collection_list"), {"name": "harbours"})
    assert "already have a collection" in response.content.decode()
    alice_client.post(reverse("collection_list"), {"name": "Skies"})
    assert Collection.objects.filter(name="Skies").count() == 2


def test_an_empty_name_is_refused(alice_client: Client) -> None:
    response = alice_client.post(reverse("collection_list"), {"name": "  "})
    assert response.status_code == 200
    assert not Collection.objects.exists()


def test_the_collection_page_shows_only_its_images(alice, alice_client: Client, make_image) -> None:
    inside, outside = make_image(alice, prompt="inside"), make_image(alice, prompt="outside")
    collection = Collection.objects.create(owner=alice, name="Mine")
    collection.images.add(inside)
    page = alice_client.get(reverse("collection_detail", args=[collection.uuid]))
    assert [i.uuid for i in page.context["images"]] == [inside.uuid]
    assert str(outside.uuid) not in page.content.decode()


def test_rename_and_delete_keep_the_images(alice, alice_client: Client, make_image) -> None:
    image = make_image(alice)
    collection = Collection.objects.create(owner=alice, name="Old")
    collection.images.add(image)
    alice_client.post(reverse("collection_rename", args=[collection.uuid]), {"name": "New"})
    collection.refresh_from_db()
    assert collection.name == "New"
    alice_client.post(reverse("collection_delete", args=[collection.uuid]))
    assert not Collection.objects.exists()
    assert Image.objects.filter(pk=image.pk).exists()


def test_add_and_remove_an_image(alice, alice_client: Client, make_image) -> None:
    image = make_image(alice)
    collection = Collection.objects.create(owner=alice, name="Set")
    url = reverse("image_collections", args=[image.uuid])
    alice_client.post(url, {"collection": collection.uuid, "action": "add"})
    alice_client.post(url, {"collection": collection.uuid, "action": "add"})  # a double click
    assert list(collection.images.all()) == [image]
    page = alice_client.get(reverse("image_detail", args=[image.uuid])).content.decode()
    assert collection.get_absolute_url() in page
    alice_client.post(url, {"collection": collection.uuid, "action": "remove"})
    assert not collection.images.exists()


def test_another_persons_collections_are_not_found(alice, bob, alice_client, make_image) -> None:
    theirs = Collection.objects.create(owner=bob, name="Private")
    mine = make_image(alice)
    assert alice_client.get(reverse("collection_detail", args=[theirs.uuid])).status_code == 404
    for name in ("collection_rename", "collection_delete"):
        response = alice_client.post(reverse(name, args=[theirs.uuid]), {"name": "x"})
        assert response.status_code == 404, name
    response = alice_client.post(
        reverse("image_collections", args=[mine.uuid]), {"collection": theirs.uuid}
    )
    assert response.status_code == 404
    assert not theirs.images.exists()
    assert "Private" not in alice_client.get(reverse("collection_list")).content.decode()


def test_nobody_can_add_another_persons_image(alice, bob, alice_client, make_image) -> None:
    collection = Collection.objects.create(owner=alice, name="Mine")
    theirs = make_image(bob)
    response = alice_client.post(
        reverse("image_collections", args=[theirs.uuid]), {"collection": collection.uuid}
    )
    assert response.status_code == 404


def test_collection_urls_need_sign_in_and_the_right_methods(client, alice, alice_client) -> None:
    collection = Collection.objects.create(owner=alice, name="Set")
    assert client.get(reverse("collection_list")).status_code == 302
    assert client.get(reverse("collection_detail", args=[collection.uuid])).status_code == 302
    assert alice_client.get(reverse("collection_delete", args=[collection.uuid])).status_code == 405
