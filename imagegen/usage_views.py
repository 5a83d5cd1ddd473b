"""The usage page: what a person spent and made, day by day and model by model, as charts and a
table, with this month's totals, their budget, and a CSV of the same rows. Staff may look at
one person (`?person=<id>`) or everyone (`?everyone=1`); for anyone else those do not exist."""

import csv
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.text import slugify
from django.utils.translation import get_language_bidi, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from imagegen.costs.budgets import Standing, standing_of
from imagegen.costs.charts import Chart, count_label, money_label, stacked_bars
from imagegen.costs.money import format_money
from imagegen.costs.usage import PERIODS, Usage, usage_of
from imagegen.models import ImageModel

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula


@dataclass(frozen=True)
class Scope:
    """Whose usage: a person, or everyone (owner None); `query` keeps it in the page's links."""

    owner: Any | None
    query: dict[str, str] = field(default_factory=dict)


@require_GET
def usage(request: HttpRequest) -> HttpResponse:
    scope, days = _scope(request), _days(request)
    labels = dict(ImageModel.objects.values_list("name", "label"))
    report = usage_of(scope.owner, days).labelled(labels)
    standing = standing_of(scope.owner) if scope.owner is not None else None
    context = {
        "report": report,
        "days": days,
        "periods": PERIODS,
        "scope": scope,
        "own": scope.owner == request.user,
        "charts": _charts(report) if not report.is_empty else None,
        "budget": _budget_lines(standing) if standing else [],
    }
    return render(request, "imagegen/usage.html", context)


@require_GET
def usage_csv(request: HttpRequest) -> HttpResponse:
    scope, days = _scope(request), _days(request)
    report = usage_of(scope.owner, days)
    who = "everyone" if scope.owner is None else slugify(scope.owner.get_username()) or "person"
    today = timezone.localdate().isoformat()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"usage-{who}-{days}-days-to-{today}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(["date", "model", "images", "cost", "currency"])
    for row in sorted(report.rows, key=lambda row: (row.day, row.model, row.currency)):
        cost = "" if row.cost is None else str(row.cost)
        writer.writerow([row.day.isoformat(), _cell(row.model), row.images, cost, row.currency])
    return response


def _scope(request: HttpRequest) -> Scope:
    person, everyone = request.GET.get("person"), request.GET.get("everyone")
    if person is None and everyone is None:
        return Scope(request.user)
    if not request.user.is_staff:
        raise Http404
    if everyone == "1" and person is None:
        return Scope(None, {"everyone": "1"})
    if not (person or "").isdigit():
        raise Http404
    owner = get_object_or_404(get_user_model(), pk=int(person))
    return Scope(owner, {"person": str(owner.pk)})


def _days(request: HttpRequest) -> int:
    asked = request.GET.get("days", "")
    return int(asked) if asked in {str(days) for days in PERIODS} else PERIODS[0]


def _cell(text: str) -> str:
    """A name a spreadsheet would otherwise take for a formula is written as text."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _charts(report: Usage) -> dict[str, Chart]:
    rtl = get_language_bidi()
    span = {
        "first": date_format(report.days[0], "MONTH_DAY_FORMAT"),
        "last": date_format(report.days[-1], "MONTH_DAY_FORMAT"),
    }
    if rtl:
        about = _("One bar a day, from %(first)s to %(last)s, newest on the left.") % span
    else:
        about = _("One bar a day, from %(first)s to %(last)s, newest on the right.") % span
    about += " " + _("Each bar stacks the models; the table “Usage by day” has the same numbers.")

    labels = {row.model: row.shown_model for row in report.rows}

    def chart(chart_id: str, title: str, measure: str, **drawing: Any) -> Chart:
        series = [(labels[model], report.per_day(model, measure)) for model in report.models]
        return stacked_bars(chart_id, title, about, report.days, series, rtl=rtl, **drawing)

    return {
        "spend": chart(
            "usage-spend",
            _("Spend per day (%(currency)s)") % {"currency": report.currency},
            "cost",
            whole=False,
            label=money_label(report.currency),
        ),
        "images": chart(
            "usage-images", _("Images per day"), "images", whole=True, label=count_label
        ),
    }


def _budget_lines(standing: Standing) -> list[str]:
    """Where the person stands against their limits, as sentences."""
    currency = settings.BUDGET_CURRENCY
    spent = format_money(standing.spent_this_month, currency)
    cap = standing.limits.monthly_spend_cap
    if cap is None:
        month = _("%(spent)s spent this month; no monthly budget is set.") % {"spent": spent}
    else:
        month = _("%(spent)s of %(cap)s this month; it resets on %(day)s.") % {
            "spent": spent,
            "cap": format_money(cap, currency),
            "day": date_format(standing.month_resets, "DATE_FORMAT"),
        }
    images = standing.images_today
    daily = standing.limits.daily_image_cap
    if daily is None:
        today = ngettext(
            "%(count)s image today; no daily cap is set.",
            "%(count)s images today; no daily cap is set.",
            images,
        ) % {"count": number_format(images)}
    else:
        today = ngettext(
            "%(count)s of %(cap)s image today; the count resets at %(time)s.",
            "%(count)s of %(cap)s images today; the count resets at %(time)s.",
            daily,
        ) % {
            "count": number_format(images),
            "cap": number_format(daily),
            "time": date_format(standing.day_resets, "TIME_FORMAT"),
        }
    return [month, today]
