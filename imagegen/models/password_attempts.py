"""Wrong passwords, counted in the database so that every web process on every machine sees the
same count (imagegen/password_attempts.py decides what the count allows)."""

from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class FailedPasswordAttemptQuerySet(models.QuerySet["FailedPasswordAttempt"]):
    def since(self, moment: datetime) -> "FailedPasswordAttemptQuerySet":
        return self.filter(attempted_at__gt=moment)

    def nth_newest_time(self, n: int) -> datetime | None:
        """When the n-th newest of these was made (None if there are fewer than n)."""
        times = self.order_by("-attempted_at").values_list("attempted_at", flat=True)
        return next(iter(times[n - 1 : n]), None)


class FailedPasswordAttempt(models.Model):
    """One wrong password: for which account (the username as typed, case-folded; never the
    password), from which address, when and on which form. An attempt is written before its
    password is checked, so that guesses sent at the same moment count each other, and deleted
    again if the password was right.

    Rows older than PASSWORD_ATTEMPT_WINDOW are deleted as new ones come. Deleting an account's
    rows (or an address's) lifts its lock at once: in the admin, select them and delete them."""

    class Purpose(models.TextChoices):
        SIGN_IN = "sign_in", _("sign in")
        DELETE_ACCOUNT = "delete_account", _("delete account")
        CHANGE_PASSWORD = "change_password", _("change password")

    # Sized for a 150-character username case-folded ("ß" becomes "ss"); longer is cut.
    username = models.CharField(_("username"), max_length=300)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    attempted_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    purpose = models.CharField(_("form"), max_length=20, choices=Purpose.choices)

    objects = FailedPasswordAttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("failed password attempt")
        verbose_name_plural = _("failed password attempts")
        ordering = ["-attempted_at"]
        indexes = [
            models.Index(fields=["username", "attempted_at"], name="password_attempt_account"),
            models.Index(fields=["address", "attempted_at"], name="password_attempt_address"),
        ]

    def __str__(self) -> str:
        return f"{self.username} ({self.address or '?'})"
