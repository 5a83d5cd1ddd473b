"""`manage.py backup` and `manage.py restore` (imagegen/backups.py) on real studios: images
generated through the offline provider and uploaded, a backup, a restore into a fresh database
and a fresh media location (or bucket), the studio's checks on the copy, and every image found
there, byte for byte, and served.

The database is the one this run is on: on PostgreSQL (the suite's PostgreSQL pass) fresh
databases on the same server, with pg_dump and pg_restore found as tests/postgres.py finds the
server's programs; on SQLite, fresh database files.
"""

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.postgres import find_bindir
from tests.studio_process import REPO, manage, studio_environment

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))

MAKE_IMAGES = """
from django.contrib.auth.models import User
from imagegen.forms import GenerateForm
from imagegen.submissions import submit_generation
from gallery.uploads import ingest_upload
from tests.conftest import gif_bytes, png_bytes
owner = User.objects.create_user("alice", password="correct horse battery staple")
other = User.objects.create_user("bob", password="correct horse battery staple")
for person, prompt, n in ((owner, "a harbour at dawn", 2), (other, "a red kite", 1)):
    form = GenerateForm(data={
        "model": "gpt-image-2", "prompt": prompt, "n": n,
        "size": "1024x1024", "quality": "low", "output_format": "png",
    })
    assert form.is_valid(), form.errors
    submit_generation(person, form)
ingest_upload(owner, png_bytes(300, 200, "navy"), "holiday.png")
ingest_upload(owner, gif_bytes(), "spinner.gif")
ingest_upload(other, png_bytes(64, 64, "white"), "square.png")
"""

# Every image as its rows say and as its files are: the stored bytes' digest and size, and the
# original, thumbnail and grid rendition as the studio's own views serve them to the owner.
INVENTORY = """
import hashlib, json
from django.core.files.storage import default_storage
from django.contrib.auth.models import User
from django.test import Client
from django_tasks_db.models import DBTaskResult
from gallery.models import Image
from imagegen.models import Generation

def stored(name):
    if not name:
        return None
    with default_storage.open(name) as f:
        data = f.read()
    return [hashlib.sha256(data).hexdigest(), len(data)]

images = {}
for image in Image.objects.select_related("owner").order_by("uuid"):
    client = Client()
    client.force_login(image.owner)
    served = {}
    for variant in ("original", "thumbnail", "grid"):
        response = client.get(f"/images/{image.uuid}/{variant}")
        if response.status_code == 302:  # object storage: a signed URL, followed by its check
            served[variant] = response.status_code
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        served[variant] = [response.status_code, hashlib.sha256(body).hexdigest()]
    images[str(image.uuid)] = {
        "owner": image.owner.username, "origin": image.origin, "sha256": image.sha256,
        "bytes": image.bytes, "names": [image.file.name, image.thumbnail.name, image.grid.name],
        "files": [stored(image.file.name), stored(image.thumbnail.name), stored(image.grid.name)],
        "served": served,
    }
counts = {
    "users": User.objects.count(), "generations": Generation.objects.count(),
    "images": Image.objects.count(), "tasks": DBTaskResult.objects.count(),
}
print(json.dumps({"images": images, "counts": counts}))
"""


class Site:
    """A studio's database and files: the environment that points its processes at them."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def manage(self, *arguments: str) -> str:
        return manage(self.env, *arguments)

    def inventory(self) -> dict:
        return json.loads(self.manage("shell", "-v0", "-c", INVENTORY).strip().splitlines()[-1])


def postgres_url(name: str) -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator:
    """Makes empty databases: on this run's PostgreSQL server, else SQLite files."""
    made: list[str] = []

    def make(label: str) -> str:
        if not ON_POSTGRES:
            return f"sqlite:///{tmp_path / f'{label}.sqlite3'}"
        import psycopg

        name = f"{label}_{secrets.token_hex(4)}"
        with psycopg.connect(postgres_url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return postgres_url(name)

    yield make
    if made:
        import psycopg

        with psycopg.connect(postgres_url("postgres"), autocommit=True) as admin:
            for name in made:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def site(tmp_path: Path, database_url: str, media: Path, **extra: str) -> Site:
    environment = studio_environment(
        tmp_path / "unused.sqlite3",
        media,
        DATABASE_URL=database_url,
        TASKS_BACKEND="django.tasks.backends.immediate.ImmediateBackend",
        ALLOWED_HOSTS="testserver",  # the inventory's requests, through Django's test client
        **extra,
    )
    bindir = find_bindir() if ON_POSTGRES else None
    if bindir is not None:
        environment["PG_BINDIR"] = str(bindir)
    return Site(environment)


def assert_same_images(before: dict, after: dict) -> None:
    assert after["counts"] == before["counts"]
    assert before["counts"]["images"] == 6  # 2 + 1 generated, 3 uploaded
    assert after["images"] == before["images"]
    for image in after["images"].values():
        original, thumbnail, grid = image["files"]
        assert original == [image["sha256"], image["bytes"]]
        assert thumbnail is not None and grid is not None


def test_a_backup_restored_into_a_fresh_database_and_media_root_finds_every_image(
    tmp_path: Path, new_database
) -> None:
    live = site(tmp_path, new_database("live"), tmp_path / "live-media")
    live.manage("migrate", "-v0")
    live.manage("shell", "-v0", "-c", MAKE_IMAGES)
    before = live.inventory()
    assert all(
        served == [200, file[0]]
        for image in before["images"].values()
        for served, file in zip(image["served"].values(), image["files"], strict=True)
    )

    out = live.manage("backup", str(tmp_path / "backups")).strip()
    [backup] = list((tmp_path / "backups").iterdir())
    assert out.startswith(str(backup))
    info = json.loads((backup / "backup.json").read_text())
    assert info["media"] == "local" and info["files"] >= 18  # 3 files an image, and previews
    assert info["database"] == ("postgresql" if ON_POSTGRES else "sqlite")

    restored = site(tmp_path, new_database("restored"), tmp_path / "restored-media")
    restored.manage("restore", str(backup))
    restored.manage("check", "--fail-level", "WARNING")
    restored.manage("migrate", "--check")  # every migration is in the restored database
    assert_same_images(before, restored.inventory())

    # Restoring twice would mix two studios: an existing database or media is refused.
    again = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "restore", str(backup)],
        cwd=REPO,
        env=restored.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode != 0
    assert "not empty" in again.stderr


def test_a_second_backup_links_the_files_the_first_already_holds(
    tmp_path: Path, new_database
) -> None:
    live = site(tmp_path, new_database("live"), tmp_path / "live-media")
    live.manage("migrate", "-v0")
    live.manage("shell", "-v0", "-c", MAKE_IMAGES)
    backups = tmp_path / "backups"
    live.manage("backup", str(backups))
    (backups / "studio-99999999T999999Z").mkdir()  # the newest, unfinished: never linked to
    live.manage("backup", str(backups), "--link-latest")
    first, second = sorted(path.parent for path in backups.glob("studio-*/backup.json"))
    files = [path for path in (second / "media").rglob("*") if path.is_file()]
    assert files
    for path in files:
        earlier = first / "media" / path.relative_to(second / "media")
        assert path.stat().st_ino == earlier.stat().st_ino  # one copy on disk, two backups


def test_with_object_storage_the_database_and_a_copy_of_the_bucket_restore_every_image(
    tmp_path: Path, new_database, s3_server
) -> None:
    """The bucket is copied with the storage's own tools, as docs/deployment.md says (here
    boto3's copy_object, as `aws s3 sync` does); the backup holds the database."""
    live_bucket = s3_server.new_bucket()
    live = site(tmp_path, new_database("live"), tmp_path / "unused-media")
    live.env |= s3_server.environment(live_bucket)
    live.manage("migrate", "-v0")
    live.manage("shell", "-v0", "-c", MAKE_IMAGES)
    before = live.inventory()

    live.manage("backup", str(tmp_path / "backups"))
    [backup] = list((tmp_path / "backups").iterdir())
    assert not (backup / "media").exists()
    assert json.loads((backup / "backup.json").read_text())["media"].startswith("not copied")
    copy = s3_server.new_bucket()
    client = s3_server.client()
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=live_bucket)
    keys = [entry["Key"] for page in pages for entry in page.get("Contents", ())]
    for key in keys:
        client.copy_object(Bucket=copy, Key=key, CopySource={"Bucket": live_bucket, "Key": key})

    restored = site(tmp_path, new_database("restored"), tmp_path / "unused-media")
    restored.env |= s3_server.environment(copy)
    restored.manage("restore", str(backup))
    restored.manage("check", "--fail-level", "WARNING")
    restored.manage("migrate", "--check")
    after = restored.inventory()
    assert_same_images(before, after)
    assert len(keys) >= 18
