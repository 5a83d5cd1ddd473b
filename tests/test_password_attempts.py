"""Password guessing is limited (imagegen/password_attempts.py): at sign-in, on "Delete my account"
and at the admin's sign-in, counted in the database per account and address, per account and per
address, over a sliding window; while refused, the password is not even checked."""

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse

from gallery.models import Image
from imagegen import password_attempts
from imagegen.models import FailedPasswordAttempt
from tests.conftest import PASSWORD, CommittingClient

pytestmark = pytest.mark.django_db

HOME = "203.0.113.5"
CAFE = "198.51.100.7"
REFUSED = "Too many attempts to sign in. Try again in 15 minutes."
WRONG = "Please enter a correct username and password."
SECRET_GUESS = "hunter2-guess"


def sign_in(
    client: Client, password: str, username: str = "alice", address: str = HOME, **headers: Any
) -> Any:
    data = {"username": username, "password": password}
    return client.post(reverse("login"), data, REMOTE_ADDR=address, headers=headers)


def signed_in(client: Client) -> bool:
    return client.get(reverse("image_list")).status_code == 200


def guess_wrong(times: int, username: str = "alice", address: str = HOME) -> None:
    for _ in range(times):
        response = sign_in(Client(), SECRET_GUESS, username, address)
        assert response.status_code == 200
        assert WRONG in response.content.decode()


def age_attempts(seconds: float) -> None:
    """As if every attempt so far had been made this many seconds earlier."""
    earlier = F("attempted_at") - timedelta(seconds=seconds)
    FailedPasswordAttempt.objects.update(attempted_at=earlier)


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The usernames whose password was checked (hashed), in order."""
    checked: list[str] = []
    check_password = User.check_password

    def counted(user: User, raw_password: str) -> bool:
        checked.append(user.username)
        return check_password(user, raw_password)

    monkeypatch.setattr(User, "check_password", counted)
    return checked


def test_after_five_wrong_passwords_even_the_right_one_is_refused_unchecked(
    alice, password_checks
) -> None:
    guess_wrong(5)
    assert password_checks == ["alice"] * 5
    client = Client()
    response = sign_in(client, PASSWORD)
    assert response.status_code == 429
    assert 850 < int(response["Retry-After"]) <= 900
    page = response.content.decode()
    assert REFUSED in page
    assert 'value="alice"' in page  # the username typed stays in its field
    assert PASSWORD not in page
    assert password_checks == ["alice"] * 5  # no hashing while refused
    assert not signed_in(client)
    assert FailedPasswordAttempt.objects.count() == 5  # a refusal does not prolong the lock


def test_another_address_can_still_sign_in(alice) -> None:
    guess_wrong(5, address=HOME)
    client = Client()
    assert sign_in(client, PASSWORD, address=CAFE).status_code == 302
    assert signed_in(client)


def test_twenty_wrong_passwords_from_many_addresses_lock_the_account_everywhere(
    alice, bob, password_checks
) -> None:
    for number in range(20):
        guess_wrong(1, address=f"192.0.2.{number + 1}")
    response = sign_in(Client(), PASSWORD, address=CAFE)
    assert response.status_code == 429
    assert REFUSED in response.content.decode()
    assert password_checks.count("alice") == 20
    assert sign_in(Client(), PASSWORD, username="bob", address=CAFE).status_code == 302


def test_fifty_wrong_passwords_from_one_address_over_many_accounts_stop_it(bob) -> None:
    for number in range(10):
        guess_wrong(5, username=f"someone-{number}", address=HOME)
    assert sign_in(Client(), PASSWORD, username="bob", address=HOME).status_code == 429
    assert sign_in(Client(), PASSWORD, username="bob", address=CAFE).status_code == 302


def test_the_account_counts_however_its_name_is_typed(alice) -> None:
    for typed in ("ALICE", " Alice", "alice ", "aLiCe", "alice"):
        sign_in(Client(), SECRET_GUESS, username=typed)
    assert set(FailedPasswordAttempt.objects.values_list("username", flat=True)) == {"alice"}
    assert sign_in(Client(), PASSWORD).status_code == 429


def test_a_right_password_forgets_the_failures_from_that_address_only(alice) -> None:
    guess_wrong(4, address=HOME)
    guess_wrong(2, address=CAFE)
    assert sign_in(Client(), PASSWORD, address=HOME).status_code == 302
    assert list(FailedPasswordAttempt.objects.values_list("address", flat=True)) == [CAFE] * 2
    guess_wrong(5, address=HOME)  # a fresh allowance from home
    assert sign_in(Client(), PASSWORD, address=HOME).status_code == 429


def test_the_lock_ends_when_the_window_has_passed(alice) -> None:
    guess_wrong(5)
    age_attempts(10 * 60)
    response = sign_in(Client(), PASSWORD)
    assert "Try again in 5 minutes." in response.content.decode()
    age_attempts(4 * 60 + 30)
    response = sign_in(Client(), PASSWORD)
    assert "Try again in 1 minute." in response.content.decode()
    age_attempts(31)
    client = Client()
    assert sign_in(client, PASSWORD).status_code == 302
    assert signed_in(client)


def test_attempts_older_than_the_window_are_deleted_as_new_ones_come(alice, bob) -> None:
    guess_wrong(3)
    age_attempts(900)
    guess_wrong(1, username="bob")
    assert list(FailedPasswordAttempt.objects.values_list("username", flat=True)) == ["bob"]


def test_the_window_and_limits_are_settings(alice, settings) -> None:
    settings.PASSWORD_ATTEMPT_WINDOW = 60
    settings.PASSWORD_ATTEMPTS_PER_ADDRESS = 2
    guess_wrong(2)
    response = sign_in(Client(), PASSWORD)
    assert "Try again in 1 minute." in response.content.decode()
    settings.PASSWORD_ATTEMPTS_PER_ADDRESS = 0  # no such limit
    guess_wrong(10)
    settings.PASSWORD_ATTEMPTS_PER_ACCOUNT = 0
    guess_wrong(20, address=CAFE)
    assert sign_in(Client(), PASSWORD).status_code == 302


def test_x_forwarded_for_is_ignored_unless_behind_the_proxy(alice, settings) -> None:
    settings.BEHIND_TLS_PROXY = False
    for number in range(5):
        sign_in(Client(), SECRET_GUESS, address=HOME, x_forwarded_for=f"192.0.2.{number}")
    assert set(FailedPasswordAttempt.objects.values_list("address", flat=True)) == {HOME}
    response = sign_in(Client(), PASSWORD, address=HOME, x_forwarded_for="192.0.2.99")
    assert response.status_code == 429


def test_behind_the_proxy_the_address_it_appended_counts_and_not_what_the_client_sent(
    alice, settings
) -> None:
    settings.BEHIND_TLS_PROXY = True
    proxy = "127.0.0.1"
    for number in range(5):  # a client forging a new address each time, left of nginx's
        forged = f"192.0.2.{number}, {CAFE}"
        sign_in(Client(), SECRET_GUESS, address=proxy, x_forwarded_for=forged)
    assert set(FailedPasswordAttempt.objects.values_list("address", flat=True)) == {CAFE}
    forged = f"192.0.2.99, {CAFE}"
    assert sign_in(Client(), PASSWORD, address=proxy, x_forwarded_for=forged).status_code == 429
    elsewhere = f"{CAFE}, {HOME}"
    assert sign_in(Client(), PASSWORD, address=proxy, x_forwarded_for=elsewhere).status_code == 302


@pytest.mark.parametrize(
    ("remote_addr", "forwarded", "behind_proxy", "address"),
    [
        ("10.0.0.2", "", False, "10.0.0.2"),
        ("10.0.0.2", "192.0.2.1", False, "10.0.0.2"),
        ("10.0.0.2", "192.0.2.1,198.51.100.7", True, "198.51.100.7"),
        ("10.0.0.2", "", True, "10.0.0.2"),  # not through nginx: the peer itself
        ("::ffff:192.0.2.1", "", False, "192.0.2.1"),
        ("2001:DB8::1", "", False, "2001:db8::1"),
        ("10.0.0.2", "192.0.2.1, not-an-address", True, None),
        ("", "", False, None),
    ],
)
def test_the_client_address(
    settings, remote_addr: str, forwarded: str, behind_proxy: bool, address: str | None
) -> None:
    settings.BEHIND_TLS_PROXY = behind_proxy
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr)
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    assert password_attempts.client_address(request) == address


def test_each_refusal_is_logged_once_and_no_password_is_logged_or_kept(
    alice, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        guess_wrong(5, username="Alice")
        sign_in(Client(), PASSWORD, username="Alice")
    refusals = [r for r in caplog.records if r.name == "imagegen.password_attempts"]
    assert len(refusals) == 1
    assert refusals[0].levelno == logging.WARNING
    line = refusals[0].getMessage()
    assert "'alice'" in line and HOME in line and "sign_in" in line
    for record in caplog.records:
        assert SECRET_GUESS not in record.getMessage()
        assert PASSWORD not in record.getMessage()
    for row in FailedPasswordAttempt.objects.values():
        assert SECRET_GUESS not in str(row) and PASSWORD not in str(row)


def delete_account(client: Client, password: str, address: str = HOME) -> Any:
    return client.post(reverse("account_delete"), {"password": password}, REMOTE_ADDR=address)


def test_delete_my_account_is_limited_the_same_way_and_deletes_nothing_when_refused(
    alice, alice_client, make_image, password_checks
) -> None:
    make_image(alice)
    for _ in range(5):
        assert delete_account(alice_client, SECRET_GUESS).status_code == 400
    response = delete_account(alice_client, PASSWORD)
    assert response.status_code == 429
    assert 850 < int(response["Retry-After"]) <= 900
    page = response.content.decode()
    assert "Too many wrong passwords. Try again in 15 minutes. Nothing was deleted." in page
    assert PASSWORD not in page
    assert password_checks == ["alice"] * 5
    assert User.objects.filter(pk=alice.pk).exists()
    assert Image.objects.filter(owner=alice).count() == 1
    assert signed_in(alice_client)
    assert set(FailedPasswordAttempt.objects.values_list("purpose", flat=True)) == {
        "delete_account"
    }
    # From another address the right password deletes.
    assert delete_account(alice_client, PASSWORD, address=CAFE)["Location"] == reverse(
        "account_deleted"
    )
    assert not User.objects.filter(pk=alice.pk).exists()


def test_sign_in_and_delete_my_account_share_one_count(alice, alice_client) -> None:
    guess_wrong(3)
    for _ in range(2):
        delete_account(alice_client, SECRET_GUESS)
    assert delete_account(alice_client, PASSWORD).status_code == 429
    assert sign_in(Client(), PASSWORD).status_code == 429
    assert User.objects.filter(pk=alice.pk).exists()


def test_a_right_password_to_delete_forgets_the_failures_too(alice, alice_client) -> None:
    guess_wrong(4)
    delete_account(alice_client, PASSWORD)
    assert not FailedPasswordAttempt.objects.exists()


def test_the_admins_sign_in_is_limited_too(admin_user, password_checks) -> None:
    url = reverse("admin:login")
    for _ in range(5):
        Client().post(url, {"username": "admin", "password": SECRET_GUESS}, REMOTE_ADDR=HOME)
    client = Client()
    response = client.post(url, {"username": "admin", "password": "password"}, REMOTE_ADDR=HOME)
    assert REFUSED in response.content.decode()
    assert password_checks == ["admin"] * 5
    assert client.get(reverse("admin:index")).status_code == 302  # still signed out


def test_the_admin_lists_attempts_read_only_and_deleting_them_lifts_the_lock(
    admin_client, alice
) -> None:
    guess_wrong(5)
    guess_wrong(1, username="bob", address=CAFE)
    changelist = reverse("admin:imagegen_failedpasswordattempt_changelist")
    page = admin_client.get(changelist).content.decode()
    assert "alice" in page and HOME in page and "bob" in page
    assert "To lift a lock" in page
    assert reverse("admin:imagegen_failedpasswordattempt_add") not in page
    assert admin_client.get(reverse("admin:imagegen_failedpasswordattempt_add")).status_code == 403
    found = admin_client.get(changelist, {"q": "203.0.113"}).context["cl"].result_list
    assert {row.username for row in found} == {"alice"}
    deleting = admin_client.get(changelist, {"purpose__exact": "delete_account"})
    assert list(deleting.context["cl"].result_list) == []
    row = FailedPasswordAttempt.objects.filter(username="alice").first()
    detail = admin_client.get(
        reverse("admin:imagegen_failedpasswordattempt_change", args=[row.pk])
    ).content.decode()
    assert 'name="_save"' not in detail
    alices = FailedPasswordAttempt.objects.filter(username="alice").values_list("pk", flat=True)
    response = admin_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": list(alices), "post": "yes"},
    )
    assert response.status_code == 302
    assert list(FailedPasswordAttempt.objects.values_list("username", flat=True)) == ["bob"]
    assert sign_in(CommittingClient(), PASSWORD).status_code == 302


def test_the_refusal_is_in_the_persons_language(alice) -> None:
    guess_wrong(5)
    response = sign_in(Client(), PASSWORD, accept_language="ja")
    assert "15分後にもう一度お試しください" in response.content.decode()
