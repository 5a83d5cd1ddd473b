"""Share links: when they expire, the active link behind a token, and what it may show.

A link shows its one image, the images of its collection (for a smart collection, those that
match its search when the link is opened), or the images of its comparison, and nothing else of
its owner's.
Whether the prompt is shown (`hide_prompt`) is decided here for the page's text and its preview
tags; gallery.media takes the prompt out of the served file.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import models
from django.db.models import F
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gallery import formats
from gallery.lineage import edited_from
from gallery.media import THUMBNAIL_TYPE
from gallery.models import Comparison, Image, ImageQuerySet, ShareLink

TITLE_LENGTH = 70  # what chat apps show of a preview's title before cutting it


class Expiry(models.TextChoices):
    NEVER = "never", gettext_lazy("Never")
    HOUR = "1h", gettext_lazy("In 1 hour")
    DAY = "1d", gettext_lazy("In 1 day")
    WEEK = "7d", gettext_lazy("In 7 days")
    MONTH = "30d", gettext_lazy("In 30 days")
    DATE = "date", gettext_lazy("At the end of a chosen day")


EXPIRY_PERIODS: dict[str, timedelta] = {
    Expiry.HOUR: timedelta(hours=1),
    Expiry.DAY: timedelta(days=1),
    Expiry.WEEK: timedelta(days=7),
    Expiry.MONTH: timedelta(days=30),
}


def expiry_time(choice: str, last_day: date | None, now: datetime) -> datetime | None:
    """When a link made `now` stops working; None for never.

    A chosen day counts to its end in the person's time zone: the link works all of that day.
    """
    if choice == Expiry.DATE and last_day is not None:
        next_day = datetime.combine(last_day + timedelta(days=1), time.min)
        return timezone.make_aware(next_day, timezone.get_current_timezone())
    period = EXPIRY_PERIODS.get(choice)
    return now + period if period else None


class Status(models.TextChoices):
    ACTIVE = "active", gettext_lazy("Active")
    EXPIRED = "expired", gettext_lazy("Expired")
    REVOKED = "revoked", gettext_lazy("Revoked")
    TRASHED = "trashed", gettext_lazy("Image in the Trash")


def status_of(link: ShareLink) -> Status:
    if link.revoked_at is not None:
        return Status.REVOKED
    if link.image_id is not None and link.image.trashed_at is not None:
        return Status.TRASHED  # works again if the image is restored in time
    return Status.ACTIVE if link.is_active else Status.EXPIRED


def active_link_or_404(token: str) -> ShareLink:
    """The active link behind `token`; unknown, revoked and expired tokens all answer 404."""
    links = ShareLink.objects.active().select_related("image", "collection", "comparison")
    return get_object_or_404(links, token=token)


def shared_images(link: ShareLink) -> ImageQuerySet:
    """Every image the link shows, newest first: its image, its collection's images (a smart
    collection's: those that match its search now), or its comparison's."""
    # Filtering on the owner too is a second lock: an image of someone else's could never be
    # shown, even if it were wrongly put into the collection.
    # Trashed images leave every link at once.
    images = Image.objects.kept().filter(owner_id=link.owner_id)
    if link.image_id is not None:
        return images.filter(pk=link.image_id)
    if link.comparison is not None:
        return images.filter(pk__in=link.comparison.images().values("pk"))
    if link.collection.is_smart:
        return link.collection.images_shown().filter(owner_id=link.owner_id)
    return images.filter(collections=link.collection_id)


def shared_comparison(link: ShareLink) -> Comparison:
    """The link's comparison, with everything its page draws."""
    return Comparison.objects.with_entries().get(pk=link.comparison_id, owner_id=link.owner_id)


def shared_image_or_404(link: ShareLink, image_id: str) -> Image:
    return get_object_or_404(shared_images(link), uuid=image_id)


def shared_source(link: ShareLink, image: Image) -> str | None:
    """Where the image it was edited or varied from is shared, if it is: in the same collection
    link, or by a link of its own. A source that is not shared is never named."""
    source = edited_from(image)
    if source is None or source.image is None:
        return None
    if shared_images(link).filter(pk=source.image_id).exists():
        return reverse("shared_image", args=[link.token, source.image.uuid])
    own = ShareLink.objects.active().filter(owner_id=link.owner_id, image_id=source.image_id)
    if first := own.only("token").first():
        return reverse("shared_page", args=[first.token])
    return None


def count_view(link: ShareLink) -> None:
    # In the database, so that simultaneous views are all counted.
    ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1)


def public_url(request: HttpRequest, link: ShareLink) -> str:
    return request.build_absolute_uri(reverse("shared_page", args=[link.token]))


def image_alt(link: ShareLink, image: Image) -> str:
    return _("Shared image") if link.hide_prompt else image.alt_text


@dataclass(frozen=True)
class Preview:
    """What a shared page says about itself: its title, and the OpenGraph and Twitter tags."""

    title: str
    description: str
    url: str
    image: Image | None = None
    image_url: str = ""
    image_alt: str = ""
    image_type: str = ""
    image_width: int = 0
    image_height: int = 0


def image_preview(request: HttpRequest, link: ShareLink, image: Image) -> Preview:
    if link.hide_prompt:
        title, description = _("A shared image"), _("An image shared from Image studio.")
    else:
        title = Truncator(image.prompt).chars(TITLE_LENGTH)
        description = _("An image made with %(model)s, %(size)s pixels.") % {
            "model": image.model_name,
            "size": image.size,
        }
    return _preview(request, link, title, description, image)


def collection_preview(
    request: HttpRequest, link: ShareLink, cover: Image | None, count: int
) -> Preview:
    assert link.collection is not None
    description = ngettext(
        "%(count)d image shared from Image studio.",
        "%(count)d images shared from Image studio.",
        count,
    ) % {"count": count}
    return _preview(request, link, link.collection.name, description, cover)


def comparison_preview(
    request: HttpRequest, link: ShareLink, comparison: Comparison, images: list[Image]
) -> Preview:
    count = len(images)
    title = _("A shared comparison") if link.hide_prompt else comparison.shown_title
    description = ngettext(
        "%(count)d image compared side by side, shared from Image studio.",
        "%(count)d images compared side by side, shared from Image studio.",
        count,
    ) % {"count": count}
    cover = comparison.winner if comparison.winner in images else (images[0] if images else None)
    return _preview(request, link, Truncator(title).chars(TITLE_LENGTH), description, cover)


def _preview(
    request: HttpRequest, link: ShareLink, title: str, description: str, image: Image | None
) -> Preview:
    url = request.build_absolute_uri(request.path)  # no query string: one canonical address
    if image is None:
        return Preview(title, description, url)
    if image.format in formats.PREVIEWABLE:
        variant, image_type = "shared_original", image.content_type
        width, height = image.width, image.height
    else:  # chat apps draw no SVG: they are shown its thumbnail
        variant, image_type = "shared_thumbnail", THUMBNAIL_TYPE
        width, height = image.thumbnail_width, image.thumbnail_height
    return Preview(
        title,
        description,
        url,
        image=image,
        image_url=request.build_absolute_uri(reverse(variant, args=[link.token, image.uuid])),
        image_alt=image_alt(link, image),
        image_type=image_type,
        image_width=width,
        image_height=height,
    )
