"""`manage.py rotate_personal_keys`: encrypt every person's saved key again with the first of
KEY_ENCRYPTION_KEYS (imagegen.models.keys), after a new encryption key was put first.

A key that none of KEY_ENCRYPTION_KEYS opens is named and left as it is, never deleted: putting
the lost encryption key back and running this again still saves it. Exits with status 1 then,
so that a deployment script notices before the old encryption keys are dropped.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from imagegen.models.keys import PersonalKey


class Command(BaseCommand):
    help = "Encrypt every saved personal API key again with the first of KEY_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        report = PersonalKey.objects.rotate_all()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Encrypted again: {report.rotated} keys.")
        if report.unreadable:
            for username in report.unreadable:
                self.stderr.write(f"  no encryption key opens the key of: {username}")
            raise CommandError(
                f"{len(report.unreadable)} keys could not be read and were left as they were: "
                "keep the encryption key that opened them in KEY_ENCRYPTION_KEYS, or ask these "
                "people to add their key again."
            )
