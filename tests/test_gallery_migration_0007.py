"""Gallery migration 0007 (uploads and lineage): every image kept as it was, and the search
indexes still following the table, forward and back.

On SQLite the migration rebuilds gallery_image, which drops the search indexes' triggers with the
old table; the migration makes them again both ways. Run from gallery 0006 (imagegen 0006) with
real rows in English, Arabic and Japanese, favourites, a collection and share links. The same
tests run on PostgreSQL, whose indexes are not triggers (the trigger check is skipped there).
"""

import datetime
from typing import Any

import pytest
from django.db import connection

from gallery.search import search_images
from tests.migration_steps import migrate, migrate_to_latest

# Each test ends by emptying every table: the shipped models are put back after the module.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shipped_models")]

# As a deployment is before this release: imagegen's 0007 (jobs' endpoints) came with it.
BEFORE = [("gallery", "0006_image_formats_gif_svg"), ("imagegen", "0006_model_schemas")]
AFTER = [("gallery", "0007_edits_uploads_and_lineage"), ("imagegen", "0007_edits_and_references")]
PROMPTS = [
    "a lighthouse at sunset, oil painting",
    "قطة على الشاطئ عند الغروب",
    "海辺の猫、夕日、水彩画",
    "東京の街の犬",
]
TRIGGERS = [
    "gallery_image_chars_delete",
    "gallery_image_chars_insert",
    "gallery_image_chars_update",
    "gallery_image_fts_delete",
    "gallery_image_fts_insert",
    "gallery_image_fts_update",
]
# What a row must keep through the migration, both ways.
KEPT = [
    "id",
    "uuid",
    "owner_id",
    "generation_id",
    "index",
    "file",
    "thumbnail",
    "width",
    "height",
    "format",
    "bytes",
    "sha256",
    "model_name",
    "prompt",
    "revised_prompt",
    "favourite",
    "created_at",
]
CREATED = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def old_apps() -> Any:
    apps = migrate(BEFORE)
    yield apps
    migrate_to_latest()


def make_rows(apps: Any) -> dict[str, Any]:
    """At 0006: carol's four images (the second a favourite, with a revised prompt), two of them
    in a collection, a share link to an image and one to the collection; dave's one image."""
    User = apps.get_model("auth", "User")
    Generation = apps.get_model("imagegen", "Generation")
    Image = apps.get_model("gallery", "Image")
    carol = User.objects.create(username="carol")
    dave = User.objects.create(username="dave")
    images = []
    for n, prompt in enumerate(PROMPTS):
        images.append(image_row(apps, carol, prompt, favourite=n == 1, revised=n == 1))
    theirs = image_row(apps, dave, "a lighthouse of dave's")
    collection = apps.get_model("gallery", "Collection").objects.create(owner=carol, name="Sea")
    CollectionImage = apps.get_model("gallery", "CollectionImage")
    for image in images[:2]:
        CollectionImage.objects.create(collection=collection, image=image)
    ShareLink = apps.get_model("gallery", "ShareLink")
    image_link = ShareLink.objects.create(owner=carol, image=images[2], token="t" * 43)
    ShareLink.objects.create(owner=carol, collection=collection, token="c" * 43, hide_prompt=True)
    assert Generation.objects.count() == 5
    assert Image.objects.count() == 5
    return {"carol": carol, "dave": dave, "images": images, "theirs": theirs, "link": image_link}


def image_row(
    apps: Any, owner: Any, prompt: str, *, favourite: bool = False, revised: bool = False
) -> Any:
    Generation = apps.get_model("imagegen", "Generation")
    Image = apps.get_model("gallery", "Image")
    generation = Generation.objects.create(
        owner=owner, model_name="dall-e-3", prompt=prompt, parameters={"n": 1}, status="succeeded"
    )
    count = Image.objects.count()
    return Image.objects.create(
        owner=owner,
        generation=generation,
        index=0,
        file=f"originals/2026/03/{count}.png",
        thumbnail=f"thumbnails/2026/03/{count}.webp",
        width=1024,
        height=1024,
        thumbnail_width=512,
        thumbnail_height=512,
        format="png",
        bytes=1000 + count,
        sha256=f"{count:064d}",
        model_name="dall-e-3",
        prompt=prompt,
        revised_prompt="A friendly seaside town at dusk." if revised else "",
        favourite=favourite,
        created_at=CREATED,
    )


def snapshot(model: Any) -> list[tuple[Any, ...]]:
    return list(model.objects.order_by("id").values_list(*KEPT))


def found(images: Any, owner: Any, text: str) -> list[str]:
    """The prompts of `owner`'s images that a search for `text` finds, at any migration state
    (gallery.search takes the historical model's querysets as well as the live one's)."""
    return sorted(search_images(images.filter(owner=owner), text).values_list("prompt", flat=True))


def triggers() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name = 'gallery_image' ORDER BY name"
        )
        return [name for (name,) in cursor.fetchall()]


def assert_search_works(images: Any, owner: Any) -> None:
    assert found(images, owner, "lighthouse") == [PROMPTS[0]]  # a word: the trigram index
    assert found(images, owner, "SEASIDE") == [PROMPTS[1]]  # only in the revised prompt
    assert found(images, owner, "الشاطئ") == [PROMPTS[1]]
    assert found(images, owner, "水彩画") == [PROMPTS[2]]
    assert found(images, owner, "猫") == [PROMPTS[2]]  # one character: the character index
    assert found(images, owner, "夕日") == [PROMPTS[2]]
    assert found(images, owner, "の") == sorted([PROMPTS[2], PROMPTS[3]])
    assert found(images, owner, "zeppelin") == []


def test_every_image_is_kept_as_a_generated_first_version(old_apps: Any) -> None:
    rows = make_rows(old_apps)
    before = snapshot(old_apps.get_model("gallery", "Image"))

    new_apps = migrate(AFTER)

    Image = new_apps.get_model("gallery", "Image")
    assert snapshot(Image) == before
    new_fields = Image.objects.values_list(
        "origin", "stack_root", "found_metadata", "original_name"
    )
    assert list(new_fields) == [("generated", None, {}, "")] * 5
    favourites = Image.objects.filter(favourite=True).values_list("prompt", flat=True)
    assert list(favourites) == [PROMPTS[1]]
    Collection = new_apps.get_model("gallery", "Collection")
    sea = Collection.objects.get(owner=rows["carol"].pk, name="Sea")
    assert sorted(sea.images.values_list("prompt", flat=True)) == sorted(PROMPTS[:2])
    ShareLink = new_apps.get_model("gallery", "ShareLink")
    link = ShareLink.objects.get(token="t" * 43)
    assert (link.image_id, link.collection_id) == (rows["images"][2].pk, None)
    assert link.hide_prompt is False
    to_collection = ShareLink.objects.get(token="c" * 43)
    assert (to_collection.collection_id, to_collection.hide_prompt) == (sea.pk, True)
    assert new_apps.get_model("gallery", "ImageInput").objects.count() == 0


def test_search_finds_old_and_new_images_after_the_migration(old_apps: Any) -> None:
    rows = make_rows(old_apps)

    # The live model, for its search, needs every later column too: on to the latest.
    after = migrate_to_latest()

    from gallery.models import Image

    carol, dave = rows["carol"].pk, rows["dave"].pk
    assert_search_works(Image.objects.all(), carol)
    assert [i.pk for i in Image.objects.for_user(carol).search("lighthouse")] == [
        rows["images"][0].pk
    ]
    assert found(Image.objects.all(), dave, "lighthouse") == ["a lighthouse of dave's"]
    if connection.vendor == "sqlite":
        assert triggers() == TRIGGERS
    # A row inserted, changed and deleted after the migration is followed by the indexes.
    new = Image.objects.create(
        owner_id=carol,
        generation=None,
        index=0,
        origin="uploaded",
        original_name="kite.png",
        file="originals/2026/03/new.png",
        thumbnail="thumbnails/2026/03/new.webp",
        width=64,
        height=48,
        thumbnail_width=64,
        thumbnail_height=48,
        format="png",
        bytes=10,
        sha256="f" * 64,
        model_name="",
        prompt="a paper kite over the dunes, 凧",
        created_at=CREATED,
    )
    assert found(Image.objects.all(), carol, "paper kite") == [new.prompt]
    assert found(Image.objects.all(), carol, "凧") == [new.prompt]
    Image.objects.filter(pk=new.pk).update(prompt="a glider, 滑空")
    assert found(Image.objects.all(), carol, "paper kite") == []
    assert found(Image.objects.all(), carol, "凧") == []
    assert found(Image.objects.all(), carol, "滑空") == ["a glider, 滑空"]
    # Deleted through the model as at 0007: the live one also clears later tables (comparisons).
    after.get_model("gallery", "Image").objects.filter(pk=new.pk).delete()
    assert found(Image.objects.all(), carol, "glider") == []
    assert found(Image.objects.all(), carol, "滑空") == []


def test_going_back_to_0006_keeps_the_rows_and_the_search(old_apps: Any) -> None:
    rows = make_rows(old_apps)
    before = snapshot(old_apps.get_model("gallery", "Image"))
    migrate(AFTER)

    back = migrate(BEFORE)

    Image = back.get_model("gallery", "Image")
    assert snapshot(Image) == before
    assert Image.objects.filter(favourite=True).count() == 1
    assert back.get_model("gallery", "CollectionImage").objects.count() == 2
    assert back.get_model("gallery", "ShareLink").objects.count() == 2
    if connection.vendor == "sqlite":
        assert triggers() == TRIGGERS
    carol = rows["carol"].pk
    assert_search_works(Image.objects.all(), carol)
    # The triggers follow a row inserted at 0006 again.
    owner = back.get_model("auth", "User").objects.get(pk=carol)
    added = image_row(back, owner, "a red bicycle, 自転車")
    assert found(Image.objects.all(), carol, "bicycle") == [added.prompt]
    assert found(Image.objects.all(), carol, "自転") == [added.prompt]
    # And forward once more, as a deployment that rolled back and then forward would.
    migrate(AFTER)
    from gallery.models import Image as LiveImage

    assert found(LiveImage.objects.all(), carol, "自転車") == [added.prompt]
    assert_search_works(LiveImage.objects.all(), carol)
