"""Gallery migration 0014: on SQLite, migration 0013 (image costs) rebuilt gallery_image and so
dropped the search indexes' triggers; 0014 makes them again and indexes the images kept without
them. Run from 0012 with real rows in English, Arabic and Japanese; on PostgreSQL (indexes, not
triggers) the same searches must simply keep working."""

from typing import Any

import pytest
from django.db import connection

from tests.migration_steps import migrate, migrate_to_latest
from tests.test_gallery_migration_0007 import (
    PROMPTS,
    TRIGGERS,
    assert_search_works,
    found,
    image_row,
    triggers,
)

# Each test ends by emptying every table: the shipped models are put back after the module.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shipped_models")]

IMAGEGEN = "0010_costs_budgets_and_keys"  # the jobs as gallery 0013 found them


@pytest.fixture
def old_apps() -> Any:
    apps = migrate([("gallery", "0012_smart_collections"), ("imagegen", IMAGEGEN)])
    yield apps
    migrate_to_latest()


def test_search_finds_every_image_again_those_kept_between_too(old_apps: Any) -> None:
    erin = old_apps.get_model("auth", "User").objects.create(username="erin")
    for n, prompt in enumerate(PROMPTS):
        image_row(old_apps, erin, prompt, revised=n == 1)
    between = migrate([("gallery", "0013_image_costs"), ("imagegen", IMAGEGEN)])
    erin = between.get_model("auth", "User").objects.get(pk=erin.pk)
    image_row(between, erin, "a zeppelin over the harbour, 飛行船")  # kept without the triggers

    apps = migrate([("gallery", "0014_search_triggers_after_costs"), ("imagegen", IMAGEGEN)])

    erin = apps.get_model("auth", "User").objects.get(pk=erin.pk)
    Image = apps.get_model("gallery", "Image")
    kept = Image.objects.filter(trashed_at__isnull=True)
    assert_search_works(kept.exclude(prompt__startswith="a zeppelin"), erin.pk)
    assert found(kept, erin.pk, "zeppelin") == ["a zeppelin over the harbour, 飛行船"]
    assert found(kept, erin.pk, "飛行") == ["a zeppelin over the harbour, 飛行船"]
    image_row(apps, erin, "a kite above the dunes")  # and what comes next, by the triggers
    assert found(kept, erin.pk, "kite above") == ["a kite above the dunes"]
    if connection.vendor == "sqlite":
        assert triggers() == TRIGGERS
