"""Inputs that gave a server error before issue 12 (dates at the calendar's edges, non-ASCII
digits, ids that are not UUIDs, huge numbers, NUL bytes, a `next` that is not a path): each now
gets a clear error or a "not found", and nothing is lost. tests/test_no_server_errors.py looks
for more of their kind on every page."""

from datetime import date, timedelta

import pytest
from django import forms
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery.days import FIRST_DAY, LAST_DAY, DayField
from gallery.models import Collection, Image, ShareLink
from gallery.paging import cursor_of

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = "Choose a day between 0001-01-02 and 9999-12-30."


@pytest.fixture
def image(alice: User, make_image) -> Image:
    return make_image(alice, prompt="a lantern in fog")


@pytest.fixture
def collection(alice: User, image: Image) -> Collection:
    collection = Collection.objects.create(owner=alice, name="Harbour walks")
    collection.images.add(image)
    return collection


def gallery_pages(image: Image, collection: Collection) -> list[str]:
    return [
        reverse("image_list"),
        reverse("image_detail", args=[image.uuid]),
        reverse("collection_detail", args=[collection.uuid]),
    ]


# Dates at the calendar's edges


def test_a_day_field_takes_the_first_and_last_days_a_whole_day_fits_in() -> None:
    field = DayField()
    assert field.clean(FIRST_DAY.isoformat()) == FIRST_DAY
    assert field.clean(LAST_DAY.isoformat()) == LAST_DAY
    for edge in ("0001-01-01", "9999-12-31"):
        with pytest.raises(forms.ValidationError) as refused:
            field.clean(edge)
        assert refused.value.messages == [OUT_OF_RANGE]


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01"])
def test_a_date_filter_at_the_calendars_edge_is_an_error_on_the_page(
    alice_client: Client, image: Image, collection: Collection, query: str
) -> None:
    for url in gallery_pages(image, collection):
        response = alice_client.get(f"{url}?{query}")
        assert response.status_code == 200, url
    listed = alice_client.get(f"{reverse('image_list')}?{query}").content.decode()
    assert OUT_OF_RANGE in listed
    assert "a lantern in fog" in listed  # the filter is ignored, not the gallery


def test_the_last_day_a_filter_takes_still_finds_todays_images(
    alice_client: Client, image: Image
) -> None:
    response = alice_client.get(reverse("image_list"), {"until": LAST_DAY.isoformat()})
    assert response.status_code == 200
    assert "a lantern in fog" in response.content.decode()


def test_a_share_expiring_on_the_calendars_last_day_is_refused_with_a_message(
    alice_client: Client, image: Image
) -> None:
    url = reverse("share_create_image", args=[image.uuid])
    response = alice_client.post(url, {"expiry": "date", "last_day": "9999-12-31"})
    assert response.status_code == 200
    assert OUT_OF_RANGE in response.content.decode()
    assert not ShareLink.objects.exists()


def test_a_share_may_expire_on_the_last_day_that_has_an_end(
    alice_client: Client, image: Image
) -> None:
    url = reverse("share_create_image", args=[image.uuid])
    response = alice_client.post(url, {"expiry": "date", "last_day": LAST_DAY.isoformat()})
    assert response.status_code == 302
    expires_at = timezone.localtime(ShareLink.objects.get().expires_at)
    assert expires_at.date() == LAST_DAY + timedelta(days=1)


# Numbers: non-ASCII digits and huge ones


@pytest.mark.parametrize("before", ["²", "①", "١٢", "\uff11\uff12", "9" * 30, "-1", "1e9", ""])
def test_a_page_cursor_that_is_not_an_id_shows_the_first_page(
    alice_client: Client, image: Image, collection: Collection, before: str
) -> None:
    assert cursor_of(before) is None
    for url in gallery_pages(image, collection):
        response = alice_client.get(url, {"before": before})
        assert response.status_code == 200, url
    listed = alice_client.get(reverse("image_list"), {"before": before}).content.decode()
    assert "a lantern in fog" in listed


def test_a_page_cursor_of_ascii_digits_is_read() -> None:
    assert cursor_of("123") == 123
    assert cursor_of("9" * 18) == int("9" * 18)


def test_a_share_id_beyond_any_integer_is_not_found(alice_client: Client) -> None:
    for name in ("share_detail", "share_revoke"):
        url = reverse(name, args=[10**30])
        response = alice_client.post(url) if name == "share_revoke" else alice_client.get(url)
        assert response.status_code == 404, name


# Ids that are not UUIDs


@pytest.mark.parametrize("collection_id", ["not-a-uuid", "1", "²", "a\x00b", ""])
def test_adding_to_a_collection_that_is_not_a_uuid_is_not_found(
    alice_client: Client, image: Image, collection: Collection, collection_id: str
) -> None:
    url = reverse("image_collections", args=[image.uuid])
    response = alice_client.post(url, {"collection": collection_id, "action": "remove"})
    assert response.status_code == 404
    assert list(collection.images.all()) == [image]  # nothing changed


@pytest.mark.parametrize("collection_id", ["not-a-uuid", "1", "²", "a\x00b", ""])
def test_bulk_adding_to_a_collection_that_is_not_a_uuid_is_not_found(
    alice_client: Client, alice: User, image: Image, collection_id: str
) -> None:
    selection = {"images": [image.uuid], "action": "add", "collection": collection_id}
    response = alice_client.post(reverse("image_bulk"), selection)
    assert response.status_code == 404
    assert Image.objects.filter(owner=alice).count() == 1
    assert not Collection.objects.filter(images=image).exists()


# NUL bytes (PostgreSQL refuses them in text): the forms refuse them first


def test_a_search_with_a_nul_byte_is_an_error_on_the_page(
    alice_client: Client, image: Image
) -> None:
    response = alice_client.get(reverse("image_list"), {"q": "lantern\x00"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


def test_a_collection_name_with_a_nul_byte_is_refused(alice: User, alice_client: Client) -> None:
    response = alice_client.post(reverse("collection_list"), {"name": "Har\x00bour"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
    assert not Collection.objects.filter(owner=alice).exists()


# A `next` that is not a path on this site


@pytest.mark.parametrize("next_page", ["a\x00b", "image_list", "logout", "https://evil.example/"])
def test_a_next_that_is_not_a_path_returns_to_the_usual_page(
    alice_client: Client, image: Image, next_page: str
) -> None:
    url = reverse("image_favourite", args=[image.uuid])
    response = alice_client.post(url, {"next": next_page})
    assert response.status_code == 302
    assert response["Location"] == reverse("image_detail", args=[image.uuid])


def test_a_next_that_is_a_path_is_followed(alice_client: Client, image: Image) -> None:
    url = reverse("image_favourite", args=[image.uuid])
    response = alice_client.post(url, {"next": "/images/?q=lantern"})
    assert response["Location"] == "/images/?q=lantern"


def test_today_is_well_inside_the_days_a_form_takes() -> None:
    assert FIRST_DAY < date.today() < LAST_DAY
