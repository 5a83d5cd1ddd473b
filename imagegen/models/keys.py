"""Each person's own CometAPI key, encrypted at rest (Fernet, with keys from the environment:
KEY_ENCRYPTION_KEYS), used for their jobs and their model sync only, never shown back beyond its
last four characters."""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
        self.encrypted = fernet().rotate(self.encrypted.encode()).decode()
