"""Delete stored image files that no Image row points to.

Ingest records each file's key (gallery.PendingFile) before writing it, so a process killed
mid-write (SIGKILL, OOM, a lost machine) leaves a record, which recovery of the job deletes with
its file at once. This sweep does the same for the records nobody will recover (an upload's
request killed more than a few minutes ago, a job no longer running), then deletes, once older
than --min-age, files that neither a row nor a record accounts for: left by older versions, or
by writers that keep no record (backfill_grid_thumbnails). A recorded file is never deleted by
its age: its record says who is writing it. Workers run this on ORPHAN_SWEEP_INTERVAL.
"""

from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from django.core.files.storage import Storage, default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from gallery.models import Image, PendingFile

PREFIXES = ("originals", "thumbnails", "grid")
BATCH = 400  # two IN lists per query, under SQLite's old 999-parameter limit


class Command(BaseCommand):
    help = "Delete files under originals/, thumbnails/ and grid/ that no image refers to."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--min-age",
            type=int,
            default=60,
            metavar="MINUTES",
            help="Only delete files older than this (default 60), so ingests in progress "
            "are never touched.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be deleted; delete nothing."
        )

    def handle(self, *args: Any, min_age: int, dry_run: bool, **options: Any) -> None:
        if min_age < 0:
            raise CommandError("--min-age must not be negative.")
        storage = default_storage
        now = timezone.now()
        left_behind = PendingFile.objects.left_behind(now)
        abandoned = left_behind.count() if dry_run else left_behind.discard()
        cutoff = now - timedelta(minutes=min_age)
        # Names are read before the listing, so a file written after this point is always
        # younger than the cutoff; one set, instead of a query per file.
        referenced = referenced_names()
        seen = fresh = 0
        old: list[str] = []
        for name in stored_names(storage, PREFIXES):
            seen += 1
            if name in referenced:
                continue
            try:
                modified = storage.get_modified_time(name)
            except FileNotFoundError:
                continue  # deleted meanwhile, e.g. by a failed ingest cleaning up
            if modified >= cutoff:
                fresh += 1
            else:
                old.append(name)
        deleted = freed = 0
        for name in still_unreferenced(old):
            try:
                size = storage.size(name)
                if not dry_run:
                    storage.delete(name)
            except FileNotFoundError:
                continue
            deleted, freed = deleted + 1, freed + size
            self.stdout.write(f"{'Would delete' if dry_run else 'Deleted'} {name}")
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {abandoned} file(s) of interrupted writes, with their records.")
        self.stdout.write(
            f"{verb} {deleted} orphan file(s), {freed / 1e6:.1f} MB. Checked {seen} file(s); "
            f"kept {fresh} unreferenced file(s) younger than {min_age} minutes."
        )


def referenced_names() -> set[str]:
    names: set[str] = set()
    columns = ("file", "thumbnail", "grid")
    for row in Image.objects.values_list(*columns).order_by().iterator(chunk_size=5000):
        names.update(name for name in row if name)
    return names


def stored_names(storage: Storage, prefixes: Iterable[str]) -> Iterator[str]:
    """Every file name under the prefixes, as FileFields store them ("originals/2026/05/x.png")."""
    for prefix in prefixes:
        try:
            directories, files = storage.listdir(prefix)
        except FileNotFoundError:
            continue  # nothing stored yet
        for file in files:
            yield f"{prefix}/{file}"
        yield from stored_names(storage, [f"{prefix}/{d}" for d in directories])


def still_unreferenced(names: list[str]) -> Iterator[str]:
    """`names` minus any a row committed since the set was read now refers to, and minus any
    being written (recorded). Read after the listing, records first: a listed file's record was
    committed before its bytes, and it goes in the transaction that saves the file's row."""
    for start in range(0, len(names), BATCH):
        batch = names[start : start + BATCH]
        recorded = set(PendingFile.objects.filter(key__in=batch).values_list("key", flat=True))
        batch = [name for name in batch if name not in recorded]
        rows = Image.objects.filter(Q(file__in=batch) | Q(thumbnail__in=batch) | Q(grid__in=batch))
        columns = rows.values_list("file", "thumbnail", "grid")
        now_referenced = {name for row in columns for name in row if name}
        yield from (name for name in batch if name not in now_referenced)
