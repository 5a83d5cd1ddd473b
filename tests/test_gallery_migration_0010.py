"""Gallery migration 0010 (ratings): from 0009 with real rows, every image kept as it was and
unrated; a rating fits the new column and its partial index serves the rated ones; search and
its SQLite triggers intact (a plain ADD COLUMN); and back again."""

from typing import Any

import pytest
from django.db import connection

from tests.migration_steps import migrate, migrate_to_latest
from tests.test_gallery_migration_0007 import (
    PROMPTS,
    TRIGGERS,
    assert_search_works,
    image_row,
    snapshot,
    triggers,
)

# Each test ends by emptying every table: the shipped models are put back after the module.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shipped_models")]

BEFORE = [("gallery", "0009_grid_thumbnails")]
AFTER = [("gallery", "0010_ratings")]


@pytest.fixture
def old_apps() -> Any:
    apps = migrate(BEFORE)
    yield apps
    migrate_to_latest()


def make_rows(apps: Any) -> tuple[Any, list[Any]]:
    erin = apps.get_model("auth", "User").objects.create(username="erin")
    images = [
        image_row(apps, erin, prompt, favourite=n == 1, revised=n == 1)
        for n, prompt in enumerate(PROMPTS)
    ]
    return erin, images


def test_every_image_is_kept_unrated_and_can_be_rated(old_apps: Any) -> None:
    erin, images = make_rows(old_apps)
    before = snapshot(old_apps.get_model("gallery", "Image"))
    apps = migrate(AFTER)
    Image = apps.get_model("gallery", "Image")
    assert snapshot(Image) == before
    assert set(Image.objects.values_list("rating", flat=True)) == {None}
    Image.objects.filter(pk=images[0].pk).update(rating=4)
    rated = Image.objects.filter(owner_id=erin.pk, rating__gte=3).order_by("-rating", "-id")
    assert list(rated.values_list("pk", flat=True)) == [images[0].pk]
    assert_search_works(Image.objects.all(), erin.pk)
    if connection.vendor == "sqlite":
        assert triggers() == TRIGGERS


def test_going_back_to_0009_keeps_every_image(old_apps: Any) -> None:
    erin, images = make_rows(old_apps)
    before = snapshot(old_apps.get_model("gallery", "Image"))
    apps = migrate(AFTER)
    apps.get_model("gallery", "Image").objects.filter(pk=images[1].pk).update(rating=5)
    back = migrate(BEFORE)
    Image = back.get_model("gallery", "Image")
    assert snapshot(Image) == before
    assert "rating" not in {field.name for field in Image._meta.get_fields()}
    assert_search_works(Image.objects.all(), erin.pk)
    if connection.vendor == "sqlite":
        assert triggers() == TRIGGERS
