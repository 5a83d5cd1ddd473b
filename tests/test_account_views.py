"""Sign up, sign in, sign out."""

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD


def test_a_new_person_signs_up_and_lands_on_the_generate_page(client: Client, db) -> None:
    response = client.post(
        reverse("signup"),
        {
            "username": "carol",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("generate")
    assert User.objects.filter(username="carol").exists()
    assert client.get(reverse("generate")).status_code == 200


def test_sign_up_shows_errors_and_keeps_the_username(client: Client, db) -> None:
    response = client.post(
        reverse("signup"),
        {
            "username": "carol",
            "password1": "short",
            "password2": "different",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="carol"' in page
    assert "password fields didn" in page
    assert not User.objects.filter(username="carol").exists()


def test_sign_in_and_out(client: Client, alice) -> None:
    page = client.get(reverse("login")).content.decode()
    assert ">Username</label>" in page and ">Password</label>" in page
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("image_list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("image_list")).status_code == 302


def test_a_wrong_password_is_refused(client: Client, alice) -> None:
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_signed_in_people_skip_the_sign_up_page(alice_client: Client) -> None:
    assert alice_client.get(reverse("signup"))["Location"] == reverse("generate")


def test_sign_out_refuses_get(alice_client: Client) -> None:
    assert alice_client.get(reverse("logout")).status_code == 405


def test_the_language_can_be_changed_signed_out(client: Client, db) -> None:
    response = client.post(reverse("set_language"), {"language": "ja", "next": "/accounts/login/"})
    assert response.status_code == 302


def test_with_sign_up_closed_nobody_makes_an_account_and_the_pages_say_whom_to_ask(
    client: Client, db, settings
) -> None:
    settings.SIGNUP_OPEN = False

    page = client.get(reverse("signup"))
    sent = client.post(
        reverse("signup"), {"username": "mallory", "password1": PASSWORD, "password2": PASSWORD}
    )
    login = client.get(reverse("login")).content.decode()
    deleted = client.get(reverse("account_deleted")).content.decode()

    assert page.status_code == sent.status_code == 403
    assert "made by its administrators" in page.content.decode()
    assert not User.objects.filter(username="mallory").exists()
    assert reverse("signup") not in login and reverse("signup") not in deleted
    assert "Ask one of the studio's administrators for an account." in login


def test_with_sign_up_open_the_sign_in_page_offers_it(client: Client, db) -> None:
    login = client.get(reverse("login")).content.decode()

    assert f'href="{reverse("signup")}"' in login
