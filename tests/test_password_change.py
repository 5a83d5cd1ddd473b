"""Settings → Password: a person changes their own password (Django's view, in the studio's
page), which signs their other sessions out; the old password is limited as sign-in is
(imagegen/password_attempts.py), in the same count."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from imagegen.models import FailedPasswordAttempt
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-longer-new-passphrase-42"
HOME = "203.0.113.5"


def change(client: Client, old: str, new: str = NEW_PASSWORD, again: str | None = None):
    data = {"old_password": old, "new_password1": new, "new_password2": again or new}
    return client.post(reverse("password_change"), data, REMOTE_ADDR=HOME)


def signed_in(client: Client) -> bool:
    return client.get(reverse("image_list")).status_code == 200


def test_settings_offer_it_and_the_page_asks_for_the_old_password_and_the_new_twice(
    alice_client: Client,
) -> None:
    settings_page = alice_client.get(reverse("account_settings")).content.decode()
    page = alice_client.get(reverse("password_change"))

    assert f'href="{reverse("password_change")}"' in settings_page
    assert page.status_code == 200
    for name in ("old_password", "new_password1", "new_password2"):
        assert f'name="{name}"' in page.content.decode()


def test_a_change_keeps_this_session_and_signs_the_others_out(alice: User) -> None:
    here, elsewhere = Client(), Client()
    here.force_login(alice)
    elsewhere.force_login(alice)

    response = change(here, PASSWORD)

    assert response.status_code == 302 and response["Location"] == reverse("account_settings")
    assert "Your other devices are signed out." in here.get(response["Location"]).content.decode()
    assert signed_in(here)
    assert not signed_in(elsewhere)
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD) and not alice.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("new", "again", "said"),
    [
        ("short", "short", "This password is too short."),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "The two password fields didn"),
    ],
)
def test_a_weak_or_mistyped_new_password_changes_nothing(
    alice: User, alice_client: Client, new: str, again: str, said: str
) -> None:
    response = change(alice_client, PASSWORD, new, again)

    assert response.status_code == 200
    assert said in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert not FailedPasswordAttempt.objects.exists()  # the old one was right: nothing counted


def test_wrong_old_passwords_are_limited_in_the_sign_in_count(
    alice: User, alice_client: Client
) -> None:
    for _ in range(4):
        response = change(alice_client, "not-my-password")
        assert response.status_code == 200
        assert "Your old password was entered incorrectly." in response.content.decode()
    # A wrong guess at sign-in from the same address is the fifth of the same count.
    Client().post(reverse("login"), {"username": "alice", "password": "nope"}, REMOTE_ADDR=HOME)

    refused = change(alice_client, PASSWORD)  # even the right one, unchecked

    assert refused.status_code == 429
    assert "Too many wrong passwords. Try again in 15 minutes." in refused.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert FailedPasswordAttempt.objects.filter(purpose="change_password").count() == 4


def test_a_right_old_password_forgets_the_failures(alice: User, alice_client: Client) -> None:
    change(alice_client, "not-my-password")

    assert change(alice_client, PASSWORD).status_code == 302
    assert not FailedPasswordAttempt.objects.exists()


def test_signed_out_the_page_asks_to_sign_in(client: Client, db) -> None:
    response = client.get(reverse("password_change"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
