"""manage.py backfill_grid_thumbnails: grid renditions for images kept before they existed,
made from their thumbnails, in batches, with progress; idempotent and resumable."""

import io
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from PIL import Image as PILImage

from gallery.models import Image
from tests.conftest import png_bytes


def without_grid(images: list[Image]) -> None:
    """As a row kept before migration 0009: its grid rendition's file gone, its columns empty."""
    for image in images:
        image.grid.storage.delete(image.grid.name)
    Image.objects.filter(pk__in=[i.pk for i in images]).update(
        grid=None, grid_width=None, grid_height=None
    )


def run(*args: str) -> str:
    out = StringIO()
    call_command("backfill_grid_thumbnails", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def old_images(alice: User, make_image) -> list[Image]:
    images = [
        make_image(alice, prompt="wide", data=png_bytes(1536, 1024)),
        make_image(alice, prompt="tall", data=png_bytes(1024, 1792, "navy")),
        make_image(alice, prompt="small", data=png_bytes(64, 48, "olive")),
    ]
    without_grid(images)
    return images


def test_it_makes_each_missing_grid_rendition_from_the_thumbnail(old_images: list[Image]) -> None:
    output = run()

    sizes = {}
    for image in old_images:
        image.refresh_from_db()
        assert image.grid.name == f"grid/{image.created_at:%Y/%m}/{image.uuid}.webp"
        with image.grid.open("rb") as file, PILImage.open(io.BytesIO(file.read())) as made:
            assert made.format == "WEBP"
            assert made.size == (image.grid_width, image.grid_height)
        sizes[image.prompt] = made.size
    assert sizes == {"wide": (320, 213), "tall": (183, 320), "small": (64, 48)}
    assert "3 image(s) without a grid rendition." in output
    assert "3/3: 3 made, 0 skipped" in output
    assert output.rstrip().endswith("Done: 3 made, 0 skipped.")


def test_it_goes_in_batches_and_prints_its_progress(old_images: list[Image]) -> None:
    output = run("--batch-size", "2")

    assert "2/3: 2 made, 0 skipped" in output
    assert "3/3: 3 made, 0 skipped" in output


def test_a_second_run_finds_nothing_to_do_and_changes_nothing(old_images: list[Image]) -> None:
    run()
    names = dict(Image.objects.values_list("pk", "grid"))

    output = run()

    assert "0 image(s) without a grid rendition." in output
    assert dict(Image.objects.values_list("pk", "grid")) == names


def test_a_run_stopped_part_way_is_taken_up_where_it_stopped(old_images: list[Image]) -> None:
    first = run("--limit", "1")

    assert "1/1: 1 made" in first
    assert Image.objects.filter(grid__isnull=True).count() == 2
    second = run()
    assert "2 image(s) without a grid rendition." in second
    assert not Image.objects.filter(grid__isnull=True).exists()


def test_images_that_already_have_one_are_left_alone(alice: User, make_image) -> None:
    image = make_image(alice)
    name = image.grid.name

    assert "0 image(s)" in run()
    image.refresh_from_db()
    assert image.grid.name == name


def test_an_unreadable_thumbnail_is_skipped_and_the_rest_are_made(
    old_images: list[Image],
) -> None:
    broken = old_images[1]
    broken.thumbnail.storage.delete(broken.thumbnail.name)

    output = run()

    assert "Done: 2 made, 1 skipped." in output
    broken.refresh_from_db()
    assert not broken.grid
    assert Image.objects.exclude(grid__isnull=True).count() == 2


def test_an_image_given_its_rendition_meanwhile_keeps_that_one(
    old_images: list[Image], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gallery.management.commands import backfill_grid_thumbnails as command

    real = command.grid_rendition
    target = old_images[0]

    def and_meanwhile(*args: object) -> tuple[bytes, int, int]:
        made = real(*args)
        Image.objects.filter(pk=target.pk, grid__isnull=True).update(
            grid="grid/theirs.webp", grid_width=1, grid_height=1
        )
        return made

    monkeypatch.setattr(command, "grid_rendition", and_meanwhile)
    run()

    target.refresh_from_db()
    assert target.grid.name == "grid/theirs.webp"
    stored = {p.name for p in Path(target.grid.storage.path("grid")).rglob("*.webp")}
    assert f"{target.uuid}.webp" not in stored  # ours was removed, not left behind


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(CommandError):
        call_command("backfill_grid_thumbnails", "--batch-size", "0")
