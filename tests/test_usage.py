"""The usage page: the numbers (imagegen/costs/usage.py), the charts' geometry
(imagegen/costs/charts.py), the page and its CSV (imagegen/usage_views.py)."""

import csv
import io
import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from imagegen.costs.charts import (
    BOTTOM,
    EDGE,
    GUTTER,
    HEIGHT,
    TOP,
    WIDTH,
    count_label,
    money_label,
    nice_scale,
    stacked_bars,
)
from imagegen.costs.money import format_money
from imagegen.costs.usage import usage_of
from imagegen.models import Allowance, Generation

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 3, 12, 3, 0, tzinfo=UTC)  # noon in Tokyo, 12 March


def job(owner: User, when: datetime, model: str = "gpt-image-2", **ledger: object) -> Generation:
    """A finished job at `when`: by default two images at $0.08, priced."""
    values = {
        "status": Generation.Status.SUCCEEDED,
        "images_returned": 2,
        "cost": Decimal("0.08"),
        "cost_currency": "USD",
        "cost_basis": Generation.CostBasis.PRICE,
        **ledger,
    }
    made = Generation.objects.create(owner=owner, model_name=model, prompt="a kite", **values)
    Generation.objects.filter(pk=made.pk).update(created_at=when)
    return made


def a_moment_ago() -> datetime:
    """Five minutes ago, but never before today's midnight (the site's zone): a job made just
    after midnight is still today's, and a test run at 00:03 counts it under today."""
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(now - timedelta(minutes=5), midnight)


@pytest.fixture
def staff(db) -> Client:
    User.objects.create_user("staff", password="x", is_staff=True)
    client = Client()
    client.force_login(User.objects.get(username="staff"))
    return client


# The numbers


def test_a_job_at_half_past_eleven_in_tokyo_is_that_day_in_tokyo(alice: User) -> None:
    job(alice, datetime(2026, 3, 10, 14, 30, tzinfo=UTC))  # 23:30 in Tokyo, 10 March
    job(alice, datetime(2026, 3, 10, 15, 30, tzinfo=UTC))  # 00:30 in Tokyo, 11 March
    with timezone.override(TOKYO):
        tokyo = usage_of(alice, 30, now=NOW)
    with timezone.override(UTC):
        london = usage_of(alice, 30, now=NOW)
    assert [(row.day, row.images) for row in tokyo.rows] == [
        (date(2026, 3, 11), 2),
        (date(2026, 3, 10), 2),
    ]
    assert [(row.day, row.images) for row in london.rows] == [(date(2026, 3, 10), 4)]
    assert tokyo.days[-1] == date(2026, 3, 12)
    assert tokyo.days[0] == date(2026, 2, 11)
    assert len(tokyo.days) == 30


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Lord_Howe"])
def test_days_follow_daylight_saving_changes_in_the_period(alice: User, zone: str) -> None:
    """Jobs every 97 minutes over 40 days around the autumn (or, south, spring) change, each
    on the day its own zone says; Lord Howe changes by half an hour. On SQLite the days are
    shifted by the zone's offset for each stretch between changes (usage.local_day)."""
    place = zoneinfo.ZoneInfo(zone)
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    moments = [now - timedelta(minutes=97 * step) for step in range(1, 40 * 15)]
    for moment in moments:
        job(alice, moment, images_returned=1)
    with timezone.override(place):
        found = {row.day: row.images for row in usage_of(alice, 45, now=now).rows}
    expected: dict[date, int] = {}
    for moment in moments:
        day = moment.astimezone(place).date()
        expected[day] = expected.get(day, 0) + 1
    assert found == expected


def test_the_period_starts_at_midnight_of_its_first_day_in_the_viewers_zone(alice: User) -> None:
    job(alice, datetime(2026, 2, 10, 14, 59, tzinfo=UTC))  # 23:59 Tokyo, 10 Feb: before
    job(alice, datetime(2026, 2, 10, 15, 0, tzinfo=UTC))  # midnight Tokyo, 11 Feb: in
    with timezone.override(TOKYO):
        usage = usage_of(alice, 30, now=NOW)
    assert [(row.day, row.images) for row in usage.rows] == [(date(2026, 2, 11), 2)]


def test_spend_and_images_are_summed_by_day_and_model(alice: User) -> None:
    day = datetime(2026, 3, 11, 3, 0, tzinfo=UTC)
    job(alice, day)
    job(alice, day + timedelta(hours=1), cost=Decimal("0.04"), images_returned=1)
    job(alice, day, model="qwen-image", cost=Decimal("0.5"), images_returned=1)
    with timezone.override(TOKYO):
        usage = usage_of(alice, 30, now=NOW)
    assert [(row.model, row.images, row.cost) for row in usage.rows] == [
        ("gpt-image-2", 3, Decimal("0.12")),
        ("qwen-image", 1, Decimal("0.5")),
    ]
    assert usage.models == ["qwen-image", "gpt-image-2"]  # most spent first
    assert usage.period.images == 4
    assert usage.period.spent("USD") == Decimal("0.62")
    assert usage.per_day("gpt-image-2", "images")[-2:] == [3, 0]
    assert usage.per_day("qwen-image", "cost")[-2] == pytest.approx(0.5)


def test_unbilled_unfinished_and_unpriced_jobs(alice: User) -> None:
    day = datetime(2026, 3, 11, 3, 0, tzinfo=UTC)
    refused = {"status": Generation.Status.FAILED, "images_returned": 0, "cost": Decimal(0)}
    job(alice, day, **refused, cost_currency="", cost_basis=Generation.CostBasis.NOT_BILLED)
    job(alice, day, status=Generation.Status.RUNNING, images_returned=None, cost=None)
    unpriced = {"cost": None, "cost_currency": "", "cost_basis": Generation.CostBasis.UNKNOWN}
    job(alice, day, model="mystery", images_returned=1, **unpriced)
    with timezone.override(TOKYO):
        usage = usage_of(alice, 30, now=NOW)
    assert [(row.model, row.images, row.cost, row.currency) for row in usage.rows] == [
        ("mystery", 1, None, "")
    ]
    assert usage.period.spend == (("USD", Decimal(0)),)
    assert usage.period.billed_failures == 0


def test_a_failed_job_that_was_billed_is_counted_and_counted_apart(alice: User) -> None:
    job(alice, datetime(2026, 3, 11, 3, tzinfo=UTC), status=Generation.Status.FAILED)
    with timezone.override(TOKYO):
        usage = usage_of(alice, 30, now=NOW)
    assert usage.period.images == 2
    assert usage.period.billed_failures == 1
    assert usage.period.failures_cost == Decimal("0.08")
    assert usage.this_month.billed_failures == 1


def test_this_month_and_last_month_in_the_viewers_zone(alice: User) -> None:
    job(alice, datetime(2026, 3, 1, 1, tzinfo=UTC))  # 1 March in Tokyo
    job(alice, datetime(2026, 2, 28, 14, tzinfo=UTC), cost=Decimal("1.5"))  # 28 Feb, 23:00
    job(alice, datetime(2026, 1, 31, 14, tzinfo=UTC))  # January: neither
    job(alice, datetime(2026, 3, 2, tzinfo=UTC), cost=Decimal("2"), cost_currency="EUR")
    with timezone.override(TOKYO):
        usage = usage_of(alice, 30, now=NOW)
    assert usage.this_month.images == 4
    assert usage.this_month.spend == (("USD", Decimal("0.08")), ("EUR", Decimal("2")))
    assert usage.last_month.images == 2
    assert usage.last_month.spent("USD") == Decimal("1.5")


def test_everyone_adds_up_everyones_jobs_and_a_person_only_their_own(
    alice: User, bob: User
) -> None:
    day = datetime(2026, 3, 11, 3, tzinfo=UTC)
    job(alice, day)
    job(bob, day, cost=Decimal("1"))
    assert usage_of(None, 30, now=NOW).period.spent("USD") == Decimal("1.08")
    assert usage_of(alice, 30, now=NOW).period.spent("USD") == Decimal("0.08")


def test_it_counts_with_a_few_queries_whatever_the_period(
    alice: User, django_assert_max_num_queries
) -> None:
    for n in range(40):
        job(alice, NOW - timedelta(days=n, hours=1), model=f"model-{n % 3}")
    with django_assert_max_num_queries(2):
        usage = usage_of(alice, 90, now=NOW)
    assert usage.period.images == 80


# The charts' geometry


def test_the_value_axis_steps_are_round_numbers() -> None:
    assert nice_scale(7, whole=True) == (8, 2)
    assert nice_scale(3, whole=True) == (3, 1)
    assert nice_scale(130, whole=True) == (150, 50)
    assert nice_scale(0.62, whole=False) == (0.8, 0.2)
    assert nice_scale(0.034, whole=False) == (0.04, 0.01)
    assert nice_scale(0, whole=True) == (1, 1)


def chart(rtl: bool, series: list | None = None):
    days = [date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 12)]
    series = series or [("gpt-image-2", [2, 0, 4]), ("qwen-image", [2, 1, 0])]
    return stacked_bars("c", "Images", "", days, series, rtl=rtl, whole=True, label=count_label)


def test_bars_stack_the_models_from_the_bottom_in_proportion() -> None:
    drawn = chart(rtl=False)
    plot = HEIGHT - BOTTOM - TOP  # top of the axis is 4 images
    first, second, third = drawn.columns
    assert [s.series for s in first.segments] == [0, 1]
    bottom, above = first.segments
    assert bottom.height == pytest.approx(plot / 2)
    assert bottom.y + bottom.height == pytest.approx(HEIGHT - BOTTOM)
    assert above.y + above.height == pytest.approx(bottom.y)
    assert [s.series for s in second.segments] == [1]
    assert second.segments[0].height == pytest.approx(plot / 4)
    assert third.segments[0].height == pytest.approx(plot)
    assert [tick.label for tick in drawn.ticks] == ["0", "1", "2", "3", "4"]
    assert drawn.ticks[-1].y == pytest.approx(TOP)


def test_left_to_right_the_newest_day_is_on_the_right_and_the_axis_on_the_left() -> None:
    drawn = chart(rtl=False)
    xs = [column.segments[0].x for column in drawn.columns]
    assert xs == sorted(xs)
    assert drawn.axis_x == GUTTER
    assert drawn.tick_label_x < drawn.axis_x
    assert drawn.columns[-1].segments[0].x + drawn.columns[-1].segments[0].width <= WIDTH - EDGE
    assert drawn.day_labels[0].anchor == "end"  # the newest, growing inwards from the edge


def test_right_to_left_the_chart_is_mirrored() -> None:
    ltr, rtl = chart(rtl=False), chart(rtl=True)
    xs = [column.segments[0].x for column in rtl.columns]
    assert xs == sorted(xs, reverse=True)  # newest on the left
    assert rtl.axis_x == WIDTH - GUTTER
    assert rtl.tick_label_x > rtl.axis_x
    assert rtl.direction == "rtl"
    for left, right in zip(ltr.columns, rtl.columns, strict=True):
        for a, b in zip(left.segments, right.segments, strict=True):
            assert (a.y, a.height, a.width) == (b.y, b.height, b.width)
            assert a.x + a.width - GUTTER == pytest.approx(WIDTH - GUTTER - b.x)


def test_more_models_than_colours_are_stacked_together_as_other_models() -> None:
    series = [(f"model-{n}", [n + 1, 0, 0]) for n in range(8)]
    drawn = chart(rtl=False, series=series)
    assert drawn.legend == [*(f"model-{n}" for n in range(5)), "Other models"]
    assert drawn.columns[0].segments[-1].series == 5


def test_axis_labels_follow_the_locale() -> None:
    with translation.override("en"):
        assert money_label("USD")(1.5, 0.5) == "$1.50"
        assert money_label("USD")(0.025, 0.025) == "$0.025"
        assert money_label("USD")(2, 1) == "$2"
        assert count_label(1200, 200) == "1,200"
    with translation.override("ar"):
        assert money_label("USD")(1.5, 0.5) == "$1,50"


# The page


def test_the_page_shows_the_persons_charts_table_totals_and_budget(
    alice: User, alice_client: Client
) -> None:
    Allowance.objects.create(user=alice, monthly_spend_cap=Decimal("10"), daily_image_cap=20)
    job(alice, a_moment_ago(), model="qwen-image")
    page = alice_client.get(reverse("usage")).content.decode()
    assert 'role="img"' in page
    assert 'aria-labelledby="usage-spend-title"' in page
    assert page.count("<figure") == 2
    assert "<table>" in page and "Qwen Image" in page  # the model's label, not its id
    assert f"{format_money(Decimal('0.08'), 'USD')} of $10.00 this month" in page
    assert "2 of 20 images today" in page
    assert 'href="/usage/usage.csv?days=30"' in page
    assert 'aria-current="page">Last 30 days' in page
    assert 'href="?days=90"' in page


def test_the_days_can_be_ninety_and_anything_else_is_thirty(alice_client: Client) -> None:
    assert "Last 90 days" in alice_client.get(reverse("usage"), {"days": 90}).content.decode()
    page = alice_client.get(reverse("usage"), {"days": 90}).content.decode()
    assert 'aria-current="page">Last 90 days' in page
    page = alice_client.get(reverse("usage"), {"days": 7}).content.decode()
    assert 'aria-current="page">Last 30 days' in page


def test_with_no_jobs_yet_the_page_says_so(alice_client: Client) -> None:
    page = alice_client.get(reverse("usage")).content.decode()
    assert "Nothing in the last 30 days" in page
    assert "<svg id=" not in page and "usage.csv" not in page
    assert 'href="/generate/"' in page


def test_in_arabic_the_chart_is_drawn_right_to_left(alice: User, alice_client: Client) -> None:
    job(alice, a_moment_ago())
    page = alice_client.get(reverse("usage"), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'direction="rtl"' in page
    # Coordinates are never written with the locale's decimal comma.
    assert not re.search(r'(x|y|width|height)="\d+,\d', page)


def test_a_person_never_sees_anothers_numbers(alice: User, bob: User, alice_client: Client) -> None:
    job(bob, a_moment_ago(), model="bobs-model", cost=Decimal("7.77"))
    page = alice_client.get(reverse("usage")).content.decode()
    assert "bobs-model" not in page and "7.77" not in page
    assert "bobs-model" not in alice_client.get(reverse("usage_csv")).content.decode()
    for query in ({"person": bob.pk}, {"everyone": "1"}, {"person": "x"}):
        assert alice_client.get(reverse("usage"), query).status_code == 404
        assert alice_client.get(reverse("usage_csv"), query).status_code == 404


def test_staff_see_one_person_or_everyone(staff: Client, alice: User, bob: User) -> None:
    job(alice, a_moment_ago(), model="alices-model")
    job(bob, a_moment_ago(), model="bobs-model")
    one = staff.get(reverse("usage"), {"person": alice.pk}).content.decode()
    assert "Usage of alice" in one and "alices-model" in one and "bobs-model" not in one
    assert f'href="?person={alice.pk}&amp;days=90"' in one
    everyone = staff.get(reverse("usage"), {"everyone": "1"}).content.decode()
    assert "Everyone\N{RIGHT SINGLE QUOTATION MARK}s usage" in everyone
    assert "alices-model" in everyone and "bobs-model" in everyone
    assert staff.get(reverse("usage"), {"person": 999999}).status_code == 404


def test_the_page_and_its_csv_take_only_get(alice_client: Client) -> None:
    assert alice_client.post(reverse("usage")).status_code == 405
    assert alice_client.post(reverse("usage_csv")).status_code == 405


def test_signed_out_visitors_are_sent_to_sign_in(client: Client) -> None:
    assert client.get(reverse("usage")).status_code == 302


# The CSV


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_has_a_header_and_a_row_per_day_and_model(
    alice: User, alice_client: Client
) -> None:
    now = timezone.now()
    job(alice, a_moment_ago())
    job(alice, now - timedelta(days=2), model="qwen-image", cost=None, cost_currency="")
    response = alice_client.get(reverse("usage_csv"), {"days": 90})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    disposition = f'attachment; filename="usage-alice-90-days-to-{today}.csv"'
    assert response["Content-Disposition"] == disposition
    rows = read_csv(response)
    assert rows[0] == ["date", "model", "images", "cost", "currency"]
    two_days_ago = timezone.localdate(now - timedelta(days=2)).isoformat()
    assert rows[1:] == [
        [two_days_ago, "qwen-image", "2", "", ""],
        [today, "gpt-image-2", "2", "0.080000", "USD"],
    ]


def test_a_model_name_that_looks_like_a_formula_is_written_as_text(
    alice: User, alice_client: Client
) -> None:
    for name in ("=HYPERLINK(1)", "+1", "-1", "@SUM(A1)"):
        job(alice, a_moment_ago(), model=name)
    models = [row[1] for row in read_csv(alice_client.get(reverse("usage_csv")))[1:]]
    assert sorted(models) == ["'+1", "'-1", "'=HYPERLINK(1)", "'@SUM(A1)"]


def test_staff_download_everyones_csv(staff: Client, alice: User, bob: User) -> None:
    job(alice, a_moment_ago())
    job(bob, a_moment_ago())
    response = staff.get(reverse("usage_csv"), {"everyone": "1"})
    assert "usage-everyone-30-days" in response["Content-Disposition"]
    assert read_csv(response)[1][2] == "4"


# Admin


def test_admin_links_to_each_persons_usage_and_everyones(alice: User) -> None:
    admin = User.objects.create_superuser("root", "root@example.org", "x")
    client = Client()
    client.force_login(admin)
    listing = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert f'href="/usage/?person={alice.pk}"' in listing
    assert 'href="/usage/?everyone=1"' in listing
    change = client.get(reverse("admin:auth_user_change", args=[alice.pk])).content.decode()
    assert f'href="/usage/?person={alice.pk}"' in change
