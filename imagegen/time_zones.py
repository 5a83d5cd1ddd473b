"""Each person's time zone: detected by the browser at sign-in, kept on their profile, changed on
the settings page, and made Django's current time zone for each of their requests, so every
date shown, every date filter (gallery.filters.start_of) and every share expiry is theirs."""

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from imagegen.models import Profile
from imagegen.models.people import is_time_zone

SESSION_KEY = "time_zone"  # the profile's zone, read once per session ("" for the server's)
DETECTED = "time_zone"  # the hidden field the sign-in and sign-up forms fill from the browser


class PersonTimeZoneMiddleware:
    """Activates the signed-in person's time zone for the request (after authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = ""
        if request.user.is_authenticated:
            if SESSION_KEY not in request.session:
                request.session[SESSION_KEY] = Profile.of(request.user).time_zone
            name = request.session[SESSION_KEY]
        if is_time_zone(name):
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()  # the server's TIME_ZONE
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


@receiver(user_logged_in)
def remember_detected_time_zone(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """At sign-in, the browser's zone becomes the person's unless they chose one themselves."""
    if request is None:
        return
    profile = Profile.of(user)
    detected = request.POST.get(DETECTED, "") if request.method == "POST" else ""
    keep_as_is = profile.time_zone_chosen or profile.time_zone == detected
    if is_time_zone(detected) and not keep_as_is:
        profile.time_zone = detected
        profile.save(update_fields=["time_zone"])
    request.session[SESSION_KEY] = profile.time_zone


def remember_chosen(request: HttpRequest, profile: Profile) -> None:
    """After the settings page saved a zone: this session uses it from the next request on."""
    request.session[SESSION_KEY] = profile.time_zone
