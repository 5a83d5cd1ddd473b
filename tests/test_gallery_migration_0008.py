"""Gallery migration 0008 (comparisons): every share link kept as it was, forward and back, and
the new "a link shares exactly one thing" check holding for old links and new ones.

On SQLite the share link table is rebuilt (a new column, a new check). Run from gallery 0007
with real rows: images, a collection, a link to an image (with an expiry and views) and one to
the collection (hiding the prompt), a revoked link; then comparisons and a link to one.
"""

import datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from tests.migration_steps import migrate, migrate_to_latest
from tests.test_gallery_migration_0007 import image_row

# Each test ends by emptying every table: the shipped models are put back after the module.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shipped_models")]

BEFORE = [("gallery", "0007_edits_uploads_and_lineage"), ("imagegen", "0007_edits_and_references")]
AFTER = [("gallery", "0008_comparisons")]
EXPIRES = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
REVOKED = datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC)
LINK_FIELDS = [
    "id",
    "token",
    "owner_id",
    "image_id",
    "collection_id",
    "hide_prompt",
    "expires_at",
    "revoked_at",
    "view_count",
    "created_at",
]


@pytest.fixture
def old_apps() -> Any:
    apps = migrate(BEFORE)
    yield apps
    migrate_to_latest()


def make_rows(apps: Any) -> dict[str, Any]:
    """At 0007: erin's three images, two in a collection; a link to an image (expiring, seen
    five times), one to the collection (prompt hidden), and a revoked one."""
    User = apps.get_model("auth", "User")
    erin = User.objects.create(username="erin")
    images = [image_row(apps, erin, f"a heron in the reeds, {n}") for n in range(3)]
    collection = apps.get_model("gallery", "Collection").objects.create(owner=erin, name="Birds")
    CollectionImage = apps.get_model("gallery", "CollectionImage")
    for image in images[:2]:
        CollectionImage.objects.create(collection=collection, image=image)
    ShareLink = apps.get_model("gallery", "ShareLink")
    ShareLink.objects.create(
        owner=erin, image=images[2], token="i" * 43, expires_at=EXPIRES, view_count=5
    )
    ShareLink.objects.create(owner=erin, collection=collection, token="c" * 43, hide_prompt=True)
    ShareLink.objects.create(owner=erin, image=images[0], token="r" * 43, revoked_at=REVOKED)
    return {"erin": erin, "images": images, "collection": collection}


def links(apps: Any) -> list[tuple[Any, ...]]:
    return list(
        apps.get_model("gallery", "ShareLink").objects.order_by("id").values_list(*LINK_FIELDS)
    )


def test_every_share_link_is_kept_and_shares_what_it_shared(old_apps: Any) -> None:
    rows = make_rows(old_apps)
    before = links(old_apps)

    new_apps = migrate(AFTER)

    assert links(new_apps) == before
    ShareLink = new_apps.get_model("gallery", "ShareLink")
    assert list(ShareLink.objects.values_list("comparison_id", flat=True)) == [None] * 3
    image_link = ShareLink.objects.get(token="i" * 43)
    assert (image_link.image_id, image_link.expires_at, image_link.view_count) == (
        rows["images"][2].pk,
        EXPIRES,
        5,
    )
    to_collection = ShareLink.objects.get(token="c" * 43)
    assert (to_collection.collection_id, to_collection.hide_prompt) == (
        rows["collection"].pk,
        True,
    )
    assert ShareLink.objects.get(token="r" * 43).revoked_at == REVOKED


def test_after_it_a_comparison_can_be_kept_and_shared_and_a_link_shares_one_thing(
    old_apps: Any,
) -> None:
    rows = make_rows(old_apps)
    new_apps = migrate(AFTER)
    Comparison = new_apps.get_model("gallery", "Comparison")
    Entry = new_apps.get_model("gallery", "ComparisonEntry")
    ShareLink = new_apps.get_model("gallery", "ShareLink")
    erin, images = rows["erin"].pk, rows["images"]

    comparison = Comparison.objects.create(owner_id=erin, winner_id=images[1].pk)
    for position, image in enumerate(images):
        Entry.objects.create(comparison=comparison, position=position, image_id=image.pk)
    link = ShareLink.objects.create(owner_id=erin, comparison=comparison, token="k" * 43)

    assert Entry.objects.filter(comparison=comparison).count() == 3
    assert link.comparison_id == comparison.pk
    for both in ({"image_id": images[0].pk}, {"collection_id": rows["collection"].pk}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ShareLink.objects.create(owner_id=erin, comparison=comparison, token="x" * 43, **both)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShareLink.objects.create(owner_id=erin, token="n" * 43)  # nothing shared
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(
            comparison=comparison,
            position=9,
            image_id=images[0].pk,
            generation_id=images[0].generation_id,
        )


def test_going_back_to_0007_keeps_the_old_links(old_apps: Any) -> None:
    make_rows(old_apps)
    before = links(old_apps)
    migrate(AFTER)

    back = migrate(BEFORE)

    assert links(back) == before
    assert back.get_model("gallery", "CollectionImage").objects.count() == 2
    assert back.get_model("gallery", "Image").objects.count() == 3
