"""`manage.py backup DIRECTORY`: the database and the image files (imagegen.backups)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from imagegen.backups import back_up


class Command(BaseCommand):
    help = "Back up the database and the media files into a new directory under DIRECTORY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--link-latest",
            action="store_true",
            help="hard-link the files the newest backup in DIRECTORY holds, rather than copy them",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = back_up(options["directory"], link_latest=options["link_latest"])
        if options["verbosity"] >= 1:
            self.stdout.write(f"{report.path} ({report.files} files, {report.bytes} bytes)")
