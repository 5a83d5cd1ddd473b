"""Create the local demo account that `make run` prints, if it does not exist yet."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-studio"  # noqa: S105 - a local demo account, refused unless DEBUG is on


class Command(BaseCommand):
    help = "Create the demo account (a superuser, so the admin can be explored). DEBUG only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("The demo account is for local development: set DEBUG=1.")
        if User.objects.filter(username=DEMO_USERNAME).exists():
            self.stdout.write(f"Demo account exists: {DEMO_USERNAME} / {DEMO_PASSWORD}")
            return
        User.objects.create_superuser(DEMO_USERNAME, "demo@example.org", DEMO_PASSWORD)
        self.stdout.write(f"Created demo account: {DEMO_USERNAME} / {DEMO_PASSWORD}")
