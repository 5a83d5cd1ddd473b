"""`manage.py sync_models`: read the live model list and prices (imagegen.catalogue.sync)."""

from typing import Any

from django.core.management.base import BaseCommand

from imagegen.catalogue.sync import sync_models


class Command(BaseCommand):
    help = "Read which models the key may use, their end dates and prices, from the upstream."

    def handle(self, *args: Any, **options: Any) -> None:
        report = sync_models()
        for line in report.errors:
            self.stderr.write(f"Could not read the {line}")
        if options["verbosity"] < 1:
            return
        if report.listed is not None:
            self.stdout.write(f"The key offers {report.listed} models.")
        if report.described is not None:
            self.stdout.write(f"The public catalogue describes {report.described} models.")
        for name in report.newly_offered:
            self.stdout.write(f"  newly offered: {name}")
        for name in report.withdrawn:
            self.stdout.write(f"  no longer offered: {name}")
        for name in report.repriced:
            self.stdout.write(f"  new price from the catalogue: {name}")
        for name, day in report.retiring:
            self.stdout.write(f"  shuts down on {day.isoformat()}: {name}")
