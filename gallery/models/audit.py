"""Who looked at another person's files: every view of an image's file by someone other than its
owner through the "view any person's files" permission (admin thumbnails included) is recorded
here, and shown read-only in admin. Snapshots of the names keep the record readable after the
person, the image or the viewer is deleted."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FileAccessRecord(models.Model):
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("viewer"),
    )
    viewer_name = models.CharField(_("viewer's username"), max_length=150)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    owner_name = models.CharField(_("owner's username"), max_length=150)
    image = models.ForeignKey(
        "gallery.Image",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("image"),
    )
    image_uuid = models.UUIDField(_("image UUID"))
    variant = models.CharField(_("file"), max_length=20)
    path = models.CharField(_("address"), max_length=500)
    viewed_at = models.DateTimeField(_("viewed"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("view of another person's file")
        verbose_name_plural = _("views of other people's files")
        ordering = ["-viewed_at"]

    def __str__(self) -> str:
        return f"{self.viewer_name} → {self.owner_name}/{self.image_uuid} ({self.variant})"
