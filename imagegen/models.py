"""Generation data: the model catalogue as rows, and one row per generation request."""

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from imagegen.catalogue import FAMILIES, Profile

# (list field, its default field) pairs that clean() checks together.
PROFILE_CHOICES = [
    ("sizes", "default_size"),
    ("qualities", "default_quality"),
    ("styles", "default_style"),
    ("response_formats", "default_response_format"),
    ("output_formats", "default_output_format"),
    ("backgrounds", "default_background"),
    ("moderations", "default_moderation"),
]


class ImageModelQuerySet(models.QuerySet["ImageModel"]):
    def enabled(self) -> "ImageModelQuerySet":
        return self.filter(enabled=True)


class ImageModel(models.Model):
    """One upstream image model and its capability profile, editable in admin.

    Choice lists are JSON lists of the exact values the upstream accepts; an empty list means the
    parameter is never sent for this model.
    """

    name = models.CharField(max_length=100, unique=True, help_text=_("The id sent upstream."))
    label = models.CharField(max_length=100)
    family = models.CharField(max_length=20, choices=FAMILIES)
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=100, help_text=_("Lower comes first."))
    prompt_max_length = models.PositiveIntegerField(default=4000)
    max_images = models.PositiveSmallIntegerField(default=1)
    sizes = models.JSONField(default=list)
    default_size = models.CharField(max_length=20, blank=True)
    custom_sizes = models.BooleanField(
        default=False, help_text=_("Also accept any WxH within the GPT image 2 size rules.")
    )
    qualities = models.JSONField(default=list, blank=True)
    default_quality = models.CharField(max_length=20, blank=True)
    styles = models.JSONField(default=list, blank=True)
    default_style = models.CharField(max_length=20, blank=True)
    response_formats = models.JSONField(default=list, blank=True)
    default_response_format = models.CharField(max_length=20, blank=True)
    output_formats = models.JSONField(default=list, blank=True)
    default_output_format = models.CharField(max_length=20, blank=True)
    backgrounds = models.JSONField(default=list, blank=True)
    default_background = models.CharField(max_length=20, blank=True)
    moderations = models.JSONField(default=list, blank=True)
    default_moderation = models.CharField(max_length=20, blank=True)
    supports_compression = models.BooleanField(default=False)
    supports_streaming = models.BooleanField(default=False)
    max_partial_images = models.PositiveSmallIntegerField(default=0)
    returns_revised_prompt = models.BooleanField(default=False)
    returns_usage = models.BooleanField(default=False)

    objects = ImageModelQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        """Refuse a profile that would let the form send something the model cannot take."""
        errors: dict[str, str] = {}
        for values_field, default_field in PROFILE_CHOICES:
            values = getattr(self, values_field)
            default = getattr(self, default_field)
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                errors[values_field] = _("Enter a JSON list of strings, or [] for none.")
            elif values and default not in values:
                errors[default_field] = _("The default must be one of %(values)s.") % {
                    "values": ", ".join(values)
                }
            elif not values and default:
                errors[default_field] = _("Leave empty when the list is empty.")
        if not self.sizes:
            errors["sizes"] = _("A model needs at least one size.")
        if self.max_images < 1:
            errors["max_images"] = _("At least 1.")
        if self.max_partial_images > 3:
            errors["max_partial_images"] = _("The endpoint takes at most 3 partial images.")
        if errors:
            raise ValidationError(errors)

    def profile(self) -> Profile:
        values: dict[str, Any] = {f.name: getattr(self, f.name) for f in self._meta.fields}
        return Profile.from_mapping(values)


class GenerationQuerySet(models.QuerySet["Generation"]):
    def for_user(self, user: Any) -> "GenerationQuerySet":
        return self.filter(owner=user)


class Generation(models.Model):
    """One request to the image endpoint: who asked, what was sent, and how it ended."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Done")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations"
    )
    model_name = models.CharField(max_length=100)
    prompt = models.TextField()
    parameters = models.JSONField(
        default=dict, help_text=_("Every parameter sent upstream, apart from the prompt.")
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    images_failed = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    request_id = models.CharField(max_length=200, blank=True)
    usage = models.JSONField(null=True, blank=True)
    returned_settings = models.JSONField(
        default=dict, blank=True, help_text=_("size, quality, background, output_format as echoed.")
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    upstream_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Time spent waiting for the upstream.")
    )

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.model_name}: {self.prompt[:60]}"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}

    @property
    def requested_images(self) -> int:
        return int(self.parameters.get("n", 1))

    @property
    def total_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None

    def mark_running(self) -> None:
        self.status = self.Status.RUNNING
        self.started_at = timezone.now()
        self.save(update_fields=["status", "started_at"])

    def mark_failed(self, code: str, message: str) -> None:
        self.status = self.Status.FAILED
        self.error_code, self.error_message = code, message
        self.finished_at = timezone.now()
        self.save(update_fields=["status", "error_code", "error_message", "finished_at"])

    def record_response(
        self,
        *,
        request_id: str,
        usage: dict[str, Any] | None,
        returned_settings: dict[str, str],
        attempts: int,
        upstream_ms: int,
    ) -> None:
        self.request_id = request_id
        self.usage = usage
        self.returned_settings = returned_settings
        self.attempts = attempts
        self.upstream_ms = upstream_ms
        self.save(
            update_fields=["request_id", "usage", "returned_settings", "attempts", "upstream_ms"]
        )

    def mark_finished(
        self, *, saved: int, failed: int, error_code: str, error_message: str
    ) -> None:
        """Done if at least one image was kept; failed images are counted and explained."""
        self.status = self.Status.SUCCEEDED if saved else self.Status.FAILED
        self.images_failed = failed
        self.error_code, self.error_message = error_code, error_message
        self.finished_at = timezone.now()
        self.save(
            update_fields=["status", "images_failed", "finished_at", "error_code", "error_message"]
        )

    def form_initial(self) -> dict[str, Any]:
        """This generation's settings as initial values for the generate form (remix)."""
        return {"model": self.model_name, "prompt": self.prompt, **self.parameters}
