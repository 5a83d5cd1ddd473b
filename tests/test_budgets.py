"""Budgets and limits, enforced before anything is queued: the daily image cap, the monthly spend
cap, the submit rate and the site key, each with its message and reset; what counts (queued and
running jobs at their estimate); per person over the site default; the race of 64 submits."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from imagegen.costs.budgets import OverLimit, check_limits, standing_of
from imagegen.models import Allowance, Generation, ImageModel, PersonalKey, Profile

QWEN = {"model": "qwen-image", "prompt": "a lantern", "size": "1328x1328"}
SEEDREAM = {"model": "doubao-seedream-5-0-260128", "prompt": "dunes", "size": "2K",
            "response_format": "b64_json", "watermark": "on"}  # fmt: skip


def limit(user: User | None = None, **values: Any) -> Allowance:
    if user is None:
        return Allowance.objects.create(site_default=True, **values)
    return Allowance.objects.create(user=user, **values)


def past_job(owner: User, *, status: str, n: int = 1, **fields: Any) -> Generation:
    return Generation.objects.create(
        owner=owner, model_name="qwen-image", prompt="x", parameters={"n": n}, status=status,
        **fields,
    )  # fmt: skip


def test_the_daily_image_cap_counts_queued_jobs_and_says_when_it_resets(
    alice: User, alice_client: Client
) -> None:
    limit(alice, daily_image_cap=5)
    Profile.objects.update_or_create(user=alice, defaults={"time_zone": "Asia/Tokyo"})
    past_job(alice, status="succeeded", images_returned=2, cost=Decimal("0.04"))
    past_job(alice, status="queued", n=2)  # asked for, not yet made: counted
    past_job(alice, status="failed", images_returned=0, cost=Decimal(0))  # nothing made
    assert standing_of(alice).images_today == 4
    alice_client.post("/generate/", QWEN)  # the fifth
    response = alice_client.post("/generate/", SEEDREAM | {"n": "2"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "This would pass your daily image cap of 5 (5 used today, 2 asked for)" in page
    assert "It resets at midnight" in page or "It resets at 0" in page or "It resets at 12" in page
    assert Generation.objects.filter(owner=alice).count() == 4  # nothing more was queued
    assert "\ndunes</textarea>" in page  # the form kept its values


def test_the_monthly_cap_counts_costs_and_estimates_and_names_the_day_it_resets(
    alice: User,
) -> None:
    limit(alice, monthly_spend_cap=Decimal("1.00"))
    past_job(alice, status="succeeded", images_returned=1, cost=Decimal("0.70"),
             cost_currency="USD")  # fmt: skip
    past_job(alice, status="running", estimated_cost=Decimal("0.25"), cost_currency="USD")
    last_month = past_job(alice, status="succeeded", cost=Decimal("50"), cost_currency="USD")
    Generation.objects.filter(pk=last_month.pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    assert standing_of(alice).spent_this_month == Decimal("0.95")
    check_limits(alice, images=1, estimate=Decimal("0.05"), currency="USD", has_price=True)
    with pytest.raises(OverLimit) as refused:
        check_limits(alice, images=1, estimate=Decimal("0.06"), currency="USD", has_price=True)
    assert refused.value.limit == "monthly_spend_cap"
    assert "monthly budget of $1.00 ($0.95 spent or on its way" in refused.value.message
    assert "It resets on" in refused.value.message


def test_a_model_without_a_price_cannot_be_counted_against_a_spend_cap(
    alice: User, alice_client: Client
) -> None:
    limit(alice, monthly_spend_cap=Decimal("10"))
    ImageModel.objects.filter(name="qwen-image").update(price={})
    page = alice_client.post("/generate/", QWEN).content.decode()
    assert "no known price" in page
    assert not Generation.objects.exists()
    Allowance.objects.filter(user=alice).update(monthly_spend_cap=None)
    assert alice_client.post("/generate/", QWEN).status_code == 302  # no cap: fine


def test_a_price_in_another_currency_is_not_counted_against_the_cap(alice: User) -> None:
    limit(alice, monthly_spend_cap=Decimal("1"))
    past_job(alice, status="succeeded", cost=Decimal("100"), cost_currency="EUR")
    assert settings.BUDGET_CURRENCY == "USD"
    check_limits(alice, images=1, estimate=Decimal("0.5"), currency="USD", has_price=True)
    check_limits(alice, images=1, estimate=Decimal("500"), currency="EUR", has_price=True)


def test_the_submit_rate_says_how_long_to_wait(alice: User, alice_client: Client) -> None:
    limit(alice, jobs_per_minute=2)
    for _ in range(2):
        assert alice_client.post("/generate/", QWEN).status_code == 302
    page = alice_client.post("/generate/", QWEN).content.decode()
    assert "You can submit 2 jobs a minute; try again in" in page
    Generation.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert alice_client.post("/generate/", QWEN).status_code == 302  # a minute later


def test_a_persons_own_limits_override_the_site_default_field_by_field(
    alice: User, bob: User
) -> None:
    limit(None, daily_image_cap=3, jobs_per_minute=10, site_key_allowed=False)
    limit(alice, daily_image_cap=50)
    mine, theirs = Allowance.objects.limits_for(alice), Allowance.objects.limits_for(bob)
    assert (mine.daily_image_cap, mine.jobs_per_minute, mine.site_key_allowed) == (50, 10, False)
    assert (theirs.daily_image_cap, theirs.monthly_spend_cap) == (3, None)


def test_nothing_set_means_no_limit(alice: User, alice_client: Client) -> None:
    for _ in range(3):
        assert alice_client.post("/generate/", SEEDREAM | {"n": "15"}).status_code == 302
    assert Allowance.objects.limits_for(alice).daily_image_cap is None


def test_without_the_site_key_a_person_needs_their_own(alice: User, alice_client: Client) -> None:
    limit(None, site_key_allowed=False)
    page = alice_client.post("/generate/", QWEN).content.decode()
    assert "Add your own CometAPI key in Settings" in page
    assert not Generation.objects.exists()
    key = PersonalKey(user=alice)
    key.set_secret("sk-alice-own-key-1234")
    key.save()
    assert alice_client.post("/generate/", QWEN).status_code == 302


def test_a_comparison_over_the_cap_queues_none_of_its_jobs(
    alice: User, alice_client: Client
) -> None:
    limit(alice, daily_image_cap=3)
    values = SEEDREAM | {"n": "3", "compare_with": ["qwen-image"]}
    page = alice_client.post("/generate/", values).content.decode()
    assert "daily image cap of 3" in page
    assert not Generation.objects.exists()


def test_a_retry_over_the_cap_is_refused_with_the_reason(alice: User, alice_client: Client) -> None:
    failed = past_job(alice, status="failed", images_returned=0, cost=Decimal(0))
    failed.parameters = {"n": 1, "size": "1328x1328"}
    failed.save()
    limit(alice, jobs_per_minute=1)
    response = alice_client.post(f"/generations/{failed.pk}/retry/", follow=True)
    assert "You can submit 1 job a minute" in response.content.decode()
    assert Generation.objects.count() == 1


def test_the_htmx_form_shows_the_refusal_in_place(alice: User, alice_client: Client) -> None:
    limit(alice, daily_image_cap=0)
    response = alice_client.post("/generate/", QWEN, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "daily image cap of 0" in response.content.decode()
    assert not Generation.objects.exists()


def test_the_estimate_warns_before_the_cap_is_met(alice: User, alice_client: Client) -> None:
    limit(alice, daily_image_cap=4, monthly_spend_cap=Decimal("0.10"))
    page = alice_client.post("/generate/estimate/", SEEDREAM | {"n": "5"}).content.decode()
    assert "Today: 0 of 4 images." in page
    assert "This month: $0.00 of $0.10 spent or on its way." in page
    assert "This would pass your daily image cap" in page
    assert "This would pass your monthly budget" in page


def test_a_job_that_finishes_while_the_standing_is_read_is_still_counted(alice: User) -> None:
    """The standing is read in one statement. Read in two (finished jobs, then unfinished ones),
    a job that finished in between was in neither, and CI saw a simultaneous submit accepted
    under a spent cap. Here the job finishes right after the first statement on the jobs."""
    running = past_job(alice, status="running", estimated_cost=Decimal("0.02"), n=2)
    finished_between: list[str] = []

    def finish_after_first_read(execute: Any, sql: str, params: Any, many: bool, context: Any):
        result = execute(sql, params, many, context)
        if not finished_between and '"imagegen_generation"' in sql:
            finished_between.append(sql)  # once, and not for the update below
            Generation.objects.filter(pk=running.pk).update(
                status="succeeded", cost=Decimal("0.02"), cost_currency="USD", images_returned=2
            )
        return result

    with connection.execute_wrapper(finish_after_first_read):
        standing = standing_of(alice)
    assert finished_between, "the standing read no jobs"
    assert standing.spent_this_month == Decimal("0.02")
    assert standing.images_today == 2


def race_database_url(tmp_path: Path) -> str:
    """Where tests/budget_race.py makes its own database: a file, or the same server."""
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{tmp_path / 'race.sqlite3'}"
    return os.environ["DATABASE_URL"]


def test_sixty_four_simultaneous_submits_against_a_cap_of_ten_accept_exactly_ten(
    tmp_path: Path,
) -> None:
    """Each limit is raced by 64 threads with their own connections in a process of its own
    (tests/budget_race.py). Without the lock on the person's row, PostgreSQL accepted 15, 31
    and 17 of them."""
    run = subprocess.run(  # noqa: S603 (this interpreter, a module of the tests)
        [sys.executable, "-m", "tests.budget_race", race_database_url(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
        cwd=settings.BASE_DIR, env={**os.environ, "MEDIA_ROOT": str(tmp_path / "media")},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout.strip().splitlines()[-1])
    assert results["daily_image_cap"] == {"accepted": 10, "refused": 54, "other": [], "jobs": 10}
    assert results["monthly_spend_cap"] == {
        "accepted": 10, "refused": 54, "other": [], "jobs": 10,
    }  # fmt: skip
    assert results["jobs_per_minute"] == {"accepted": 5, "refused": 59, "other": [], "jobs": 5}


def own_key(owner: User) -> PersonalKey:
    key = PersonalKey(user=owner)
    key.set_secret("sk-own-key-of-" + owner.username)
    key.save()
    return key


def test_a_persons_own_key_pays_so_the_site_spend_cap_does_not_apply(
    alice: User, alice_client: Client
) -> None:
    limit(alice, monthly_spend_cap=Decimal("0.01"), daily_image_cap=2)
    past_job(alice, status="succeeded", images_returned=1, cost=Decimal("5"),
             cost_currency="USD", on_own_key=True)  # fmt: skip
    assert standing_of(alice).spent_this_month == 0  # billed to them, not to the site
    own_key(alice)
    assert alice_client.post("/generate/", QWEN).status_code == 302  # $0.02 > the cap: theirs
    job = Generation.objects.get(prompt="a lantern")
    assert job.on_own_key is True
    page = alice_client.post("/generate/", QWEN).content.decode()
    assert "daily image cap of 2" in page  # the image cap guards the studio: it still applies
    estimate = alice_client.post("/generate/estimate/", QWEN).content.decode()
    assert "Your own CometAPI key pays for these jobs" in estimate
    assert "would pass your monthly budget" not in estimate


def test_a_job_says_which_key_it_went_on_when_that_changed_after_submit(alice: User) -> None:
    from imagegen.tasks import run_generation

    queued = Generation.objects.create(
        owner=alice, model_name="qwen-image", prompt="x", parameters={"n": 1, "size": "1328x1328"},
        on_own_key=True,
    )  # fmt: skip
    run_generation.call(str(queued.pk))  # the key was removed meanwhile: the site's was used
    queued.refresh_from_db()
    assert (queued.on_own_key, queued.status) == (False, "succeeded")
    own_key(alice)
    again = Generation.objects.create(
        owner=alice, model_name="qwen-image", prompt="y", parameters={"n": 1, "size": "1328x1328"}
    )
    run_generation.call(str(again.pk))
    again.refresh_from_db()
    assert again.on_own_key is True
