"""Collections: named sets of one person's images."""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gallery.models.images import Image


class CollectionQuerySet(models.QuerySet["Collection"]):
    def for_user(self, user: Any) -> "CollectionQuerySet":
        return self.filter(owner=user)

    def with_counts(self) -> "CollectionQuerySet":
        kept = models.Q(images__trashed_at__isnull=True)
        return self.annotate(image_count=models.Count("images", filter=kept))


class Collection(models.Model):
    """A named set of one person's images; an image can be in several."""

    uuid = models.UUIDField(_("UUID"), unique=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="collections",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=120)
    images = models.ManyToManyField(
        Image, through="CollectionImage", related_name="collections", verbose_name=_("images")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection")
        verbose_name_plural = _("collections")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="collection_names_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("collection_detail", args=[self.uuid])


class CollectionImage(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE)
    image = models.ForeignKey(Image, on_delete=models.CASCADE)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("image in a collection")
        verbose_name_plural = _("images in collections")
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "image"], name="image_once_per_collection"
            )
        ]

    def __str__(self) -> str:
        return gettext("Image %(image)s in collection %(collection)s") % {
            "image": self.image_id,
            "collection": self.collection_id,
        }
