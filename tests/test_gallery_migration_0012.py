"""Gallery migration 0012 (smart collections), from 0011 with real rows: every collection there
is stays one added to by hand, with its images and its share link; a smart one can be made
beside them; and back again, the collections and their images as they were."""

from typing import Any

import pytest

from tests.migration_steps import migrate, migrate_to_latest
from tests.test_gallery_migration_0007 import (
    PROMPTS,
    image_row,
)

# Each test ends by emptying every table: the shipped models are put back after the module.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shipped_models")]

BEFORE = [("gallery", "0011_trash")]
AFTER = [("gallery", "0012_smart_collections")]


@pytest.fixture
def old_apps() -> Any:
    apps = migrate(BEFORE)
    yield apps
    migrate_to_latest()


def make_rows(apps: Any) -> Any:
    """At 0011: erin's images, two of them in "Sea" (shared by link), none in "Empty"."""
    erin = apps.get_model("auth", "User").objects.create(username="erin")
    images = [image_row(apps, erin, prompt) for prompt in PROMPTS]
    Collection = apps.get_model("gallery", "Collection")
    sea = Collection.objects.create(owner=erin, name="Sea")
    Collection.objects.create(owner=erin, name="Empty")
    CollectionImage = apps.get_model("gallery", "CollectionImage")
    for image in images[:2]:
        CollectionImage.objects.create(collection=sea, image=image)
    ShareLink = apps.get_model("gallery", "ShareLink")
    ShareLink.objects.create(owner=erin, collection=sea, token="c" * 43)
    return erin


def memberships(apps: Any) -> list[tuple[str, str]]:
    rows = apps.get_model("gallery", "CollectionImage").objects.order_by("id")
    return list(rows.values_list("collection__name", "image__prompt"))


def test_every_collection_stays_one_added_to_by_hand(old_apps: Any) -> None:
    erin = make_rows(old_apps)
    before = memberships(old_apps)
    apps = migrate(AFTER)
    Collection = apps.get_model("gallery", "Collection")
    assert sorted(Collection.objects.values_list("name", "query")) == [("Empty", ""), ("Sea", "")]
    assert memberships(apps) == before
    sea = Collection.objects.get(name="Sea")
    assert apps.get_model("gallery", "ShareLink").objects.get().collection_id == sea.pk
    Collection.objects.create(owner_id=erin.pk, name="Lighthouses", query="q=lighthouse")
    assert Collection.objects.exclude(query="").count() == 1


def test_going_back_to_0011_keeps_every_collection_and_its_images(old_apps: Any) -> None:
    erin = make_rows(old_apps)
    before = memberships(old_apps)
    apps = migrate(AFTER)
    apps.get_model("gallery", "Collection").objects.create(
        owner_id=erin.pk, name="Lighthouses", query="q=lighthouse"
    )
    back = migrate(BEFORE)
    Collection = back.get_model("gallery", "Collection")
    assert "query" not in {field.name for field in Collection._meta.get_fields()}
    assert memberships(back) == before
    # A smart collection is kept as a collection without images (nothing lost but its search).
    assert sorted(Collection.objects.values_list("name", flat=True)) == [
        "Empty",
        "Lighthouses",
        "Sea",
    ]
