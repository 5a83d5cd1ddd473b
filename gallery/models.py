"""What the studio keeps: every generated image, its files and its metadata."""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImageQuerySet(models.QuerySet["Image"]):
    def for_user(self, user: Any) -> "ImageQuerySet":
        return self.filter(owner=user)

    def files_visible_to(self, user: Any) -> "ImageQuerySet":
        """Whose files a user may fetch: their own, or any for an operator (admin thumbnails)."""
        return self if user.has_perm("gallery.view_image") else self.for_user(user)


def original_path(image: "Image", filename: str) -> str:
    # Named by the image's random UUID, never by anything a person chose, so names cannot be
    # guessed and never collide (two users can get byte-identical images).
    return f"originals/{image.created_at:%Y/%m}/{image.id}.{image.format}"


def thumbnail_path(image: "Image", filename: str) -> str:
    return f"thumbnails/{image.created_at:%Y/%m}/{image.id}.webp"


class Image(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="images"
    )
    generation = models.ForeignKey(
        "imagegen.Generation", on_delete=models.CASCADE, related_name="images"
    )
    index = models.PositiveSmallIntegerField(help_text=_("Position within its generation."))
    file = models.FileField(upload_to=original_path, max_length=200)
    thumbnail = models.FileField(upload_to=thumbnail_path, max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    thumbnail_width = models.PositiveIntegerField()
    thumbnail_height = models.PositiveIntegerField()
    format = models.CharField(max_length=10, help_text=_("png, jpeg or webp"))
    bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    # Copied from the generation so the gallery can search and filter on one table.
    model_name = models.CharField(max_length=100)
    prompt = models.TextField()
    revised_prompt = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A retried job can never save the same image of a generation twice.
            models.UniqueConstraint(fields=["generation", "index"], name="one_image_per_slot"),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.prompt[:60]} ({self.width}x{self.height} {self.format})"

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def alt_text(self) -> str:
        return (self.revised_prompt or self.prompt)[:300]

    def download_name(self, variant: str = "original") -> str:
        """A readable file name: the start of the prompt, then the short id."""
        words = "".join(c if c.isalnum() else "-" for c in self.prompt[:48]).strip("-")
        stem = "-".join(part for part in words.split("-") if part) or "image"
        extension = self.format if variant == "original" else "webp"
        return f"{stem}-{str(self.id)[:8]}.{extension}"
