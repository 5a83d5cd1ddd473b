"""Every image the studio keeps, its files, its stack of versions and its time in the Trash."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallery import formats

MAX_RATING = 5  # stars


class ImageQuerySet(models.QuerySet["Image"]):
    def kept(self) -> "ImageQuerySet":
        """Images not in the Trash: the only ones anything but the Trash page shows or shares."""
        return self.filter(trashed_at__isnull=True)

    def for_user(self, user: Any) -> "ImageQuerySet":
        """A person's images, out of the Trash."""
        return self.filter(owner=user, trashed_at__isnull=True)

    def in_trash_of(self, user: Any) -> "ImageQuerySet":
        return self.filter(owner=user, trashed_at__isnull=False)

    def search(self, text: str) -> "ImageQuerySet":
        """Images whose prompt or revised prompt contains `text`, in any language."""
        from gallery.search import search_images  # the search module needs this model

        return search_images(self, text) if text.strip() else self

    def matching(self, typed: str) -> "ImageQuerySet":
        """Images that match a search as a person types it, as the gallery's box reads it:
        words in any order, "a phrase", -exclusions (gallery.search.parse_terms)."""
        from gallery.search import search_words

        return search_words(self, typed)

    def delete_with_files(self) -> int:
        """Delete these images and, once the deletion is committed, their files. A deleted
        first version hands its stack to the oldest version that stays."""
        files = self.values_list("file", "thumbnail", "grid")
        names = [name for row in files for name in row if name]
        ids = list(self.values_list("id", flat=True))
        with transaction.atomic():
            _hand_over_stacks(ids)
            count, _deleted = Image.objects.filter(id__in=ids).delete()
        transaction.on_commit(lambda: delete_stored_files(names))
        return count

    def move_to_trash(self) -> datetime | None:
        """Move these images to the Trash, all at one moment, which names this action for Undo;
        None when none of them was out of it. A trashed first version hands its stack on (and
        joins it), so the versions that stay are still grouped."""
        moment = timezone.now()
        with transaction.atomic():
            ids = list(self.kept().values_list("id", flat=True))
            if not ids:
                return None
            _hand_over_stacks(ids)
            Image.objects.filter(id__in=ids).update(trashed_at=moment)
        return moment

    def restore(self) -> int:
        """Take these images out of the Trash. A version whose first version is still in the
        Trash becomes (or joins) a stack of the restored ones."""
        with transaction.atomic():
            ids = list(self.filter(trashed_at__isnull=False).values_list("id", flat=True))
            count = Image.objects.filter(id__in=ids).update(trashed_at=None)
            _regroup_restored(ids)
        return count

    def trash_expired(self, now: datetime | None = None) -> "ImageQuerySet":
        """Images in the Trash longer than TRASH_DAYS: the purge deletes them, files too."""
        cutoff = (now or timezone.now()) - timedelta(days=settings.TRASH_DAYS)
        return self.filter(trashed_at__lt=cutoff)

    def files_visible_to(self, user: Any) -> "ImageQuerySet":
        """Whose files a user may fetch: their own (in the Trash too, where they are shown), or
        anyone's for a person granted `gallery.view_any_files` (gallery.access), never merely
        for being staff or a superuser."""
        from gallery.access import may_view_any_files  # it reads this module's models

        return self if may_view_any_files(user) else self.filter(owner=user)


def _hand_over_stacks(leaving: list[int]) -> None:
    """For each first version about to leave (deleted or trashed), its oldest version that is
    kept becomes the first, and every other version, the leaving ones too, points to it: a
    stack never falls apart into loose images, and one restored from the Trash is found in it."""
    roots = Image.objects.filter(id__in=leaving, stacked__isnull=False).values_list("id", flat=True)
    for root in set(roots):
        staying = Image.objects.kept().filter(stack_root_id=root).exclude(id__in=leaving)
        heir = staying.order_by("id").first()
        if heir is not None:
            versions = Image.objects.filter(Q(stack_root_id=root) | Q(pk=root))
            versions.exclude(pk=heir.pk).update(stack_root=heir)
            Image.objects.filter(pk=heir.pk).update(stack_root=None)


def _regroup_restored(restored: list[int]) -> None:
    """Restored versions whose first version is still in the Trash: the oldest of them becomes
    the first, and the rest of that stack (the trashed first too) points to it."""
    stranded = Image.objects.filter(id__in=restored, stack_root__trashed_at__isnull=False)
    for root in set(stranded.values_list("stack_root_id", flat=True)):
        heir = stranded.filter(stack_root_id=root).order_by("id").first()
        assert heir is not None
        versions = Image.objects.filter(Q(stack_root_id=root) | Q(pk=root))
        versions.exclude(pk=heir.pk).update(stack_root=heir)
        Image.objects.filter(pk=heir.pk).update(stack_root=None)


def delete_stored_files(names: list[str]) -> None:
    storage = default_storage
    for name in names:
        storage.delete(name)


def original_path(image: "Image", filename: str) -> str:
    # Named by the image's random UUID, never by anything a person chose, so names cannot be
    # guessed and never collide (two users can get byte-identical images).
    return f"originals/{image.created_at:%Y/%m}/{image.uuid}.{image.format}"


def thumbnail_path(image: "Image", filename: str) -> str:
    return f"thumbnails/{image.created_at:%Y/%m}/{image.uuid}.webp"


def grid_path(image: "Image", filename: str) -> str:
    # A folder of its own: sweep_orphan_files reads originals/ and thumbnails/ against the
    # `file` and `thumbnail` columns only, and must never take a grid rendition for an orphan.
    return f"grid/{image.created_at:%Y/%m}/{image.uuid}.webp"


class Image(models.Model):
    class Origin(models.TextChoices):
        GENERATED = "generated", _("Generated")
        UPLOADED = "uploaded", _("Uploaded")

    # The integer key orders the gallery (newest first, keyset pages) and is the rowid the search
    # index points at; people only ever see the random `uuid`.
    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(_("UUID"), unique=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="images",
        verbose_name=_("owner"),
    )
    generation = models.ForeignKey(
        "imagegen.Generation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="images",
        verbose_name=_("generation"),
        help_text=_("None for an uploaded image."),
    )
    index = models.PositiveSmallIntegerField(
        _("index"), help_text=_("Position within its generation.")
    )
    origin = models.CharField(
        _("origin"), max_length=20, choices=Origin.choices, default=Origin.GENERATED
    )
    original_name = models.CharField(
        _("uploaded file name"), max_length=255, blank=True, help_text=_("As the person named it.")
    )
    found_metadata = models.JSONField(
        _("metadata found in the file"),
        default=dict,
        blank=True,
        help_text=_("What an uploaded file said about how it was made (gallery.found_metadata)."),
    )
    # The first image of the line of edits and variations this one belongs to, for stacking
    # versions in the grid; None for a first version.
    stack_root = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stacked",
        verbose_name=_("first version"),
    )
    file = models.FileField(_("file"), upload_to=original_path, max_length=200)
    thumbnail = models.FileField(_("thumbnail"), upload_to=thumbnail_path, max_length=200)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    thumbnail_width = models.PositiveIntegerField(_("thumbnail width"))
    thumbnail_height = models.PositiveIntegerField(_("thumbnail height"))
    # The grid rendition (gallery.verify.GRID_SIZE px), chosen by `srcset` beside the thumbnail
    # for the gallery's tiles; empty for an image kept before it existed, until the
    # backfill_grid_thumbnails command has made it.
    grid = models.FileField(
        _("grid thumbnail"), upload_to=grid_path, max_length=200, null=True, blank=True
    )
    grid_width = models.PositiveIntegerField(_("grid thumbnail width"), null=True, blank=True)
    grid_height = models.PositiveIntegerField(_("grid thumbnail height"), null=True, blank=True)
    format = models.CharField(
        _("format"), max_length=10, help_text=_("png, jpeg, webp, gif or svg")
    )
    bytes = models.PositiveIntegerField(_("file size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    # Copied from the generation so the gallery can search and filter on one table.
    model_name = models.CharField(_("model"), max_length=100)
    prompt = models.TextField(_("prompt"))
    revised_prompt = models.TextField(_("revised prompt"), blank=True)
    favourite = models.BooleanField(_("favourite"), default=False)
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RATING)],
        help_text=_("1 to 5 stars, given in the gallery (keys 1-5) or on the image's page."),
    )
    # This image's share of what its job cost (its job's cost over the images returned), in
    # `cost_currency`; None for an upload or a job whose price is unknown.
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=6, null=True, blank=True)
    cost_currency = models.CharField(_("currency"), max_length=3, blank=True)
    created_at = models.DateTimeField(_("created"), db_index=True)
    # When the image was moved to the Trash; None while it is kept. Every image trashed by one
    # action shares the moment, so "Undo" restores exactly that action's images. Its files stay
    # until gallery.trash purges it, TRASH_DAYS later.
    trashed_at = models.DateTimeField(_("moved to the Trash"), null=True, blank=True)

    objects = ImageQuerySet.as_manager()

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("images")
        ordering = ["-id"]
        # Granted explicitly (never implied by staff or superuser status): opening any person's
        # originals and thumbnails, each view recorded (gallery.models.audit).
        permissions = [("view_any_files", _("Can view any person's image files"))]
        constraints = [
            # A retried job can never save the same image of a generation twice.
            models.UniqueConstraint(fields=["generation", "index"], name="one_image_per_slot"),
            models.CheckConstraint(
                condition=Q(origin="uploaded") | Q(generation__isnull=False),
                name="generated_images_have_a_generation",
            ),
            # The same file uploaded twice by one person is one image, even at the same moment.
            models.UniqueConstraint(
                fields=["owner", "sha256"],
                condition=Q(origin="uploaded"),
                name="one_upload_per_file",
            ),
        ]
        # The gallery's own indexes hold kept images only, and name trashed_at as a column (always
        # NULL there): SQLite then reads the index alone for a scan of a person's newest rows,
        # never a row to learn whether it is in the Trash (3.40 does not infer that from the
        # index's condition: tests/test_gallery_migration_0011_trash.py).
        indexes = [
            models.Index(
                fields=["owner", "trashed_at", "-id"],
                condition=Q(trashed_at__isnull=True),
                name="image_owner_kept_newest",
            ),
            # Rated images only (most are not): "rated at least" and "best rated first".
            models.Index(
                fields=["owner", "trashed_at", "-rating", "-id"],
                condition=Q(rating__isnull=False, trashed_at__isnull=True),
                name="image_owner_kept_rated",
            ),
            # Images with a cost (generated ones): "cost from/to" and "most expensive first".
            models.Index(
                fields=["owner", "trashed_at", "-cost", "-id"],
                condition=Q(cost__isnull=False, trashed_at__isnull=True),
                name="image_owner_kept_cost",
            ),
            # Trashed images only (a few): the Trash page and the purge.
            models.Index(
                fields=["trashed_at"],
                condition=Q(trashed_at__isnull=False),
                name="image_trashed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prompt[:60]} ({self.width}x{self.height} {self.format})"

    def get_absolute_url(self) -> str:
        return reverse("image_detail", args=[self.uuid])

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def is_uploaded(self) -> bool:
        return self.origin == self.Origin.UPLOADED

    @property
    def content_type(self) -> str:
        return formats.mime_type(self.format)

    @property
    def thumbnail_stands_in(self) -> bool:
        """Whether a small screen may be shown the still thumbnail instead of the original."""
        return self.format not in formats.SHOWN_WHOLE

    @property
    def alt_text(self) -> str:
        return (self.revised_prompt or self.prompt)[:300]

    @property
    def purge_due(self) -> datetime | None:
        """When an image in the Trash is deleted for good (the purge's next run after it)."""
        if self.trashed_at is None:
            return None
        return self.trashed_at + timedelta(days=settings.TRASH_DAYS)

    def rate(self, stars: int | None) -> None:
        """Give 1-5 stars, or take the rating away (None or 0)."""
        if stars is not None and not 0 <= stars <= MAX_RATING:
            raise ValueError(f"a rating is 0 to {MAX_RATING} stars, not {stars}")
        self.rating = stars or None
        self.save(update_fields=["rating"])

    def toggle_favourite(self) -> None:
        self.favourite = not self.favourite
        self.save(update_fields=["favourite"])

    def download_name(self, variant: str = "original") -> str:
        """A readable file name: the start of the prompt, then the short id."""
        words = "".join(c if c.isalnum() else "-" for c in self.prompt[:48]).strip("-")
        stem = "-".join(part for part in words.split("-") if part) or "image"
        extension = self.format if variant == "original" else formats.THUMBNAIL
        return f"{stem}-{str(self.uuid)[:8]}.{extension}"
