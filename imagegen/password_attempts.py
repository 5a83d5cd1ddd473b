"""How many passwords may be guessed: the only code that knows the policy, and the forms and pages
that apply it: sign-in and "Change password" ("Delete my account" applies it too:
imagegen/account_data_views.py).

Wrong passwords are rows (FailedPasswordAttempt), so the limits hold across every web process
and machine. Within a sliding window of PASSWORD_ATTEMPT_WINDOW seconds, a password is not even
checked once there were PASSWORD_ATTEMPTS_PER_ADDRESS wrong ones for that account from that
address, PASSWORD_ATTEMPTS_PER_ACCOUNT for it from anywhere (a guesser who changes addresses
still stops; locking a person out takes many guesses and lasts only the window), or
PASSWORD_ATTEMPTS_PER_ADDRESS_ALL_ACCOUNTS from that address for any accounts (credential
stuffing). A right password forgets that account's failures from that address. The count is
shared by sign-in, "Change password" and "Delete my account": all guess the same password.
"""

import ipaddress
import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext, ngettext_lazy
from django.views.decorators.debug import sensitive_variables

from imagegen.models import FailedPasswordAttempt

logger = logging.getLogger(__name__)

SIGN_IN = FailedPasswordAttempt.Purpose.SIGN_IN
DELETE_ACCOUNT = FailedPasswordAttempt.Purpose.DELETE_ACCOUNT
CHANGE_PASSWORD = FailedPasswordAttempt.Purpose.CHANGE_PASSWORD
USERNAME_LENGTH = FailedPasswordAttempt._meta.get_field("username").max_length


def client_address(request: HttpRequest) -> str | None:
    """The address a request came from: REMOTE_ADDR or, behind our nginx (BEHIND_TLS_PROXY), the
    last X-Forwarded-For entry: the one nginx appended. The entries before it are whatever the
    client sent, so they are never read. None when it is not an IP address."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.BEHIND_TLS_PROXY and (forwarded := request.META.get("HTTP_X_FORWARDED_FOR")):
        address = forwarded.rsplit(",", 1)[-1]
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    # An IPv4 client of a dual-stack socket (::ffff:192.0.2.1) counts as itself.
    return str(getattr(ip, "ipv4_mapped", None) or ip)


def normalised(username: str) -> str:
    """The account as counted: "Alice " and "alice" are guesses at the same one."""
    return username.strip().casefold()[:USERNAME_LENGTH]


def attempt(username: str, address: str | None, purpose: str) -> int | None:
    """Counts a password attempt, as a failure until forget() says the password was right.
    Returns None when the password may be checked, else the seconds to wait: then the password
    must not be checked at all, and this attempt is not counted (a refusal does not prolong the
    lock). Counting before checking lets guesses sent at the same moment see each other."""
    username = normalised(username)
    window = timedelta(seconds=settings.PASSWORD_ATTEMPT_WINDOW)
    FailedPasswordAttempt.objects.filter(attempted_at__lte=timezone.now() - window).delete()
    this = FailedPasswordAttempt.objects.create(username=username, address=address, purpose=purpose)
    lock_ends = _lock_ends(username, address, window)
    if lock_ends is None:
        return None
    this.delete()
    wait = max(1, math.ceil((lock_ends - timezone.now()).total_seconds()))
    logger.warning(
        "Too many wrong passwords: %s refused for %r from %s for %d s",
        purpose, username, address, wait,
    )  # fmt: skip
    return wait


def _lock_ends(username: str, address: str | None, window: timedelta) -> datetime | None:
    """When no limit would refuse the attempt just counted any more (None: none refuses it).
    A limit of n refuses the (n+1)-th attempt in the window, until the n-th before it is old."""
    recent = FailedPasswordAttempt.objects.since(timezone.now() - window)
    limits = [
        (recent.filter(username=username, address=address), settings.PASSWORD_ATTEMPTS_PER_ADDRESS),
        (recent.filter(username=username), settings.PASSWORD_ATTEMPTS_PER_ACCOUNT),
        (recent.filter(address=address), settings.PASSWORD_ATTEMPTS_PER_ADDRESS_ALL_ACCOUNTS),
    ]
    ends = [
        nth_before + window
        for attempts, limit in limits
        if limit and (nth_before := attempts.nth_newest_time(limit + 1))
    ]
    return max(ends, default=None)


def forget(username: str, address: str | None) -> None:
    """After a right password: that account's failures from that address no longer count."""
    FailedPasswordAttempt.objects.filter(username=normalised(username), address=address).delete()


class TooManyAttempts(ValidationError):
    """A password refused unchecked; `wait` is the seconds until one may be tried again."""

    def __init__(self, message: str, wait: int) -> None:
        super().__init__(message, code="too_many_attempts")
        self.wait = wait


@sensitive_variables()
def check_limited[T](
    username: str, address: str | None, purpose: str, check: Callable[[], T], refusal: Any
) -> T:
    """The one sequence every password form follows: count the attempt; while guessing is
    limited raise TooManyAttempts (`refusal`, an ngettext_lazy keyed by "count", says in how
    many minutes) without checking; else `check()`, which raises on a wrong password (the
    attempt stays counted); a right one forgets this account's failures from this address."""
    wait = attempt(username, address, purpose)
    if wait is not None:
        raise TooManyAttempts(refusal % {"count": math.ceil(wait / 60)}, wait)
    checked = check()
    forget(username, address)
    return checked


def answer(response: HttpResponse, form: Form) -> HttpResponse:
    """A page that drew a form again: 429 with Retry-After when its password was refused
    unchecked, as it is otherwise."""
    refusals = [
        error.wait
        for errors in form.errors.as_data().values()
        for error in errors
        if isinstance(error, TooManyAttempts)
    ]
    if refusals:
        response.status_code = 429
        response["Retry-After"] = str(max(refusals))
    return response


class LimitedSignIn(Form):
    """Mixed into Django's sign-in forms (this page's, the admin's): while guessing is refused
    the password is not checked at all, so a refusal costs no hashing and tells nothing."""

    request: HttpRequest
    refusal = ngettext_lazy(
        "Too many attempts to sign in. Try again in %(count)d minute.",
        "Too many attempts to sign in. Try again in %(count)d minutes.",
        "count",
    )

    @sensitive_variables()
    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username is None or not self.cleaned_data.get("password"):
            return super().clean()  # a field is missing: there is nothing to check
        address = client_address(self.request)
        return check_limited(username, address, SIGN_IN, super().clean, self.refusal)


class SignInForm(LimitedSignIn, AuthenticationForm):
    pass


class SignInView(LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form: SignInForm) -> HttpResponse:
        return answer(super().form_invalid(form), form)


class LimitedPasswordChange(PasswordChangeForm):
    """Django's "Change password" form, its old password limited as sign-in is (the same count:
    whoever holds a signed-in session could otherwise guess it at leisure)."""

    refusal = ngettext_lazy(
        "Too many wrong passwords. Try again in %(count)d minute.",
        "Too many wrong passwords. Try again in %(count)d minutes.",
        "count",
    )

    def __init__(self, user: Any, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.address = client_address(request)

    @sensitive_variables()
    def clean_old_password(self) -> str:
        username = self.user.get_username()
        return check_limited(
            username, self.address, CHANGE_PASSWORD, super().clean_old_password, self.refusal
        )


class ChangePasswordView(PasswordChangeView):
    """Settings → Password. Django's view keeps this session signed in (the new password's
    hash) and so signs every other session of the person out."""

    form_class = LimitedPasswordChange
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("account_settings")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form: LimitedPasswordChange) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(
            self.request,
            gettext("Your password is changed. Your other devices are signed out."),
        )
        return response

    def form_invalid(self, form: LimitedPasswordChange) -> HttpResponse:
        return answer(super().form_invalid(form), form)
