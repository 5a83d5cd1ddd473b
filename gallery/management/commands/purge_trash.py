"""Delete, files too, the images that have been in the Trash longer than TRASH_DAYS.

A worker runs this on the orphan sweep's schedule (ORPHAN_SWEEP_INTERVAL); with that set to 0,
run it from cron instead, e.g. hourly.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gallery.models import Image

BATCH = 500  # images per transaction: a long Trash never holds one lock for long


class Command(BaseCommand):
    help = "Delete the images kept in the Trash longer than TRASH_DAYS, and their files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Say how many would go; delete nothing."
        )

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        expired = Image.objects.trash_expired()
        if dry_run:
            self.stdout.write(f"{expired.count()} images would be purged.")
            return
        purged = 0
        while batch := list(expired.order_by("trashed_at").values_list("id", flat=True)[:BATCH]):
            purged += Image.objects.filter(id__in=batch).delete_with_files()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Purged {purged} images from the Trash.")
