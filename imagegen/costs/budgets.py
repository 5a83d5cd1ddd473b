"""Budgets and limits, checked before a job is queued (so before anything goes upstream).

A person's limits (`Allowance`, set in admin) are a monthly spend cap, a daily image cap and a
submit rate (jobs per minute). The check counts what is already committed: finished jobs at
their cost and images returned, queued and running ones at their estimate and the images they
asked for. It runs inside the transaction that creates the job, holding a lock on the person's
row (PostgreSQL) or the database's write lock (SQLite opens every transaction IMMEDIATE), so
parallel submits are counted one after another and can never overshoot together.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, Q, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from imagegen.costs.money import format_money
from imagegen.models import UNFINISHED, Allowance, Generation, Limits, PersonalKey, Profile

RATE_WINDOW = timedelta(minutes=1)


class OverLimit(Exception):
    """A job would go past one of the person's limits; `message` says which and when it resets
    (translated, safe to show)."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit  # "monthly_spend_cap", "daily_image_cap", "jobs_per_minute", "key"
        self.message = message


@dataclass(frozen=True)
class Standing:
    """Where a person stands against their limits now (for the estimate and the usage page)."""

    limits: Limits
    spent_this_month: Decimal
    images_today: int
    jobs_last_minute: int
    month_resets: datetime
    day_resets: datetime

    @property
    def spend_left(self) -> Decimal | None:
        cap = self.limits.monthly_spend_cap
        return None if cap is None else max(Decimal(0), cap - self.spent_this_month)

    @property
    def images_left(self) -> int | None:
        cap = self.limits.daily_image_cap
        return None if cap is None else max(0, cap - self.images_today)


def person_zone(owner: Any) -> zoneinfo.ZoneInfo | Any:
    name = Profile.of(owner).time_zone
    try:
        return zoneinfo.ZoneInfo(name) if name else timezone.get_default_timezone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def standing_of(owner: Any, now: datetime | None = None, limits: Limits | None = None) -> Standing:
    now = now or timezone.now()
    local = timezone.localtime(now, person_zone(owner))
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    jobs = Generation.objects.for_user(owner).filter(
        created_at__gte=min(month_start, now - RATE_WINDOW)
    )
    # What the site pays: jobs on the person's own key are billed to them.
    site_pays = Q(on_own_key=False)
    counted = site_pays & Q(cost_currency__in=["", settings.BUDGET_CURRENCY])
    this_month, today = Q(created_at__gte=month_start), Q(created_at__gte=day_start)
    unfinished = Q(status__in=UNFINISHED)
    images_asked = Coalesce(Cast(KT("parameters__n"), IntegerField()), Value(1))
    # One query, so one snapshot: read in two, a job finishing between them (READ COMMITTED
    # sees each statement's own commits) was counted neither as finished nor as on its way,
    # and a simultaneous submit slipped past the cap (CI saw 11 accepted under a cap of 10).
    totals = jobs.aggregate(
        spent=Sum("cost", filter=~unfinished & this_month & counted & Q(cost__isnull=False)),
        held=Sum("estimated_cost", filter=unfinished & this_month & site_pays),
        images=Sum("images_returned", filter=~unfinished & today),
        asked=Sum(images_asked, filter=unfinished & today),
        recent=Count("id", filter=Q(created_at__gt=now - RATE_WINDOW)),
    )
    return Standing(
        limits=limits or Allowance.objects.limits_for(owner),
        spent_this_month=(totals["spent"] or Decimal(0)) + (totals["held"] or Decimal(0)),
        images_today=(totals["images"] or 0) + (totals["asked"] or 0),
        jobs_last_minute=totals["recent"],
        month_resets=next_month.replace(tzinfo=day_start.tzinfo),
        day_resets=timezone.localtime(day_start + timedelta(days=1), day_start.tzinfo),
    )


def hold_for_person(owner: Any) -> None:
    """Inside the job's transaction: wait for any other submit of this person to commit, so
    each check sees the jobs the others made (PostgreSQL; SQLite's write lock already does)."""
    get_user_model().objects.select_for_update().filter(pk=owner.pk).exists()


def check_limits(
    owner: Any,
    *,
    images: int,
    estimate: Decimal | None,
    currency: str,
    has_price: bool,
    own_key: bool = False,
) -> None:
    """Raise OverLimit if one more job of `images` images at `estimate` would pass a limit. A
    job on the person's own key is billed to them: the site's spend cap does not apply to it
    (the image cap and the submit rate do: they guard the studio, not the bill)."""
    limits = Allowance.objects.limits_for(owner)
    if not limits.site_key_allowed and not PersonalKey.objects.filter(user=owner).exists():
        raise OverLimit(
            "key",
            _(
                "Add your own CometAPI key in Settings to generate: this site's key is not "
                "offered to you."
            ),
        )
    if limits == Limits(site_key_allowed=limits.site_key_allowed):
        return  # no limit set: nothing to count
    standing = standing_of(owner, limits=limits)
    rate = limits.jobs_per_minute
    if rate is not None and standing.jobs_last_minute + 1 > rate:
        oldest = (
            Generation.objects.for_user(owner)
            .filter(created_at__gt=timezone.now() - RATE_WINDOW)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        wait = max(
            1, int(((oldest or timezone.now()) + RATE_WINDOW - timezone.now()).total_seconds()) + 1
        )
        raise OverLimit(
            "jobs_per_minute",
            ngettext(
                "You can submit %(rate)s job a minute; try again in %(seconds)s seconds.",
                "You can submit %(rate)s jobs a minute; try again in %(seconds)s seconds.",
                rate,
            )
            % {"rate": number_format(rate), "seconds": number_format(wait)},
        )
    cap = limits.daily_image_cap
    if cap is not None and standing.images_today + images > cap:
        raise OverLimit(
            "daily_image_cap",
            _(
                "This would pass your daily image cap of %(cap)s (%(used)s used today, "
                "%(asked)s asked for). It resets at %(time)s."
            )
            % {
                "cap": number_format(cap),
                "used": number_format(standing.images_today),
                "asked": number_format(images),
                "time": _when(standing.day_resets),
            },
        )
    spend = limits.monthly_spend_cap
    if spend is None or own_key or currency not in ("", settings.BUDGET_CURRENCY):
        return
    if not has_price:
        raise OverLimit(
            "monthly_spend_cap",
            _(
                "This model has no known price, so it cannot be counted against your "
                "monthly budget."
            ),
        )
    if standing.spent_this_month + (estimate or Decimal(0)) > spend:
        raise OverLimit(
            "monthly_spend_cap",
            _(
                "This would pass your monthly budget of %(cap)s (%(spent)s spent or on its way, "
                "this one about %(estimate)s). It resets on %(day)s."
            )
            % {
                "cap": format_money(spend, settings.BUDGET_CURRENCY),
                "spent": format_money(standing.spent_this_month, settings.BUDGET_CURRENCY),
                "estimate": format_money(estimate or 0, settings.BUDGET_CURRENCY),
                "day": date_format(standing.month_resets, "DATE_FORMAT"),
            },
        )


def _when(moment: datetime) -> str:
    return f"{date_format(moment, 'TIME_FORMAT')}, {date_format(moment, 'DATE_FORMAT')}"
