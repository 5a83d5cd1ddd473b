"""Smart collections: a gallery search saved under a name, listed among the collections, that
shows what matches it each time it is opened (and only its owner's, out of the Trash), can be
changed from its own page, and takes no image by hand."""

import datetime
import zoneinfo

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery import paging
from gallery.filters import GalleryFilters
from gallery.models import Collection, CollectionImage, Comparison, Image
from gallery.models.organise import saved_search
from imagegen.models import Profile

TOKYO, NEW_YORK = "Asia/Tokyo", "America/New_York"
# 16:54 UTC on 29 November: 01:54 on the 30th in Tokyo, 11:54 on the 29th in New York.
MOMENT = datetime.datetime(2026, 11, 29, 16, 54, tzinfo=datetime.UTC)


def smart(owner: User, query: str, name: str = "Harbours") -> Collection:
    return Collection.objects.create(owner=owner, name=name, query=query)


def shown(collection: Collection) -> set[str]:
    return {image.prompt for image in collection.images_shown()}


def follow(client: Client, url: str, **params: str) -> str:
    response = client.get(url, params, follow=True)
    assert response.status_code == 200
    return response.content.decode()


# What it holds


def test_it_shows_its_owners_images_that_match_its_search_each_time(alice, make_image) -> None:
    make_image(alice, prompt="a quiet harbour at dawn")
    make_image(alice, prompt="a mountain lake")
    collection = smart(alice, "q=harbour")
    assert shown(collection) == {"a quiet harbour at dawn"}
    make_image(alice, prompt="a busy harbour at noon")  # made later: it updates itself
    assert shown(collection) == {"a quiet harbour at dawn", "a busy harbour at noon"}


def test_another_persons_matching_images_never_appear(alice, bob, make_image) -> None:
    make_image(alice, prompt="a harbour of mine")
    make_image(bob, prompt="a harbour of bob's")
    assert shown(smart(alice, "q=harbour")) == {"a harbour of mine"}


def test_its_filters_combine_as_in_the_gallery(alice, make_image) -> None:
    liked = make_image(alice, prompt="a harbour, liked")
    liked.favourite = True
    liked.save()
    make_image(alice, prompt="a harbour, not liked")
    make_image(alice, prompt="a lake, liked", model_name="qwen-image")
    assert shown(smart(alice, "q=harbour&favourites=on")) == {"a harbour, liked"}
    assert shown(smart(alice, "model=qwen-image", name="Qwen")) == {"a lake, liked"}
    assert shown(smart(alice, 'q="a harbour"+-liked', name="Phrase")) == set()


def test_trashed_images_leave_it_at_once(alice, make_image) -> None:
    image = make_image(alice, prompt="a harbour")
    collection = smart(alice, "q=harbour")
    Image.objects.filter(pk=image.pk).update(trashed_at=timezone.now())
    assert shown(collection) == set()


def test_a_search_that_no_longer_holds_shows_nothing_rather_than_more(alice, make_image) -> None:
    make_image(alice, prompt="a harbour")
    kept_in = Collection.objects.create(owner=alice, name="Kept in")
    collection = smart(alice, f"collection={kept_in.uuid}", name="Within")
    kept_in.delete()  # its filter now names no collection of hers: not "every image"
    assert shown(collection) == set()
    assert shown(smart(alice, "unknown=1", name="Nothing")) == set()


def test_its_days_are_its_owners_whoever_looks(alice, make_image) -> None:
    Profile.objects.create(user=alice, time_zone=TOKYO)
    image = make_image(alice, prompt="a lantern festival")
    Image.objects.filter(pk=image.pk).update(created_at=MOMENT)  # the 30th in Tokyo
    on_30th = smart(alice, "since=2026-11-30&until=2026-11-30")
    with timezone.override(zoneinfo.ZoneInfo(NEW_YORK)):  # a visitor from New York: the 29th
        assert shown(on_30th) == {"a lantern festival"}
        assert shown(smart(alice, "until=2026-11-29", name="29th")) == set()


def test_a_saved_search_is_its_valid_filters_in_the_gallerys_words(alice) -> None:
    data = QueryDict("sort=oldest&before=99&favourites=1&q=+harbour+&model=&since=2026-01-31&x=1")
    assert saved_search(GalleryFilters(data, user=alice)) == (
        "q=harbour&since=2026-01-31&favourites=on"
    )
    assert saved_search(GalleryFilters(QueryDict("sort=oldest"), user=alice)) == ""


# Saving one


def test_a_search_is_saved_and_its_page_opens_on_it(alice, alice_client, make_image) -> None:
    make_image(alice, prompt="a quiet harbour")
    make_image(alice, prompt="a mountain lake")
    gallery = follow(alice_client, reverse("image_list"), q="harbour", sort="oldest")
    assert 'form="save-search"' in gallery
    assert 'name="query" value="q=harbour"' in gallery
    response = alice_client.post(
        reverse("smart_collection_create"), {"name": "Harbours", "query": "q=harbour"}
    )
    collection = Collection.objects.get()
    assert (collection.name, collection.query, collection.owner) == ("Harbours", "q=harbour", alice)
    assert response["Location"] == collection.get_absolute_url()
    opened = alice_client.get(collection.get_absolute_url())
    assert opened["Location"] == f"{collection.get_absolute_url()}?q=harbour"
    page = follow(alice_client, collection.get_absolute_url())
    assert "a quiet harbour" in page
    assert "mountain lake" not in page
    assert "Smart collection: it shows every image" in page
    assert f'href="{reverse("image_list")}?q=harbour"' in page  # open it in the gallery
    assert "Remove the filter Search prompts" in page  # its search, as chips


def test_the_gallery_offers_to_save_only_a_search_in_use(alice, alice_client, make_image) -> None:
    make_image(alice)
    assert 'form="save-search"' not in follow(alice_client, reverse("image_list"))
    assert 'form="save-search"' not in follow(alice_client, reverse("image_list"), sort="oldest")
    wrong = follow(alice_client, reverse("image_list"), q="harbour", until="9999-12-31")
    assert 'form="save-search"' not in wrong
    assert "Correct the filters to save this search" in wrong
    manual = Collection.objects.create(owner=alice, name="By hand")
    assert 'form="save-search"' not in follow(alice_client, manual.get_absolute_url(), q="x")


def test_the_htmx_search_redraws_the_controls_with_the_new_search(alice, alice_client) -> None:
    response = alice_client.get(
        reverse("image_list"), {"q": "lake"}, headers={"HX-Request": "true", "HX-Target": "gallery"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="gallery"')
    assert 'name="query" value="q=lake"' in body


def test_a_name_already_used_is_refused_and_nothing_typed_is_lost(alice, alice_client) -> None:
    Collection.objects.create(owner=alice, name="Harbours")
    response = alice_client.post(
        reverse("smart_collection_create"), {"name": "HARBOURS", "query": "q=harbour"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "already have a collection" in page
    assert 'value="HARBOURS"' in page
    assert 'value="q=harbour"' in page
    assert Collection.objects.count() == 1


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("until=9999-12-31", "Choose a day between"),
        ("model=no-such-model", "Select a valid choice"),
        ("", "Search or choose a filter first"),
        ("sort=oldest", "Search or choose a filter first"),
    ],
)
def test_only_a_valid_search_is_saved(alice_client, query: str, reason: str) -> None:
    response = alice_client.post(
        reverse("smart_collection_create"), {"name": "Mine", "query": query}
    )
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Collection.objects.exists()


def test_another_persons_collection_is_never_the_filter(alice, bob, alice_client) -> None:
    theirs = Collection.objects.create(owner=bob, name="Bob's")
    response = alice_client.post(
        reverse("smart_collection_create"), {"name": "Mine", "query": f"collection={theirs.uuid}"}
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Collection.objects.filter(owner=alice).exists()


def test_saving_takes_a_post_with_a_csrf_token(alice) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    url = reverse("smart_collection_create")
    assert client.get(url).status_code == 405
    assert client.post(url, {"name": "A", "query": "q=a"}).status_code == 403
    assert not Collection.objects.exists()


# Its page: changing its search


def test_a_changed_search_can_be_saved_into_it(alice, alice_client, make_image) -> None:
    make_image(alice, prompt="a quiet harbour")
    make_image(alice, prompt="a mountain lake")
    collection = smart(alice, "q=harbour")
    changed = follow(alice_client, collection.get_absolute_url(), q="lake")
    assert "You changed the search of" in changed
    assert "a mountain lake" in changed  # what the changed search finds, to judge it by
    assert 'form="update-search" name="query" value="q=lake"' in changed
    response = alice_client.post(
        reverse("smart_collection_search", args=[collection.uuid]), {"query": "q=lake"}
    )
    assert response["Location"] == collection.get_absolute_url()
    collection.refresh_from_db()
    assert collection.query == "q=lake"
    assert shown(collection) == {"a mountain lake"}
    page = follow(alice_client, collection.get_absolute_url())
    assert "You changed the search" not in page
    assert "now shows the images that match this search" in page


def test_a_search_changed_by_htmx_redraws_the_offer_to_update(alice, alice_client) -> None:
    collection = smart(alice, "q=harbour")
    headers = {"HX-Request": "true", "HX-Target": "gallery"}
    changed = alice_client.get(collection.get_absolute_url(), {"q": "lake"}, headers=headers)
    assert changed.content.decode().lstrip().startswith('<form id="gallery"')
    assert 'form="update-search" name="query" value="q=lake"' in changed.content.decode()
    same = alice_client.get(collection.get_absolute_url(), {"q": "harbour"}, headers=headers)
    assert "Smart collection: it shows every image" in same.content.decode()


def test_changing_its_search_takes_a_post_from_a_signed_in_owner(alice, client) -> None:
    collection = smart(alice, "q=harbour")
    url = reverse("smart_collection_search", args=[collection.uuid])
    assert client.post(url, {"query": "q=lake"})["Location"].startswith(reverse("login"))
    assert client.post(reverse("smart_collection_create"), {"name": "A", "query": "q=a"})[
        "Location"
    ].startswith(reverse("login"))
    client.force_login(alice)
    assert client.get(url).status_code == 405
    collection.refresh_from_db()
    assert collection.query == "q=harbour"
    assert not Collection.objects.filter(name="A").exists()


def test_an_invalid_search_does_not_replace_it(alice, alice_client) -> None:
    collection = smart(alice, "q=harbour")
    url = reverse("smart_collection_search", args=[collection.uuid])
    back = f"{collection.get_absolute_url()}?model=gone"
    response = alice_client.post(url, {"query": "model=gone", "next": back})
    assert response["Location"] == back  # the search as it was changed, nothing lost
    collection.refresh_from_db()
    assert collection.query == "q=harbour"
    page = follow(alice_client, back)
    assert "Only a search whose filters are all valid can be saved" in page


def test_its_page_keeps_the_order_and_page_asked_for(alice, alice_client) -> None:
    collection = smart(alice, "q=harbour&favourites=on")
    response = alice_client.get(collection.get_absolute_url(), {"sort": "oldest"})
    assert response["Location"].endswith("?q=harbour&favourites=on&sort=oldest")


def test_its_search_can_narrow_to_a_collection_of_images_added_by_hand(
    alice, alice_client, make_image
) -> None:
    inside, outside = (
        make_image(alice, prompt="harbour in"),
        make_image(alice, prompt="harbour out"),
    )
    by_hand = Collection.objects.create(owner=alice, name="By hand")
    by_hand.images.add(inside)
    collection = smart(alice, f"q=harbour&collection={by_hand.uuid}", name="Within")
    assert shown(collection) == {"harbour in"}
    page = follow(alice_client, collection.get_absolute_url())
    assert str(inside.uuid) in page
    assert str(outside.uuid) not in page
    assert 'name="collection"' in page  # the filter is in the form: changing another keeps it


def test_a_manual_collection_has_no_search_to_change(alice, alice_client) -> None:
    manual = Collection.objects.create(owner=alice, name="By hand")
    url = reverse("smart_collection_search", args=[manual.uuid])
    assert alice_client.post(url, {"query": "q=a"}).status_code == 404
    manual.refresh_from_db()
    assert manual.query == ""
    assert alice_client.get(manual.get_absolute_url()).status_code == 200  # no redirect


def test_another_persons_smart_collection_is_not_found(alice, bob, alice_client) -> None:
    theirs = smart(bob, "q=harbour")
    assert alice_client.get(theirs.get_absolute_url()).status_code == 404
    url = reverse("smart_collection_search", args=[theirs.uuid])
    assert alice_client.post(url, {"query": "q=lake"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.query == "q=harbour"


def test_rename_and_delete_work_as_for_any_collection(alice, alice_client, make_image) -> None:
    image = make_image(alice, prompt="a harbour")
    collection = smart(alice, "q=harbour")
    alice_client.post(reverse("collection_rename", args=[collection.uuid]), {"name": "Ports"})
    collection.refresh_from_db()
    assert (collection.name, collection.query) == ("Ports", "q=harbour")
    alice_client.post(reverse("collection_delete", args=[collection.uuid]))
    assert not Collection.objects.exists()
    assert Image.objects.filter(pk=image.pk).exists()


# No image by hand


def test_an_image_is_not_added_to_it_by_hand(alice, alice_client, make_image) -> None:
    image = make_image(alice, prompt="a lake")
    collection = smart(alice, "q=harbour")
    url = reverse("image_collections", args=[image.uuid])
    for action in ("add", "remove"):
        response = alice_client.post(url, {"collection": collection.uuid, "action": action})
        assert response.status_code == 302
    page = follow(alice_client, reverse("image_detail", args=[image.uuid]))
    assert "is a smart collection: it holds the images that match its search" in page
    assert not CollectionImage.objects.exists()


def test_the_bulk_bar_refuses_it_with_a_message(alice, alice_client, make_image) -> None:
    image = make_image(alice, prompt="a lake")
    collection = smart(alice, "q=lake")
    for action in ("add", "remove"):
        response = alice_client.post(
            reverse("image_bulk"),
            {"action": action, "collection": collection.uuid, "images": [image.uuid]},
            follow=True,
        )
        assert "is a smart collection" in response.content.decode()
    assert not CollectionImage.objects.exists()


def test_a_comparisons_winner_is_not_put_in_it(alice, alice_client, make_image) -> None:
    images = [make_image(alice, prompt=f"a lake {n}") for n in range(2)]
    comparison = Comparison.objects.start_for_images(alice, images)
    collection = smart(alice, "q=lake")
    url = reverse("comparison_winner", args=[comparison.uuid])
    response = alice_client.post(url, {"image": images[0].uuid, "collection": collection.uuid})
    assert response.status_code == 404
    with pytest.raises(ValueError, match="is a smart collection"):
        comparison.pick_winner(images[0], collection)
    assert not CollectionImage.objects.exists()


def test_pickers_offer_only_collections_added_to_by_hand(alice, alice_client, make_image) -> None:
    images = [make_image(alice, prompt=f"a lake {n}") for n in range(2)]
    smart(alice, "q=lake", name="Smart lakes")
    Collection.objects.create(owner=alice, name="Lakes by hand")
    comparison = Comparison.objects.start_for_images(alice, images)
    for url, picker in (
        (reverse("image_detail", args=[images[0].uuid]), "add-collection"),
        (reverse("image_list"), "bulk-collection"),
        (comparison.get_absolute_url(), "winner-collection"),
    ):
        page = follow(alice_client, url)
        options = page.split(f'<select id="{picker}"', 1)[1].split("</select>", 1)[0]
        assert "Lakes by hand" in options, url
        assert "Smart lakes" not in options, url


# Listed among the collections


def test_the_list_marks_smart_ones_with_a_count(alice, alice_client, make_image) -> None:
    for n in range(3):
        make_image(alice, prompt=f"a harbour {n}")
    smart(alice, "q=harbour")
    Collection.objects.create(owner=alice, name="By hand")
    page = follow(alice_client, reverse("collection_list"))
    assert page.count('class="badge smart-badge"') == 1
    assert "3 images" in page
    assert "0 images" in page
    assert "Save as smart collection" in page  # how to make one


def test_the_list_counts_a_large_one_at_a_bounded_cost(
    alice, alice_client, make_image, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the gallery counts a search: from the newest images, "about" past them."""
    monkeypatch.setattr(paging, "COUNT_WINDOW", 4)
    monkeypatch.setattr(paging, "COUNT_SAMPLED", 2)
    for n in range(12):
        make_image(alice, prompt=f"a harbour {n}" if n % 2 else f"a lake {n}")
    if connection.vendor == "postgresql":  # the size is the planner's estimate there
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE gallery_image")
    collection = smart(alice, "q=harbour")
    assert collection.count_shown() == paging.ResultCount(6, "about")
    assert "About 6 images" in follow(alice_client, reverse("collection_list"))


# For operators


def test_admin_shows_which_collections_are_smart_and_their_search(alice) -> None:
    operator = Client()
    operator.force_login(User.objects.create_superuser("root", "root@example.org", "x"))
    collection = smart(alice, "q=harbour&favourites=on", name="Liked harbours")
    Collection.objects.create(owner=alice, name="By hand")
    url = reverse("admin:gallery_collection_changelist")
    only_smart = operator.get(url, {"kind": "smart"}).content.decode()
    assert "Liked harbours" in only_smart
    assert "By hand" not in only_smart
    assert "Liked harbours" not in operator.get(url, {"kind": "manual"}).content.decode()
    change = reverse("admin:gallery_collection_change", args=[collection.pk])
    assert "q=harbour&amp;favourites=on" in operator.get(change).content.decode()


def test_the_gallery_filters_by_hand_made_collections_only(alice, alice_client, make_image) -> None:
    """A smart collection is its own search, not a filter of another (nor of itself)."""
    image = make_image(alice, prompt="a tern")
    by_hand = Collection.objects.create(owner=alice, name="By hand")
    by_hand.images.add(image)
    smart = Collection.objects.create(owner=alice, name="Terns", query="q=tern")
    page = alice_client.get(reverse("image_list"))
    options = page.context["filters"].fields["collection"].choices
    assert (str(by_hand.uuid), "By hand") in options
    assert str(smart.uuid) not in {value for value, _label in options}
    refused = alice_client.get(reverse("image_list"), {"collection": smart.uuid})
    assert refused.context["filters"].errors["collection"]
