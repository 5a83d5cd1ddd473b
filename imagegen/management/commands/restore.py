"""`manage.py restore BACKUP`: into a new, empty database and media location (imagegen.backups).

Run `manage.py migrate` afterwards when the backup is older than the code.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from imagegen.backups import restore


class Command(BaseCommand):
    help = "Restore a backup made by `backup` into the empty database and storage configured."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path, help="a studio-<time> directory")

    def handle(self, *args: Any, **options: Any) -> None:
        report = restore(options["backup"])
        if options["verbosity"] >= 1:
            self.stdout.write(f"Restored {report.path} ({report.files} files).")
