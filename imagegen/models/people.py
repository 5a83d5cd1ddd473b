"""What the studio keeps about a person beyond their account: their time zone."""

import zoneinfo
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


@cache
def time_zone_names() -> list[str]:
    """Every IANA time zone this machine knows (tzdata), sorted."""
    return sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})


@cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(time_zone_names())


def is_time_zone(name: str) -> bool:
    """Whether `name` is a time zone this machine knows (asked on every signed-in request)."""
    return name in _known_time_zones()


def validate_time_zone(name: str) -> None:
    if not is_time_zone(name):
        raise ValidationError(_("“%(name)s” is not a time zone."), params={"name": name})


class Profile(models.Model):
    """One per person, made when first needed (see imagegen/time_zones.py)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("person"),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_(
            "Dates are shown, filtered and set in it. Empty: the browser's at the next sign-in, "
            "else the server's (TIME_ZONE)."
        ),
    )
    time_zone_chosen = models.BooleanField(
        _("time zone chosen"),
        default=False,
        help_text=_("Chosen on the settings page: a sign-in from elsewhere does not change it."),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)

    @classmethod
    def of(cls, user: Any) -> "Profile":
        profile, _created = cls.objects.get_or_create(user=user)
        return profile
