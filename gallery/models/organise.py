"""Collections: named sets of one person's images, chosen by hand or, for a smart collection,
by a saved gallery search that is asked again each time the collection is shown."""

import datetime
import uuid
import zoneinfo
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gallery.models.images import Image, ImageQuerySet
from imagegen.models import Profile
from imagegen.models.people import is_time_zone

if TYPE_CHECKING:
    from gallery.filters import GalleryFilters
    from gallery.paging import ResultCount

# What a smart collection keeps of a search: its filters, not its order (the collection's page
# can be sorted like any) nor the page it was on.
NOT_SAVED = {"sort", "before"}
HAND_PICKING_REFUSED = _(
    "“%(name)s” is a smart collection: it holds the images that match its search, so images "
    "are not added to it or removed from it by hand."
)


class CollectionQuerySet(models.QuerySet["Collection"]):
    def for_user(self, user: Any) -> "CollectionQuerySet":
        return self.filter(owner=user)

    def manual(self) -> "CollectionQuerySet":
        """Collections whose images are added by hand (the ones an image can be put in)."""
        return self.filter(query="")

    def smart(self) -> "CollectionQuerySet":
        return self.exclude(query="")

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
    query = models.TextField(
        _("search"),
        blank=True,
        help_text=_(
            "A smart collection's gallery search, as a query string (q=…&model=…): it shows "
            "every image of its owner's that matches it now. Empty for a collection whose "
            "images are added by hand."
        ),
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

    @property
    def is_smart(self) -> bool:
        return bool(self.query)

    def refuse_hand_picking(self) -> None:
        """Raise ValueError, with a message for its owner, if this is a smart collection."""
        if self.is_smart:
            raise ValueError(HAND_PICKING_REFUSED % {"name": self.name})

    def add_by_hand(self, images: Iterable[Image]) -> None:
        """Put `images` in it (those already there stay once); ValueError if it is smart."""
        self.refuse_hand_picking()
        rows = [CollectionImage(collection=self, image=image) for image in images]
        CollectionImage.objects.bulk_create(rows, ignore_conflicts=True)

    def remove_by_hand(self, images: Iterable[Image]) -> None:
        self.refuse_hand_picking()
        CollectionImage.objects.filter(collection=self, image__in=images).delete()

    def search_filters(self) -> "GalleryFilters":
        """A smart collection's saved search, read as the gallery reads its query string."""
        from gallery.filters import GalleryFilters  # gallery.filters imports this module

        return GalleryFilters(QueryDict(self.query), user=self.owner_id)

    def images_shown(self) -> ImageQuerySet:
        """Its owner's images that it holds now, out of the Trash: those added to it, or for a
        smart collection those that match its search today.

        A smart collection's days are its owner's, whoever looks (a visitor of a share link
        has a time zone of their own). A search that no longer holds (a filter for a model or
        a collection since removed) shows nothing, never more than it did."""
        mine = Image.objects.for_user(self.owner_id)
        if not self.is_smart:
            return mine.filter(collections=self)
        filters = self.search_filters()
        if not filters.is_valid() or not filters.is_filtered:
            return mine.none()
        with timezone.override(time_zone_of(self.owner_id)):
            return filters.apply(mine)

    def count_shown(self) -> "ResultCount":
        """How many images it holds: counted for one added to by hand (from with_counts()
        when the queryset had it), at a bounded cost for a smart one ("about" past a bound)."""
        from gallery.paging import ResultCount, count_of

        if not self.is_smart:
            count = getattr(self, "image_count", None)
            return ResultCount(self.images_shown().count() if count is None else count)
        return count_of(self.images_shown(), Image.objects.for_user(self.owner_id))


def saved_search(filters: "GalleryFilters") -> str:
    """The search a smart collection keeps of `filters`: every valid filter in use, in the
    form's order, written the way the gallery writes it, so two equal searches read the same.
    Nothing (an empty string) when none is in use."""
    kept = QueryDict(mutable=True)
    if not filters.is_bound:
        return ""
    filters.is_valid()  # cleans the data, once
    for name in filters.fields:
        value = filters.cleaned_data.get(name)
        if name in NOT_SAVED or name in filters.errors or value in (None, "", False):
            continue
        if isinstance(value, datetime.date):
            value = value.isoformat()
        kept[name] = "on" if value is True else str(value)
    return kept.urlencode()


def time_zone_of(user_id: int) -> datetime.tzinfo:
    """The person's time zone, or the server's when they have none."""
    name = Profile.objects.filter(user_id=user_id).values_list("time_zone", flat=True).first()
    if name and is_time_zone(name):
        return zoneinfo.ZoneInfo(name)
    return timezone.get_default_timezone()


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
