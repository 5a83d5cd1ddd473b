"""Each person's own CometAPI key, encrypted at rest (Fernet, with keys from the environment:
KEY_ENCRYPTION_KEYS), used for their jobs and their model sync only, never shown back beyond its
last four characters.

The secret is decrypted only where a request is about to carry it (`secret()`, `job_key()`), and
never kept anywhere else: not on the job, not in a log, not in an error. Rotation: put a new key
first in KEY_ENCRYPTION_KEYS, keep the old ones after it, run `manage.py rotate_personal_keys`,
then drop the old ones (README, "Your own CometAPI key").
"""

import base64
import hashlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from imagegen.models.allowances import Allowance

MAX_KEY_LENGTH = 200
# Stored in English on a failed job and translated when shown (imagegen.job_messages).
KEY_UNREADABLE = gettext_noop("Your saved key can no longer be read: add it again in Settings.")
SITE_KEY_NOT_OFFERED = gettext_noop(
    "Add your own CometAPI key in Settings to generate: this site's key is not offered to you."
)


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        # No key of its own configured: one derived from SECRET_KEY (the README says to set
        # KEY_ENCRYPTION_KEYS in production, so that the two secrets can be rotated apart).
        digest = hashlib.sha256(b"image-studio personal keys\0" + secret_key.encode()).digest()
        keys = (base64.urlsafe_b64encode(digest).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    """Encrypts with the first of KEY_ENCRYPTION_KEYS, decrypts with any of them (rotation)."""
    return _fernet(tuple(settings.KEY_ENCRYPTION_KEYS), settings.SECRET_KEY)


class KeyUnreadable(Exception):
    """A stored key no configured encryption key opens (KEY_ENCRYPTION_KEYS lost its key)."""


class NoKeyToUse(Exception):
    """A job may use neither the person's own key nor the site's; `code` and `message` (English,
    translated when shown) say which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass
class Rotation:
    """What `rotate_all()` did: rows encrypted again, and the people whose key no encryption key
    opens (left as they are, so that restoring the lost key can still save them)."""

    rotated: int = 0
    unreadable: list[str] = field(default_factory=list)


class PersonalKeyQuerySet(models.QuerySet["PersonalKey"]):
    def keep(self, user: Any, secret: str) -> "PersonalKey":
        """Add or replace `user`'s key; what the old one offered is forgotten with it."""
        key = self.filter(user=user).first() or PersonalKey(user=user)
        key.set_secret(secret)
        key.added_at = timezone.now()
        key.offered_models = None
        key.models_checked_at = None
        key.save()
        return key

    def rotate_all(self) -> Rotation:
        """Encrypt every key again with the first of KEY_ENCRYPTION_KEYS."""
        report = Rotation()
        for key in self.select_related("user").order_by("pk"):
            try:
                key.rotate()
            except KeyUnreadable:
                report.unreadable.append(key.user.get_username())
                continue
            key.save(update_fields=["encrypted"])
            report.rotated += 1
        return report


def job_key(owner: Any) -> str | None:
    """The key a job of `owner` is sent with now: their own, decrypted, or None for the site's.

    Raises NoKeyToUse when their saved key cannot be read, or when they have none and the
    administrator has taken the site key from them since they submitted."""
    key = PersonalKey.objects.filter(user=owner).first()
    if key is not None:
        try:
            return key.secret()
        except KeyUnreadable:
            raise NoKeyToUse("key_unreadable", KEY_UNREADABLE) from None
    if not Allowance.objects.limits_for(owner).site_key_allowed:
        raise NoKeyToUse("no_key", SITE_KEY_NOT_OFFERED)
    return None


class PersonalKey(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="personal_key",
        verbose_name=_("person"),
    )
    encrypted = models.TextField(_("encrypted key"), editable=False)
    last_four = models.CharField(_("ends with"), max_length=4, editable=False)
    added_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)
    # What the key's own GET /models last listed (None: never read), for the person's model list.
    offered_models = models.JSONField(_("models the key offers"), null=True, blank=True)
    models_checked_at = models.DateTimeField(_("models checked"), null=True, blank=True)

    objects = PersonalKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal API key")
        verbose_name_plural = _("personal API keys")

    def __str__(self) -> str:
        return f"…{self.last_four}"

    def set_secret(self, secret: str) -> None:
        self.encrypted = fernet().encrypt(secret.encode()).decode()
        self.last_four = secret[-4:]

    def secret(self) -> str:
        try:
            return fernet().decrypt(self.encrypted.encode()).decode()
        except InvalidToken:
            raise KeyUnreadable from None

    def rotate(self) -> None:
        """Encrypt again with the first encryption key (after KEY_ENCRYPTION_KEYS gained one)."""
        try:
            self.encrypted = fernet().rotate(self.encrypted.encode()).decode()
        except InvalidToken:
            raise KeyUnreadable from None

    @property
    def readable(self) -> bool:
        try:
            self.secret()
        except KeyUnreadable:
            return False
        return True

    def record_offered(self, names: list[str]) -> None:
        """What the key's own GET /models listed just now (their model sync)."""
        self.offered_models = sorted(set(names))
        self.models_checked_at = timezone.now()
        self.save(update_fields=["offered_models", "models_checked_at"])

    def limits_models(self, models: list[Any]) -> list[Any]:
        """Of `models` (catalogue rows), those the key offers; all of them while unknown."""
        if self.offered_models is None:
            return models
        offered = set(self.offered_models)
        return [model for model in models if model.name in offered]
