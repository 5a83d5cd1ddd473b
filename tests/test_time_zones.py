"""Each person's time zone: detected at sign-in, stored, changeable, and used for every date
shown, every date filter and every share expiry."""

import datetime
import zoneinfo

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from gallery.models import Image, ShareLink
from imagegen.models import Profile

PASSWORD = "a long test passphrase"
TOKYO, NEW_YORK = "Asia/Tokyo", "America/New_York"
# 16:54 UTC on 29 November: 01:54 on the 30th in Tokyo, 11:54 on the 29th in New York.
MOMENT = datetime.datetime(2026, 11, 29, 16, 54, tzinfo=datetime.UTC)


def person(name: str, zone: str = "") -> Client:
    User.objects.create_user(name, password=PASSWORD)
    client = Client()
    response = client.post(
        reverse("login"), {"username": name, "password": PASSWORD, "time_zone": zone}
    )
    assert response.status_code == 302
    return client


def image_made_at(owner: User, make_image, moment: datetime.datetime) -> Image:
    image = make_image(owner, prompt="a lantern festival")
    Image.objects.filter(pk=image.pk).update(created_at=moment)
    return image


@pytest.mark.django_db
def test_the_browser_zone_is_kept_at_sign_in() -> None:
    person("aiko", TOKYO)
    assert Profile.objects.get(user__username="aiko").time_zone == TOKYO
    person("nobody", "Not/AZone")  # an unknown name is ignored: the server's zone stays
    assert Profile.objects.get(user__username="nobody").time_zone == ""


@pytest.mark.django_db
def test_tokyo_and_new_york_see_and_filter_one_moment_under_their_own_dates(make_image) -> None:
    tokyo, new_york = person("aiko", TOKYO), person("nora", NEW_YORK)
    for name, client in (("aiko", tokyo), ("nora", new_york)):
        owner = User.objects.get(username=name)
        image = image_made_at(owner, make_image, MOMENT)
        page = client.get(reverse("image_detail", args=[image.uuid])).content.decode()
        assert ("Nov. 30, 2026" in page) == (name == "aiko"), name
        assert ("Nov. 29, 2026" in page) == (name == "nora"), name
        on_30th = client.get(reverse("image_list"), {"since": "2026-11-30"}).content.decode()
        on_29th = client.get(reverse("image_list"), {"until": "2026-11-29"}).content.decode()
        assert (str(image.uuid) in on_30th) == (name == "aiko"), name
        assert (str(image.uuid) in on_29th) == (name == "nora"), name


@pytest.mark.django_db
def test_a_share_expires_at_the_end_of_the_day_in_the_persons_zone(make_image) -> None:
    tokyo = person("aiko", TOKYO)
    image = make_image(User.objects.get(username="aiko"))
    url = reverse("share_create_image", args=[image.uuid])
    assert "midnight in your time zone, Asia/Tokyo" in tokyo.get(url).content.decode()
    tokyo.post(url, {"expiry": "date", "last_day": "2099-12-31"})
    link = ShareLink.objects.get()
    midnight = datetime.datetime(2100, 1, 1, tzinfo=zoneinfo.ZoneInfo(TOKYO))
    assert link.expires_at == midnight  # 15:00 UTC on the 31st


@pytest.mark.django_db
def test_a_chosen_zone_is_kept_and_sign_in_does_not_change_it() -> None:
    client = person("aiko", TOKYO)
    settings_url = reverse("account_settings")
    assert 'value="Asia/Tokyo" selected' in client.get(settings_url).content.decode()
    response = client.post(settings_url, {"time_zone": "Europe/Paris"})
    assert response.status_code == 302
    profile = Profile.objects.get(user__username="aiko")
    assert (profile.time_zone, profile.time_zone_chosen) == ("Europe/Paris", True)
    assert "(Europe/Paris)" in client.get(settings_url).content.decode()  # this session at once
    client.post(reverse("login"), {"username": "aiko", "password": PASSWORD, "time_zone": TOKYO})
    assert Profile.objects.get(user__username="aiko").time_zone == "Europe/Paris"
    # Not a zone: refused, nothing changed.
    page = client.post(settings_url, {"time_zone": "Mars/Olympus"}).content.decode()
    assert "Select a valid choice." in page
    assert Profile.objects.get(user__username="aiko").time_zone == "Europe/Paris"
    # Back to "from my browser": the next sign-in's zone is taken again.
    client.post(settings_url, {"time_zone": ""})
    person_again = Client()
    person_again.post(
        reverse("login"), {"username": "aiko", "password": PASSWORD, "time_zone": TOKYO}
    )
    assert Profile.objects.get(user__username="aiko").time_zone == TOKYO


def test_signed_out_people_cannot_open_settings(client: Client, db) -> None:
    response = client.get(reverse("account_settings"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
