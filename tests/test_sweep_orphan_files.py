"""The sweep that deletes files left behind by a worker killed mid-ingest."""

import io
import os
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from PIL import Image as PILImage

from gallery.ingest import ingest_image
from gallery.models import Image
from imagegen.models import Generation


def png() -> bytes:
    out = io.BytesIO()
    PILImage.radial_gradient("L").convert("RGB").save(out, "PNG")
    return out.getvalue()


def put(media_root: Path, name: str, age_minutes: float) -> Path:
    path = media_root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind")
    then = time.time() - age_minutes * 60
    os.utime(path, (then, then))
    return path


def sweep(*args: str) -> str:
    out = io.StringIO()
    call_command("sweep_orphan_files", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def image(alice: User) -> Image:
    generation = Generation.objects.create(
        owner=alice, model_name="dall-e-3", prompt="A lighthouse", parameters={"n": 1}
    )
    return ingest_image(generation, 0, png())


def age(media_root: Path, image: Image, minutes: float) -> None:
    for name in (image.file.name, image.thumbnail.name, image.grid.name):
        then = time.time() - minutes * 60
        os.utime(media_root / name, (then, then))


def test_it_deletes_an_old_orphan_and_keeps_referenced_and_fresh_files(
    image: Image, media_root: Path
) -> None:
    age(media_root, image, 600)
    old_original = put(media_root, "originals/2026/01/dead.png", 120)
    old_thumbnail = put(media_root, "thumbnails/2026/01/dead.webp", 120)
    old_grid = put(media_root, "grid/2026/01/dead.webp", 120)
    in_flight = put(media_root, "originals/2026/05/in-flight.png", 5)
    unrelated = put(media_root, "exports/old.zip", 600)

    output = sweep()

    assert not old_original.exists()
    assert not old_thumbnail.exists()
    assert not old_grid.exists()
    assert in_flight.exists()
    assert unrelated.exists()
    assert (media_root / image.file.name).exists()
    assert (media_root / image.thumbnail.name).exists()
    assert (media_root / image.grid.name).exists()
    assert "Deleted originals/2026/01/dead.png" in output
    assert "Deleted 3 orphan file(s)" in output
    assert "kept 1 unreferenced file(s) younger than 60 minutes" in output


def test_min_age_sets_what_counts_as_old(media_root: Path, db: None) -> None:
    orphan = put(media_root, "originals/2026/05/orphan.png", 20)

    sweep("--min-age", "30")
    assert orphan.exists()
    sweep("--min-age", "10")
    assert not orphan.exists()


def test_a_dry_run_reports_and_deletes_nothing(image: Image, media_root: Path) -> None:
    orphan = put(media_root, "thumbnails/2026/01/dead.webp", 120)

    output = sweep("--dry-run")

    assert orphan.exists()
    assert "Would delete thumbnails/2026/01/dead.webp" in output
    assert "Would delete 1 orphan file(s)" in output


def test_a_row_committed_after_the_names_were_read_saves_its_files(
    image: Image, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gallery.management.commands import sweep_orphan_files

    age(media_root, image, 600)
    monkeypatch.setattr(sweep_orphan_files, "referenced_names", set)  # as if read too early

    output = sweep()

    assert (media_root / image.file.name).exists()
    assert (media_root / image.thumbnail.name).exists()
    assert "Deleted 0 orphan file(s)" in output


def test_it_copes_with_an_empty_media_root(db: None) -> None:
    assert "Deleted 0 orphan file(s)" in sweep()


def test_a_negative_min_age_is_refused(db: None) -> None:
    with pytest.raises(CommandError):
        sweep("--min-age", "-1")
