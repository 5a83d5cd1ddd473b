"""What people spent and made, day by day and model by model: the usage page's numbers.

Days are the viewer's: the active time zone decides which day a job falls on (a job at 23:30 in
Tokyo is that day in Tokyo). Two queries whatever the period: the days and models of the period,
and the totals of this month and the last. A job counts once the upstream answered: its images
returned, and its cost when that is known from usage or the price (a job that was not billed,
or whose model has no price, adds no cost). A failed job the upstream billed counts too, and is
counted apart as a billed failure.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Case, Count, DateField, F, Func, Q, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from imagegen.costs.rules import PLACES
from imagegen.models import Generation

PERIODS = (30, 90)  # the days a person can look back over
COSTED = Q(cost_basis__in=[Generation.CostBasis.USAGE, Generation.CostBasis.PRICE])
BILLED_FAILURE = Q(status=Generation.Status.FAILED, cost__gt=0)


@dataclass(frozen=True)
class DayUsage:
    """One model on one day: images returned, and their cost (None: not known)."""

    day: date
    model: str
    images: int
    cost: Decimal | None
    currency: str
    label: str = ""  # the model's label in the catalogue, when the page looked it up

    @property
    def shown_model(self) -> str:
        return self.label or self.model


@dataclass(frozen=True)
class Totals:
    """Images and spend over some time; spend by currency, the budget's currency first."""

    images: int = 0
    spend: tuple[tuple[str, Decimal], ...] = ()
    billed_failures: int = 0
    failures_cost: Decimal = Decimal(0)  # in the budget's currency

    def spent(self, currency: str) -> Decimal:
        return dict(self.spend).get(currency, Decimal(0))


@dataclass(frozen=True)
class Usage:
    days: list[date]  # every day of the period, oldest first
    rows: list[DayUsage]  # the (day, model) pairs that have anything, newest day first
    models: list[str]  # most spent first (then most images)
    period: Totals
    this_month: Totals
    last_month: Totals
    currency: str = field(default_factory=lambda: settings.BUDGET_CURRENCY)

    @property
    def is_empty(self) -> bool:
        return not self.rows

    def labelled(self, labels: dict[str, str]) -> "Usage":
        """The same numbers with each model's label (`labels`: name → label; a model no longer
        in the catalogue keeps its name)."""
        rows = [replace(row, label=labels.get(row.model, "")) for row in self.rows]
        return replace(self, rows=rows)

    def per_day(self, model: str, measure: str) -> list[float]:
        """One model's images (measure "images") or spend in the budget's currency ("cost")
        on each day of the period, oldest first."""
        values = dict.fromkeys(self.days, 0.0)
        for row in self.rows:
            if row.model != model:
                continue
            if measure == "images":
                values[row.day] += row.images
            elif row.currency == self.currency and row.cost is not None:
                values[row.day] += float(row.cost)
        return list(values.values())


def usage_of(owner: Any | None, days: int, now: datetime | None = None) -> Usage:
    """The last `days` days (today included) for one person, or everyone (owner None)."""
    zone = timezone.get_current_timezone()
    now = now or timezone.now()
    today = timezone.localdate(now, zone)
    first = today - timedelta(days=days - 1)
    jobs = Generation.objects.all() if owner is None else Generation.objects.for_user(owner)
    rows, failures, failures_cost = _days(jobs, _start_of(first, zone), now, zone)
    month = today.replace(day=1)
    last_month = (month - timedelta(days=1)).replace(day=1)
    this_month_totals, last_month_totals = _months(
        jobs, _start_of(last_month, zone), _start_of(month, zone)
    )
    return Usage(
        days=[first + timedelta(days=n) for n in range(days)],
        rows=rows,
        models=_by_importance(rows),
        period=Totals(
            images=sum(row.images for row in rows),
            spend=_spend((row.currency, row.cost) for row in rows),
            billed_failures=failures,
            failures_cost=failures_cost,
        ),
        this_month=this_month_totals,
        last_month=last_month_totals,
    )


def _start_of(day: date, zone: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), zone)


def local_day(database: str, start: datetime, end: datetime, zone: Any) -> Any:
    """The day of `created_at` in `zone`, for rows from `start` to `end`. PostgreSQL converts each
    row itself (AT TIME ZONE). SQLite would call back into Python for every row (Django's
    TruncDate there: 60 ms for 5,000 jobs), so it is given the zone's offsets instead, one for
    each stretch between daylight-saving changes since `start`, and shifts by them natively."""
    if connections[database].vendor != "sqlite":
        return TruncDate("created_at", tzinfo=zone)
    stretches = _offsets_between(start, end, zone)
    # Each stretch lasts until the next one begins; the last one until now.
    whens = [
        When(created_at__lt=following[0], then=_shifted(offset))
        for (_begins, offset), following in pairwise(stretches)
    ]
    return Case(*whens, default=_shifted(stretches[-1][1]), output_field=DateField())


def _shifted(offset: timedelta) -> Func:
    seconds = int(offset.total_seconds())
    return Func(F("created_at"), Value(f"{seconds:+d} seconds"), function="date")


def _offsets_between(start: datetime, end: datetime, zone: Any) -> list[tuple[datetime, timedelta]]:
    """(from when, UTC offset) for each stretch of one offset from `start` to `end`: the
    offset is read once a day, and where it changed, the minute it changed is searched for
    (zones change on a whole minute)."""

    def offset_at(moment: datetime) -> timedelta:
        return moment.astimezone(zone).utcoffset() or timedelta(0)

    moment = start.astimezone(UTC).replace(second=0, microsecond=0)
    end = end.astimezone(UTC) + timedelta(days=1)
    stretches = [(moment, offset_at(moment))]
    while moment < end:
        following = moment + timedelta(days=1)
        if offset_at(following) != stretches[-1][1]:
            low, high = 0, 24 * 60  # minutes after `moment`: the old offset at low, new at high
            while high - low > 1:
                middle = (low + high) // 2
                if offset_at(moment + timedelta(minutes=middle)) == stretches[-1][1]:
                    low = middle
                else:
                    high = middle
            changed = moment + timedelta(minutes=high)
            stretches.append((changed, offset_at(changed)))
        moment = following
    return stretches


def _days(
    jobs: Any, start: datetime, now: datetime, zone: Any
) -> tuple[list[DayUsage], int, Decimal]:
    grouped = (
        jobs.filter(created_at__gte=start, images_returned__isnull=False)
        .annotate(day=local_day(jobs.db, start, now, zone))
        .values("day", "model_name", "cost_currency")
        .annotate(
            made=Sum("images_returned"),
            spent=Sum("cost", filter=COSTED),
            failures=Count("id", filter=BILLED_FAILURE),
            failures_spent=Sum("cost", filter=BILLED_FAILURE & _in_budget_currency()),
        )
        .order_by("-day", "model_name", "cost_currency")
    )
    rows, failures, failures_cost = [], 0, Decimal(0)
    for group in grouped:
        failures += group["failures"]
        failures_cost += _amount(group["failures_spent"] or 0)
        cost = None if group["spent"] is None else _amount(group["spent"])
        if group["made"] or cost:
            currency = group["cost_currency"] if cost is not None else ""
            rows.append(DayUsage(group["day"], group["model_name"], group["made"], cost, currency))
    return rows, failures, _amount(failures_cost)


def _months(jobs: Any, last_month: datetime, this_month: datetime) -> tuple[Totals, Totals]:
    this, last = Q(created_at__gte=this_month), Q(created_at__lt=this_month)
    grouped = (
        jobs.filter(created_at__gte=last_month, images_returned__isnull=False)
        .values("cost_currency")
        .annotate(
            made=Sum("images_returned", filter=this),
            spent=Sum("cost", filter=this & COSTED),
            failures=Count("id", filter=this & BILLED_FAILURE),
            failures_spent=Sum("cost", filter=this & BILLED_FAILURE),
            last_made=Sum("images_returned", filter=last),
            last_spent=Sum("cost", filter=last & COSTED),
            last_failures=Count("id", filter=last & BILLED_FAILURE),
            last_failures_spent=Sum("cost", filter=last & BILLED_FAILURE),
        )
        .order_by("cost_currency")
    )
    groups = list(grouped)

    def totals(prefix: str) -> Totals:
        budget = [g for g in groups if g["cost_currency"] == settings.BUDGET_CURRENCY]
        return Totals(
            images=sum(g[f"{prefix}made"] or 0 for g in groups),
            spend=_spend((g["cost_currency"], g[f"{prefix}spent"]) for g in groups),
            billed_failures=sum(g[f"{prefix}failures"] for g in groups),
            failures_cost=sum(
                (_amount(g[f"{prefix}failures_spent"] or 0) for g in budget), Decimal(0)
            ),
        )

    return totals(""), totals("last_")


def _in_budget_currency() -> Q:
    return Q(cost_currency=settings.BUDGET_CURRENCY)


def _amount(value: Any) -> Decimal:
    # SQLite sums decimals as floating point: back to the ledger's millionths.
    return Decimal(str(value)).quantize(PLACES)


def _spend(pairs: Any) -> tuple[tuple[str, Decimal], ...]:
    spend: dict[str, Decimal] = defaultdict(Decimal)
    for currency, cost in pairs:
        if currency and cost is not None:
            spend[currency] += _amount(cost)
    if settings.BUDGET_CURRENCY not in spend:
        spend[settings.BUDGET_CURRENCY] = Decimal(0)
    return tuple(sorted(spend.items(), key=lambda item: item[0] != settings.BUDGET_CURRENCY))


def _by_importance(rows: list[DayUsage]) -> list[str]:
    spend: dict[str, Decimal] = defaultdict(Decimal)
    images: dict[str, int] = defaultdict(int)
    for row in rows:
        images[row.model] += row.images
        if row.currency == settings.BUDGET_CURRENCY and row.cost is not None:
            spend[row.model] += row.cost
    return sorted(images, key=lambda model: (-spend[model], -images[model], model))
