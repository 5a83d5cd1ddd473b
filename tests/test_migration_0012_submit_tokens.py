"""imagegen migration 0012 (form tokens on jobs) and gallery migration 0015 (files being written,
views of other people's files), from the state before them with real rows: an administrator's
edits (a price they set, a renamed collection) and every job and image survive, jobs already
made have no token, the search (on SQLite, the triggers on gallery_image) still follows the
table, and the new tables and the token's index are usable; and back again."""

import uuid
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

BEFORE = [("imagegen", "0011_jobs_on_own_keys"), ("gallery", "0014_search_triggers_after_costs")]
AFTER = [("imagegen", "0012_submit_tokens"), ("gallery", "0015_pending_files_and_file_access")]
ADMINS_PRICE = {"currency": "USD", "per_image": "0.07"}


@pytest.fixture
def old_apps() -> Any:
    apps = migrate(BEFORE)
    yield apps
    migrate_to_latest()


def make_rows(apps: Any) -> dict[str, Any]:
    """Before: grace's images in three languages, one job on her own key, a collection she
    renamed, and a model an administrator priced by hand."""
    ImageModel = apps.get_model("imagegen", "ImageModel")
    ImageModel.objects.filter(name="qwen-image").update(
        price=ADMINS_PRICE, price_source="admin", label="Qwen (house)"
    )
    grace = apps.get_model("auth", "User").objects.create(username="grace")
    images = [image_row(apps, grace, prompt, revised=n == 1) for n, prompt in enumerate(PROMPTS)]
    Generation = apps.get_model("imagegen", "Generation")
    Generation.objects.filter(pk=images[0].generation_id).update(on_own_key=True, cost="0.04")
    Collection = apps.get_model("gallery", "Collection")
    kept = Collection.objects.create(owner=grace, name="Harbour")
    Collection.objects.filter(pk=kept.pk).update(name="Harbour, renamed")
    apps.get_model("gallery", "CollectionImage").objects.create(collection=kept, image=images[0])
    return {"grace": grace, "images": images}


def job_rows(apps: Any) -> list[tuple[Any, ...]]:
    Generation = apps.get_model("imagegen", "Generation")
    columns = ("id", "owner_id", "prompt", "status", "on_own_key", "cost", "created_at")
    return list(Generation.objects.order_by("id").values_list(*columns))


def test_every_row_and_edit_survives_and_old_jobs_have_no_token(old_apps: Any) -> None:
    rows = make_rows(old_apps)
    jobs_before = job_rows(old_apps)

    apps = migrate(AFTER)

    assert job_rows(apps) == jobs_before
    Generation = apps.get_model("imagegen", "Generation")
    assert set(Generation.objects.values_list("submit_token", flat=True)) == {None}
    qwen = apps.get_model("imagegen", "ImageModel").objects.get(name="qwen-image")
    assert (qwen.price, qwen.price_source, qwen.label) == (ADMINS_PRICE, "admin", "Qwen (house)")
    collection = apps.get_model("gallery", "Collection").objects.get()
    assert collection.name == "Harbour, renamed"
    assert list(collection.images.values_list("pk", flat=True)) == [rows["images"][0].pk]
    Image = apps.get_model("gallery", "Image")
    assert Image.objects.count() == len(PROMPTS)


def test_search_follows_the_table_after_the_migration(old_apps: Any) -> None:
    rows = make_rows(old_apps)

    apps = migrate(AFTER)

    grace = apps.get_model("auth", "User").objects.get(pk=rows["grace"].pk)
    Image = apps.get_model("gallery", "Image")
    assert_search_works(Image.objects.all(), grace.pk)
    image_row(apps, grace, "a kite above the dunes, 凧")  # inserted after migrating
    assert found(Image.objects.all(), grace.pk, "kite above") == ["a kite above the dunes, 凧"]
    assert found(Image.objects.all(), grace.pk, "凧") == ["a kite above the dunes, 凧"]
    if connection.vendor == "sqlite":
        assert triggers() == TRIGGERS


def test_the_new_columns_and_tables_are_usable(old_apps: Any) -> None:
    rows = make_rows(old_apps)

    apps = migrate(AFTER)

    grace = apps.get_model("auth", "User").objects.get(pk=rows["grace"].pk)
    Generation = apps.get_model("imagegen", "Generation")
    token = uuid.uuid4()
    for _ in range(2):  # one form's comparison: several jobs, one token
        Generation.objects.create(
            owner=grace, model_name="qwen-image", prompt="p", submit_token=token
        )
    assert Generation.objects.filter(owner=grace, submit_token=token).count() == 2
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "imagegen_generation")
    assert indexes["generation_submit_token"]["columns"] == ["owner_id", "submit_token"]
    job = Generation.objects.filter(submit_token=token).first()
    PendingFile = apps.get_model("gallery", "PendingFile")
    pending = PendingFile.objects.create(key="originals/2026/12/abc.png", generation=job)
    job.delete()
    pending.refresh_from_db()
    assert pending.generation_id is None  # the key outlives its job, for the sweep
    image = rows["images"][0]
    record = apps.get_model("gallery", "FileAccessRecord").objects.create(
        viewer=grace,
        viewer_name="grace",
        owner=grace,
        owner_name="grace",
        image_id=image.pk,
        image_uuid=image.uuid,
        variant="original",
        path="/images/x/original",
    )
    assert record.viewed_at is not None


def test_going_back_keeps_every_row_and_the_search(old_apps: Any) -> None:
    rows = make_rows(old_apps)
    jobs_before = job_rows(old_apps)
    apps = migrate(AFTER)
    apps.get_model("gallery", "PendingFile").objects.create(key="originals/x.png")

    back = migrate(BEFORE)

    assert job_rows(back) == jobs_before
    assert_search_works(back.get_model("gallery", "Image").objects.all(), rows["grace"].pk)
    if connection.vendor == "sqlite":
        assert triggers() == TRIGGERS
