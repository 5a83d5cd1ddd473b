"""Gallery migration 0011 (the Trash): from 0010 with real rows, every image kept as it was and
out of the Trash, ratings included; the gallery's scans served by the new partial indexes alone;
search and its SQLite triggers intact; and back again with nothing lost (an image in the Trash
comes back into the gallery: its files were never deleted)."""

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

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

BEFORE = [("gallery", "0010_ratings")]
AFTER = [("gallery", "0011_trash")]


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
    apps.get_model("gallery", "Image").objects.filter(pk=images[0].pk).update(rating=4)
    return erin, images


def plan(sql: str, *parameters: Any) -> str:
    with connection.cursor() as cursor:
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cursor.execute(prefix + sql, parameters)
        return " ".join(str(part) for row in cursor.fetchall() for part in row)


def test_every_image_is_kept_out_of_the_trash(old_apps: Any) -> None:
    erin, images = make_rows(old_apps)
    before = snapshot(old_apps.get_model("gallery", "Image"))
    apps = migrate(AFTER)
    Image = apps.get_model("gallery", "Image")
    assert snapshot(Image) == before
    assert set(Image.objects.values_list("trashed_at", flat=True)) == {None}
    assert Image.objects.get(pk=images[0].pk).rating == 4
    assert_search_works(Image.objects.filter(trashed_at__isnull=True), erin.pk)
    if connection.vendor == "sqlite":
        assert triggers() == TRIGGERS
        # The person's newest kept images: the partial index alone, no row read to check.
        shape = plan(
            "SELECT id FROM gallery_image WHERE owner_id = %s AND trashed_at IS NULL"
            " ORDER BY id DESC LIMIT 60",
            erin.pk,
        )
        assert "COVERING INDEX image_owner_kept_newest" in shape, shape
    indexes = connection.introspection.get_constraints(connection.cursor(), "gallery_image")
    assert {"image_owner_kept_newest", "image_owner_kept_rated", "image_trashed"} <= set(indexes)
    assert not {"image_owner_newest", "image_owner_rated"} & set(indexes)


def test_going_back_to_0010_keeps_every_image_the_trash_too(old_apps: Any) -> None:
    erin, images = make_rows(old_apps)
    before = snapshot(old_apps.get_model("gallery", "Image"))
    apps = migrate(AFTER)
    trashed = apps.get_model("gallery", "Image").objects.filter(pk=images[1].pk)
    trashed.update(trashed_at=timezone.now())
    back = migrate(BEFORE)
    Image = back.get_model("gallery", "Image")
    assert snapshot(Image) == before
    assert "trashed_at" not in {field.name for field in Image._meta.get_fields()}
    assert_search_works(Image.objects.all(), erin.pk)
    indexes = connection.introspection.get_constraints(connection.cursor(), "gallery_image")
    assert {"image_owner_newest", "image_owner_rated"} <= set(indexes)
    if connection.vendor == "sqlite":
        assert triggers() == TRIGGERS
