"""Comparisons: images side by side, either the jobs one prompt started on several models, or
two to four images picked from the gallery; one of them may be chosen as the winner."""

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from gallery.models.images import Image, ImageQuerySet
from gallery.models.organise import Collection, CollectionImage

if TYPE_CHECKING:
    from imagegen.models import Generation

MIN_IMAGES = 2
MAX_IMAGES = 4
MAX_JOBS = 12


class ComparisonQuerySet(models.QuerySet["Comparison"]):
    def for_user(self, user: Any) -> "ComparisonQuerySet":
        return self.filter(owner=user)

    def with_entries(self) -> "ComparisonQuerySet":
        """Everything a page draws of each comparison, in a fixed number of queries."""
        return self.select_related("winner").prefetch_related(
            "entries__image__generation", "entries__generation__images"
        )


class ComparisonManager(models.Manager.from_queryset(ComparisonQuerySet)):  # type: ignore[misc]
    def start_for_jobs(
        self, owner: Any, generations: "Sequence[Generation]", title: str = ""
    ) -> "Comparison":
        """The jobs one prompt started on several models, side by side, in the order given."""
        if not generations:
            raise ValueError(gettext("A comparison needs at least one job."))
        if len(generations) > MAX_JOBS:
            raise ValueError(
                gettext("At most %(n)d jobs can be compared at once.") % {"n": MAX_JOBS}
            )
        if any(generation.owner_id != owner.pk for generation in generations):
            raise ValueError(gettext("Only your own jobs can be compared."))
        with transaction.atomic():
            comparison = self.create(owner=owner, title=title.strip()[:200])
            ComparisonEntry.objects.bulk_create(
                ComparisonEntry(comparison=comparison, position=n, generation=generation)
                for n, generation in enumerate(generations)
            )
        return comparison

    def start_for_images(self, owner: Any, images: "Sequence[Image]") -> "Comparison":
        """Two to four of the person's own images, side by side, in the order given."""
        distinct = list({image.pk: image for image in images}.values())
        if not MIN_IMAGES <= len(distinct) <= MAX_IMAGES:
            raise ValueError(
                gettext("Choose between %(low)d and %(high)d images to compare.")
                % {"low": MIN_IMAGES, "high": MAX_IMAGES}
            )
        if any(image.owner_id != owner.pk for image in distinct):
            raise ValueError(gettext("Only your own images can be compared."))
        with transaction.atomic():
            comparison = self.create(owner=owner)
            ComparisonEntry.objects.bulk_create(
                ComparisonEntry(comparison=comparison, position=n, image=image)
                for n, image in enumerate(distinct)
            )
        return comparison


class Comparison(models.Model):
    """Images (or the jobs making them) shown side by side, with the one preferred."""

    uuid = models.UUIDField(_("UUID"), unique=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="comparisons",
        verbose_name=_("owner"),
    )
    title = models.CharField(
        _("title"),
        max_length=200,
        blank=True,
        help_text=_("Empty: the prompt, or how many images are compared."),
    )
    winner = models.ForeignKey(
        Image,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="comparisons_won",
        verbose_name=_("winner"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    objects = ComparisonManager()

    class Meta:
        verbose_name = _("comparison")
        verbose_name_plural = _("comparisons")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="comparison_owner_newest")]

    def __str__(self) -> str:
        return self.shown_title

    def get_absolute_url(self) -> str:
        return reverse("comparison_detail", args=[self.uuid])

    @property
    def shown_title(self) -> str:
        """Its title; else the prompt its entries share; else how many images it compares."""
        if self.title:
            return self.title
        entries = list(self.entries.all())
        prompts = {entry.prompt for entry in entries if entry.prompt}
        if len(prompts) == 1:
            return prompts.pop()[:200]
        count = len(entries)
        return ngettext(
            "Comparison of %(count)d image", "Comparison of %(count)d images", count
        ) % {"count": count}

    def images(self) -> ImageQuerySet:
        """Every image this comparison shows: its images, and the images its jobs made. Only
        ever its owner's, whatever its entries point at."""
        mine = Image.objects.kept().filter(owner_id=self.owner_id)
        return mine.filter(
            Q(comparison_entries__comparison=self)
            | Q(generation__comparison_entries__comparison=self)
        ).distinct()

    @property
    def is_running(self) -> bool:
        """Whether a job of it has still to finish (the page keeps itself current till then)."""
        return any(entry.is_running for entry in self.entries.all())

    def pick_winner(self, image: Image, collection: Collection | None = None) -> None:
        """Make `image` (one of this comparison's) the winner: favoured, and kept in
        `collection` (one of the owner's) when one is given."""
        if not self.images().filter(pk=image.pk).exists():
            raise ValueError(gettext("The winner must be one of the compared images."))
        if collection is not None and collection.owner_id != self.owner_id:
            raise ValueError(gettext("Choose one of your own collections."))
        if collection is not None:
            collection.refuse_hand_picking()
        with transaction.atomic():
            self.winner = image
            self.save(update_fields=["winner"])
            Image.objects.filter(pk=image.pk).update(favourite=True)
            image.favourite = True
            if collection is not None:
                try:
                    with transaction.atomic():
                        CollectionImage.objects.create(collection=collection, image=image)
                except IntegrityError:
                    pass  # already there: adding twice is adding once


class ComparisonEntry(models.Model):
    """One place in a comparison: a job (one prompt sent to several models) or a gallery image.
    Either may be deleted later; the entry stays, shown as deleted."""

    comparison = models.ForeignKey(
        Comparison,
        on_delete=models.CASCADE,
        related_name="entries",
        verbose_name=_("comparison"),
    )
    position = models.PositiveSmallIntegerField(_("position"))
    generation = models.ForeignKey(
        "imagegen.Generation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="comparison_entries",
        verbose_name=_("generation"),
    )
    image = models.ForeignKey(
        Image,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="comparison_entries",
        verbose_name=_("image"),
    )

    class Meta:
        verbose_name = _("compared entry")
        verbose_name_plural = _("compared entries")
        ordering = ["comparison", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["comparison", "position"], name="one_entry_per_position"
            ),
            # Both empty is allowed: what it showed was deleted.
            models.CheckConstraint(
                condition=Q(generation__isnull=True) | Q(image__isnull=True),
                name="entry_is_a_job_or_an_image",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.comparison_id}#{self.position}"

    @property
    def is_deleted(self) -> bool:
        """Whether what it showed is gone: deleted, or an image in the Trash."""
        if self.generation_id is not None:
            return False
        return self.image_id is None or self.image.trashed_at is not None

    @property
    def job(self) -> "Generation | None":
        """The job behind the entry: its own, or the one that made its image."""
        if self.generation_id is not None:
            return self.generation
        return self.image.generation if self.image is not None else None

    @property
    def is_running(self) -> bool:
        return self.generation is not None and not self.generation.is_finished

    @property
    def prompt(self) -> str:
        if self.image is not None:
            return self.image.prompt
        return self.generation.prompt if self.generation is not None else ""

    @property
    def model_name(self) -> str:
        if self.image is not None:
            return self.image.model_name
        return self.generation.model_name if self.generation is not None else ""

    @property
    def latency_ms(self) -> int | None:
        job = self.job
        return job.total_ms if job is not None else None

    def parameters_shown(self) -> list[tuple[str, str, Any]]:
        """(name, label, value) of what the job was sent, or what an uploaded file said."""
        if (job := self.job) is not None:
            return job.parameters_shown()
        found = self.image.found_metadata.get("settings", {}) if self.image is not None else {}
        return [(str(name), str(name), value) for name, value in dict(found).items()]

    @property
    def expected_size(self) -> tuple[int, int]:
        """The width and height the job's images will have, for placeholders of that shape
        (square when the size is not in pixels: "auto", "2K")."""
        size = str(self.generation.parameters.get("size", "")) if self.generation else ""
        width, _x, height = size.partition("x")
        if width.isdigit() and height.isdigit() and int(width) and int(height):
            return int(width), int(height)
        return 1024, 1024

    @property
    def shown_images(self) -> list[Image]:
        """The images the entry shows: its image, or every image its job kept so far; never
        anyone's but the comparison's owner's."""
        if self.image is not None:
            images = [self.image]
        elif self.generation is not None:
            images = list(self.generation.images.all())
        else:
            images = []
        owner = self.comparison.owner_id
        return [i for i in images if i.owner_id == owner and i.trashed_at is None]
