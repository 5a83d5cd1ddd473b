"""Share links: a public link to one image, one collection or one comparison, until it expires
or is revoked."""

import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gallery.models.comparisons import Comparison
from gallery.models.images import Image
from gallery.models.organise import Collection


def new_share_token() -> str:
    # 32 random bytes: 256 bits, far beyond guessing, and unrelated to any id.
    return secrets.token_urlsafe(32)


class ShareLinkQuerySet(models.QuerySet["ShareLink"]):
    def for_user(self, user: Any) -> "ShareLinkQuerySet":
        return self.filter(owner=user)

    def to_same_thing_as(self, link: "ShareLink") -> "ShareLinkQuerySet":
        """The links to what `link` shares (the same image, collection or comparison)."""
        return self.filter(
            image_id=link.image_id,
            collection_id=link.collection_id,
            comparison_id=link.comparison_id,
        )

    def active(self, now: datetime | None = None) -> "ShareLinkQuerySet":
        """Links that work: not revoked, not expired, and not to an image in the Trash."""
        now = now or timezone.now()
        return self.filter(
            Q(revoked_at__isnull=True),
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            Q(image__isnull=True) | Q(image__trashed_at__isnull=True),
        )


class ShareLink(models.Model):
    """A public link to one image, one collection or one comparison, until it expires or is
    revoked."""

    token = models.CharField(
        _("token"), max_length=64, unique=True, default=new_share_token, editable=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="share_links",
        verbose_name=_("owner"),
    )
    image = models.ForeignKey(
        Image,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="share_links",
        verbose_name=_("image"),
    )
    collection = models.ForeignKey(
        Collection,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="share_links",
        verbose_name=_("collection"),
    )
    comparison = models.ForeignKey(
        Comparison,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="share_links",
        verbose_name=_("comparison"),
    )
    hide_prompt = models.BooleanField(
        _("hide the prompt"),
        default=False,
        help_text=_("Show the image without its prompt or parameters."),
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(image__isnull=False, collection__isnull=True, comparison__isnull=True)
                | Q(image__isnull=True, collection__isnull=False, comparison__isnull=True)
                | Q(image__isnull=True, collection__isnull=True, comparison__isnull=False),
                name="share_exactly_one_thing",
            )
        ]

    def __str__(self) -> str:
        return gettext("Share link to %(thing)s") % {"thing": self.shared_thing}

    @property
    def shared_thing(self) -> Image | Collection | Comparison | None:
        return self.image or self.collection or self.comparison

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        if self.image_id is not None and self.image.trashed_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
