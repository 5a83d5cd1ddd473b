"""Gallery migration 0009 (grid renditions): from 0008 with real rows, every image kept as it
was, with no grid rendition until the backfill makes it; search and its SQLite triggers intact
(a plain ADD COLUMN, no table rebuild); and back again."""

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

BEFORE = [("gallery", "0008_comparisons")]
AFTER = [("gallery", "0009_grid_thumbnails")]


@pytest.fixture
def old_apps() -> Any:
    apps = migrate(BEFORE)
    yield apps
    migrate_to_latest()


def make_rows(apps: Any) -> tuple[Any, list[Any]]:
    """At 0008: erin's images, one a favourite with a revised prompt, in a collection."""
    erin = apps.get_model("auth", "User").objects.create(username="erin")
    images = [
        image_row(apps, erin, prompt, favourite=n == 1, revised=n == 1)
        for n, prompt in enumerate(PROMPTS)
    ]
    collection = apps.get_model("gallery", "Collection").objects.create(owner=erin, name="Sea")
    for image in images[:2]:
        apps.get_model("gallery", "CollectionImage").objects.create(
            collection=collection, image=image
        )
    return erin, images


def test_every_image_is_kept_with_no_grid_rendition_yet(old_apps: Any) -> None:
    erin, images = make_rows(old_apps)
    before = snapshot(old_apps.get_model("gallery", "Image"))

    apps = migrate(AFTER)

    Image = apps.get_model("gallery", "Image")
    assert snapshot(Image) == before
    assert set(Image.objects.values_list("grid", "grid_width", "grid_height")) == {
        (None, None, None)
    }
    assert Image.objects.get(pk=images[0].pk).collections.count() == 1
    assert_search_works(Image.objects.all(), erin.pk)
    if connection.vendor == "sqlite":
        assert triggers() == TRIGGERS


def test_the_new_columns_take_a_rendition_and_the_search_follows_the_rows(
    old_apps: Any,
) -> None:
    erin, images = make_rows(old_apps)

    apps = migrate(AFTER)

    Image = apps.get_model("gallery", "Image")
    Image.objects.filter(pk=images[0].pk).update(
        grid="grid/2026/03/0.webp", grid_width=320, grid_height=320
    )
    assert Image.objects.get(pk=images[0].pk).grid == "grid/2026/03/0.webp"
    assert_search_works(Image.objects.all(), erin.pk)


def test_going_back_to_0008_keeps_every_image(old_apps: Any) -> None:
    erin, _images = make_rows(old_apps)
    before = snapshot(old_apps.get_model("gallery", "Image"))
    migrate(AFTER)

    back = migrate(BEFORE)

    Image = back.get_model("gallery", "Image")
    assert snapshot(Image) == before
    assert "grid" not in {field.name for field in Image._meta.get_fields()}
    assert_search_works(Image.objects.all(), erin.pk)
    if connection.vendor == "sqlite":
        assert triggers() == TRIGGERS
