"""A backup of the whole studio, the database and the image files, and its restore into a fresh
database and media location (`manage.py backup`, `manage.py restore`; docs/deployment.md).

A backup is a directory, `studio-<UTC time>/`, holding:
- `database.pgdump` (pg_dump's custom format, one consistent snapshot) or `database.sqlite3`
  (SQLite's online backup, consistent too, taken while the studio runs);
- `media/`, a copy of MEDIA_ROOT, when the files are on local disk. With object storage the
  bucket is copied by the storage's own tools instead (docs/deployment.md says how);
- `backup.json`, what it holds.

The database and the files cannot be copied at one instant, so the files are copied twice: once
before the database's snapshot, then, after it, every file written since the first copy began
(again, in case the first pass met it half-written). Files are never rewritten once complete (a
name is an image's UUID), so every file a row of the snapshot names is whole in the backup. Files
deleted meanwhile stay in the backup, unreferenced: after a restore the orphan sweep removes them.

The commands read the same settings as the studio (DATABASE_URL, MEDIA_ROOT, the storage), and
give PostgreSQL's programs the password through their environment, never their command line.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import CommandError
from django.db import connection

INFO = "backup.json"
MEDIA = "media"
DUMPS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
# Copied again after the snapshot: files written from this long before the first copy began
# (file times are not exact to the second on every file system).
MTIME_SLACK = 2.0


@dataclass(frozen=True)
class Report:
    path: Path
    files: int
    bytes: int


def back_up(destination: Path, *, link_latest: bool = False) -> Report:
    """Write a new backup under `destination`; with `link_latest`, files that the newest complete
    backup there already holds are hard-linked rather than copied (a file never changes once
    written), so a daily backup costs only what is new."""
    latest = latest_backup(destination) if link_latest else None
    target = new_directory(destination, f"studio-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    media = local_media_root()
    earlier = latest / MEDIA if latest else None
    started = time.time()
    if media is not None:
        copy_files(media, target / MEDIA, earlier=earlier)
    dump_database(target / DUMPS[connection.vendor])
    files = bytes_ = 0
    if media is not None:
        copy_files(media, target / MEDIA, written_since=started - MTIME_SLACK)
        for path in (target / MEDIA).rglob("*"):
            if path.is_file():
                files, bytes_ = files + 1, bytes_ + path.stat().st_size
    info = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "media": "local" if media is not None else f"not copied: {storage_description()}",
        "files": files,
        "bytes": bytes_,
    }
    (target / INFO).write_text(json.dumps(info, indent=2) + "\n")
    return Report(target, files, bytes_)


def restore(backup: Path) -> Report:
    """Restore `backup` into the database and media location the settings name, both empty."""
    if not (backup / INFO).is_file():
        raise CommandError(f"{backup} is not a complete backup: it has no {INFO}.")
    info = json.loads((backup / INFO).read_text())
    if info["database"] != connection.vendor:
        raise CommandError(f"This backup is of {info['database']}, not {connection.vendor}.")
    if connection.introspection.table_names():
        raise CommandError("The database is not empty: restore into a new, empty database.")
    has_media = (backup / MEDIA).is_dir()
    if has_media:
        check_storage_is_empty()
    load_database(backup / DUMPS[connection.vendor])
    files = bytes_ = 0
    if has_media:
        files, bytes_ = put_files(backup / MEDIA)
    return Report(backup, files, bytes_)


def latest_backup(destination: Path) -> Path | None:
    """The newest backup under `destination` that was finished (it has its backup.json)."""
    finished = sorted(path.parent for path in destination.glob(f"studio-*/{INFO}"))
    return finished[-1] if finished else None


def new_directory(parent: Path, name: str) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 100):
        path = parent / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            path.mkdir()
        except FileExistsError:
            continue  # another backup began in the same second
        return path
    raise CommandError(f"Too many backups named {name} in {parent}.")


def local_media_root() -> Path | None:
    return (
        Path(default_storage.location) if isinstance(default_storage, FileSystemStorage) else None
    )


def storage_description() -> str:
    bucket = getattr(default_storage, "bucket_name", None)
    return f"bucket {bucket}" if bucket else type(default_storage).__name__


def copy_files(
    source: Path, target: Path, *, written_since: float = 0.0, earlier: Path | None = None
) -> None:
    """Copy the tree under `source`: every file, or only those modified since `written_since`
    and changed since the first pass copied them (a copy replaced, never a link to the earlier
    backup). A file deleted while it is copied is skipped."""
    for directory, _, names in os.walk(source):
        relative = Path(directory).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in names:
            found, copy = Path(directory) / name, target / relative / name
            try:
                status = found.stat()
                if status.st_mtime < written_since or same_file(copy, status):
                    continue  # older than the pass, or copied (or linked) already unchanged
                before = earlier / relative / name if earlier else None
                if before is not None and same_file(before, status):
                    os.link(before, copy)
                else:
                    copy.unlink(missing_ok=True)
                    shutil.copy2(found, copy)
            except FileNotFoundError:
                continue  # deleted meanwhile: no row of the snapshot can need it


def same_file(before: Path, status: os.stat_result) -> bool:
    try:
        kept = before.stat()
    except FileNotFoundError:
        return False
    return kept.st_size == status.st_size and int(kept.st_mtime) == int(status.st_mtime)


def check_storage_is_empty() -> None:
    media = local_media_root()
    if media is not None:
        if media.exists() and any(media.iterdir()):
            raise CommandError(f"{media} is not empty: restore into a new, empty MEDIA_ROOT.")
        return
    directories, files = default_storage.listdir("")
    if directories or files:
        raise CommandError(f"The {storage_description()} is not empty: restore into a new one.")


def put_files(source: Path) -> tuple[int, int]:
    """The backup's files, under the same names, into the storage the settings name."""
    media = local_media_root()
    if media is not None:
        shutil.copytree(source, media, dirs_exist_ok=True)
    files = bytes_ = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        files, bytes_ = files + 1, bytes_ + path.stat().st_size
        if media is None:  # object storage: the same key, or the restore is wrong
            name = path.relative_to(source).as_posix()
            with path.open("rb") as content:
                if default_storage.save(name, File(content)) != name:
                    raise CommandError(f"{name} was stored under another name.")
    return files, bytes_


def dump_database(target: Path) -> None:
    if connection.vendor == "sqlite":
        copy_sqlite(settings.DATABASES["default"]["NAME"], target)
        return
    run_postgres("pg_dump", "--format=custom", "--file", str(target))


def load_database(dump: Path) -> None:
    connection.close()
    if connection.vendor == "sqlite":
        copy_sqlite(dump, settings.DATABASES["default"]["NAME"])
        return
    # Objects owned by whoever restores, with no grants: the studio's own role runs it.
    run_postgres(
        "pg_restore",
        "--exit-on-error",
        "--single-transaction",
        "--no-owner",
        "--no-privileges",
        "--dbname",
        settings.DATABASES["default"]["NAME"],
        str(dump),
    )


def copy_sqlite(source: object, target: object) -> None:
    """SQLite's online backup: a consistent copy, taken while others write."""
    with (
        closing(sqlite3.connect(str(source))) as live,
        closing(sqlite3.connect(str(target))) as copy,
    ):
        live.backup(copy)


def run_postgres(program: str, *arguments: str) -> None:
    database = settings.DATABASES["default"]
    environment = os.environ | {
        name: str(value)
        for name, value in (
            ("PGHOST", database.get("HOST")),
            ("PGPORT", database.get("PORT")),
            ("PGUSER", database.get("USER")),
            ("PGPASSWORD", database.get("PASSWORD")),
            ("PGDATABASE", database.get("NAME")),
        )
        if value
    }
    finished = subprocess.run(  # noqa: S603 (PostgreSQL's own program, our arguments)
        [postgres_program(program), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise CommandError(f"{program} failed:\n{finished.stderr.strip()}")


def postgres_program(name: str) -> str:
    """PG_BINDIR's (pg_dump must be at least as new as the server), else the PATH's."""
    if os.environ.get("PG_BINDIR"):
        return str(Path(os.environ["PG_BINDIR"]) / name)
    found = shutil.which(name)
    if found is None:
        raise CommandError(f"{name} not found: install PostgreSQL's client programs.")
    return found
