"""A share link to a smart collection: its page, its zip and each image's page show exactly the
images that match its search when opened (in its owner's days), never any other of the owner's
nor anyone else's, and nothing once they are in the Trash."""

import datetime
import io
import json
import zipfile

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery.models import Collection, Image, ShareLink
from imagegen.models import Profile

TOKYO = "Asia/Tokyo"
# 16:54 UTC on 29 November: 01:54 on the 30th in Tokyo, 11:54 on the 29th in New York.
MOMENT = datetime.datetime(2026, 11, 29, 16, 54, tzinfo=datetime.UTC)


def shared_search(owner: User, query: str) -> ShareLink:
    collection = Collection.objects.create(owner=owner, name=query, query=query)
    return ShareLink.objects.create(owner=owner, collection=collection)


def page_of(client: Client, link: ShareLink) -> str:
    response = client.get(reverse("shared_page", args=[link.token]))
    assert response.status_code == 200
    return response.content.decode()


def zipped_prompts(client: Client, link: ShareLink) -> set[str]:
    response = client.get(reverse("shared_archive", args=[link.token]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    documents = [name for name in archive.namelist() if name.endswith(".json")]
    return {json.loads(archive.read(name))["prompt"] for name in documents}


def test_the_shared_page_shows_exactly_its_images_now(client, alice, bob, make_image) -> None:
    mine = make_image(alice, prompt="a harbour of mine")
    other = make_image(alice, prompt="a lake of mine")
    bobs = make_image(bob, prompt="a harbour of bob's")
    link = shared_search(alice, "q=harbour")
    page = page_of(client, link)
    assert str(mine.uuid) in page
    assert str(other.uuid) not in page
    assert str(bobs.uuid) not in page
    later = make_image(alice, prompt="a harbour made later")
    assert str(later.uuid) in page_of(client, link)  # it updates itself


def test_the_zip_holds_exactly_its_images(client, alice, bob, make_image) -> None:
    make_image(alice, prompt="a harbour of mine")
    make_image(alice, prompt="a lake of mine")
    make_image(bob, prompt="a harbour of bob's")
    link = shared_search(alice, "q=harbour")
    assert zipped_prompts(client, link) == {"a harbour of mine"}


def test_only_its_images_open_on_their_own_page(client, alice, bob, make_image) -> None:
    mine = make_image(alice, prompt="a harbour of mine")
    other = make_image(alice, prompt="a lake of mine")
    bobs = make_image(bob, prompt="a harbour of bob's")
    link = shared_search(alice, "q=harbour")
    for image, status in ((mine, 200), (other, 404), (bobs, 404)):
        url = reverse("shared_image", args=[link.token, image.uuid])
        assert client.get(url).status_code == status, image.prompt
        file_url = reverse("shared_thumbnail", args=[link.token, image.uuid])
        assert client.get(file_url).status_code == status, image.prompt


def test_trashed_images_leave_the_link_at_once(client, alice, make_image) -> None:
    image = make_image(alice, prompt="a harbour")
    link = shared_search(alice, "q=harbour")
    Image.objects.filter(pk=image.pk).update(trashed_at=timezone.now())
    assert str(image.uuid) not in page_of(client, link)
    assert zipped_prompts(client, link) == set()
    url = reverse("shared_image", args=[link.token, image.uuid])
    assert client.get(url).status_code == 404


def test_a_search_that_no_longer_holds_shares_nothing(client, alice, make_image) -> None:
    image = make_image(alice, prompt="a harbour")
    within = Collection.objects.create(owner=alice, name="Within")
    within.images.add(image)
    link = shared_search(alice, f"collection={within.uuid}")
    assert str(image.uuid) in page_of(client, link)
    within.delete()
    assert str(image.uuid) not in page_of(client, link)
    assert zipped_prompts(client, link) == set()


def test_its_days_are_the_owners_for_a_visitor_elsewhere(client, alice, bob, make_image) -> None:
    Profile.objects.create(user=alice, time_zone=TOKYO)
    Profile.objects.create(user=bob, time_zone="America/New_York")
    image = make_image(alice, prompt="a lantern festival")
    Image.objects.filter(pk=image.pk).update(created_at=MOMENT)  # the 30th in Tokyo
    on_30th = shared_search(alice, "since=2026-11-30")
    assert str(image.uuid) in page_of(client, on_30th)  # signed out: the server's UTC
    visitor = Client()
    visitor.force_login(bob)  # signed in elsewhere: the 29th in New York
    assert str(image.uuid) in page_of(visitor, on_30th)
    url = reverse("shared_image", args=[on_30th.token, image.uuid])
    assert visitor.get(url).status_code == 200
    on_29th = shared_search(alice, "until=2026-11-29")
    assert str(image.uuid) not in page_of(visitor, on_29th)


def test_its_owner_shares_it_like_any_collection(alice, alice_client, make_image) -> None:
    make_image(alice, prompt="a harbour")
    collection = Collection.objects.create(owner=alice, name="Harbours", query="q=harbour")
    url = reverse("share_create_collection", args=[collection.uuid])
    form = alice_client.get(url).content.decode()
    assert "(1 image)" in form
    assert "the link shows the images that match its search when it is opened" in form
    alice_client.post(url, {"expiry": "never"})
    assert ShareLink.objects.get().collection == collection


def test_another_person_cannot_share_it(alice, bob, bob_client) -> None:
    collection = Collection.objects.create(owner=alice, name="Harbours", query="q=harbour")
    url = reverse("share_create_collection", args=[collection.uuid])
    assert bob_client.post(url, {"expiry": "never"}).status_code == 404
    assert not ShareLink.objects.exists()
