"""Generation data: the model catalogue as rows, and one row per generation request."""

import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import F
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from imagegen.catalogue import (
    FAMILIES,
    RESULT_KINDS,
    ModelSpec,
    label_of,
    readable,
    schema_errors,
    value_label,
)
from imagegen.job_messages import shown_message


def default_schema() -> dict[str, Any]:
    return {"parameters": [], "rules": []}


# Enabled models with what the live list says of each; portable SQL (SQLite, PostgreSQL).
_OFFERED_SQL = (
    "SELECT m.*, u.offered AS live_offered, u.shutdown_on AS live_shutdown_on "
    "FROM {models} m LEFT JOIN {live} u ON u.name = m.name "
    "WHERE m.enabled ORDER BY m.position, m.name"
)


class ImageModelQuerySet(models.QuerySet["ImageModel"]):
    def enabled(self) -> "ImageModelQuerySet":
        return self.filter(enabled=True)

    def for_new_jobs(self, today: date | None = None) -> list["ImageModel"]:
        """Enabled models a new job may use: not retired, unless the live list still offers
        them; not withdrawn by the live list. In position order; the first is the default.

        The generate form asks this on every request, so it is one plain join over the whole
        table (filters on the queryset do not apply): through the ORM's annotations it made a
        submit twice as slow (bench/generate_form.py).
        """
        day = today or timezone.localdate()
        quote = connections[self.db].ops.quote_name
        sql = _OFFERED_SQL.format(
            models=quote(ImageModel._meta.db_table), live=quote(UpstreamModel._meta.db_table)
        )
        models = list(self.raw(sql))
        for model in models:
            offered, ends = model.live_offered, model.live_shutdown_on
            if isinstance(ends, str):  # SQLite returns a raw column's date as text
                ends = date.fromisoformat(ends)
            model.live = None
            if offered is not None:
                model.live = UpstreamModel(name=model.name, offered=bool(offered), shutdown_on=ends)
        return [m for m in models if m.is_available(m.live, day)]


class ImageModel(models.Model):
    """One upstream image model: its facts, and its parameter schema (see imagegen.catalogue).

    `schema` is the JSON document that describes every parameter the model takes; the form,
    the request body, the offline provider and the detail pages all read it through `spec()`.
    """

    name = models.CharField(
        _("name"), max_length=100, unique=True, help_text=_("The id sent upstream.")
    )
    label = models.CharField(_("label"), max_length=100)
    family = models.CharField(_("family"), max_length=20, choices=FAMILIES)
    enabled = models.BooleanField(_("enabled"), default=True)
    position = models.PositiveIntegerField(
        _("position"),
        default=100,
        help_text=_("Lower comes first; the first available model is the default."),
    )
    prompt_max_length = models.PositiveIntegerField(_("longest prompt"), default=4000)
    max_images = models.PositiveSmallIntegerField(_("most images per request"), default=1)
    result_kind = models.CharField(
        _("result kind"),
        max_length=10,
        choices=RESULT_KINDS,
        default="b64_json",
        help_text=_("What the model returns when no response_format parameter says otherwise."),
    )
    returns_revised_prompt = models.BooleanField(_("returns a revised prompt"), default=False)
    returns_usage = models.BooleanField(_("returns token usage"), default=False)
    can_edit = models.BooleanField(
        _("can edit images"), default=False, help_text=_("Served by POST /images/edits too.")
    )
    released_on = models.DateField(_("released"), null=True, blank=True)
    retires_on = models.DateField(
        _("retires"),
        null=True,
        blank=True,
        help_text=_("The day the upstream shuts it down; the live model list may say otherwise."),
    )
    replacement = models.CharField(
        _("replacement"),
        max_length=100,
        blank=True,
        help_text=_("The model to propose instead once it has retired (its name)."),
    )
    schema = models.JSONField(
        _("parameters"),
        default=default_schema,
        help_text=_("Every parameter the model takes, and the rules between them (JSON)."),
    )

    objects = ImageModelQuerySet.as_manager()

    class Meta:
        verbose_name = _("image model")
        verbose_name_plural = _("image models")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        """Refuse a schema that would let the form offer or send something the model cannot take."""
        errors = schema_errors(self.schema)
        if errors:
            raise ValidationError({"schema": errors})
        if self.max_images < 1:
            raise ValidationError({"max_images": _("At least 1.")})

    def spec(self) -> ModelSpec:
        return ModelSpec.from_schema(
            self.schema,
            name=self.name,
            label=self.label,
            family=self.family,
            prompt_max_length=self.prompt_max_length,
            max_images=self.max_images,
            result_kind=self.result_kind,
            returns_revised_prompt=self.returns_revised_prompt,
            returns_usage=self.returns_usage,
        )

    @cached_property
    def live(self) -> "UpstreamModel | None":
        """What the live list last said of this model (None: it has never listed it)."""
        return UpstreamModel.objects.filter(name=self.name).first()

    def shuts_down_on(self, live: "UpstreamModel | None") -> date | None:
        """The live list's word when it has listed the model (its date, or none announced),
        else the shipped end date."""
        if live is not None and live.offered is not None:
            return live.shutdown_on
        return self.retires_on

    def is_available(self, live: "UpstreamModel | None", today: date) -> bool:
        """Whether a new job may use it: what the live list says, else the shipped end date."""
        if live is not None and live.offered is not None:
            ends = live.shutdown_on
            return live.offered and (ends is None or ends > today)
        return self.retires_on is None or self.retires_on > today

    def export(self) -> dict[str, Any]:
        """The model as a JSON document that `import_models` reads back."""
        document = {
            field: (value.isoformat() if isinstance(value, date) else value)
            for field in EXPORTED_FIELDS
            if (value := getattr(self, field)) is not None
        }
        return document | {"schema": readable(self.schema)}


EXPORTED_FIELDS = [
    "name", "label", "family", "position", "prompt_max_length", "max_images", "result_kind",
    "returns_revised_prompt", "returns_usage", "can_edit", "released_on", "retires_on",
    "replacement", "schema",
]  # fmt: skip


class UpstreamModelQuerySet(models.QuerySet["UpstreamModel"]):
    def by_name(self, names: list[str]) -> dict[str, "UpstreamModel"]:
        rows = self.filter(name__in=names).only("name", "offered", "shutdown_on")
        return {row.name: row for row in rows}

    def undescribed_images(self) -> "UpstreamModelQuerySet":
        """Image models the key offers that the catalogue does not describe."""
        return self.filter(offered=True, model_type="image").exclude(
            name__in=ImageModel.objects.values("name")
        )


class UpstreamModel(models.Model):
    """One model as the upstream's live lists last described it (written by `sync_models`).

    `offered` is whether the site key's `GET /models` lists it (None: never checked); the type,
    features and prices come from CometAPI's public catalogue.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    offered = models.BooleanField(_("offered by the key"), null=True, blank=True)
    shutdown_on = models.DateField(_("shuts down"), null=True, blank=True)
    model_type = models.CharField(_("type"), max_length=50, blank=True)
    provider = models.CharField(_("provider"), max_length=100, blank=True)
    features = models.JSONField(_("features"), default=list, blank=True)
    pricing = models.JSONField(
        _("prices"), default=dict, blank=True, help_text=_("As the public catalogue gives them.")
    )
    last_seen_at = models.DateTimeField(_("last listed"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = UpstreamModelQuerySet.as_manager()

    class Meta:
        verbose_name = _("upstream model")
        verbose_name_plural = _("upstream models")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def mark_not_found(cls, name: str) -> None:
        """The upstream answered model_not_found: no new job may use it until a sync says so."""
        now = timezone.now()
        cls.objects.update_or_create(
            name=name,
            defaults={"offered": False, "checked_at": now, "note": "model_not_found from a job"},
        )


UNFINISHED = ["queued", "running"]
FINISHED = {"succeeded", "failed", "cancelled"}


class GenerationQuerySet(models.QuerySet["Generation"]):
    def for_user(self, user: Any) -> "GenerationQuerySet":
        return self.filter(owner=user)

    def unfinished(self) -> "GenerationQuerySet":
        return self.filter(status__in=UNFINISHED)


class Generation(models.Model):
    """One request to the image endpoint: who asked, what was sent, and how it ended."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="generations",
        verbose_name=_("owner"),
    )
    model_name = models.CharField(_("model"), max_length=100)
    prompt = models.TextField(_("prompt"))
    parameters = models.JSONField(
        _("parameters"),
        default=dict,
        help_text=_("Every parameter sent upstream, apart from the prompt."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    error_code = models.CharField(_("error code"), max_length=50, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    images_failed = models.PositiveSmallIntegerField(_("images not saved"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    request_id = models.CharField(_("request id"), max_length=200, blank=True)
    usage = models.JSONField(_("token usage"), null=True, blank=True)
    returned_settings = models.JSONField(
        _("returned settings"),
        default=dict,
        blank=True,
        help_text=_("size, quality, background, output_format as echoed."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    upstream_ms = models.PositiveIntegerField(
        _("upstream time (ms)"),
        null=True,
        blank=True,
        help_text=_("Time spent waiting for the upstream."),
    )
    # Durable-job bookkeeping: which worker process runs it, how often it was started (a job
    # whose worker died is retried once), the newest streamed preview, and whether its owner
    # has seen how it ended.
    worker_id = models.CharField(_("worker"), max_length=200, blank=True)
    runs = models.PositiveSmallIntegerField(_("runs"), default=0)
    preview = models.BinaryField(_("preview"), null=True, blank=True, editable=False)
    previews_received = models.PositiveSmallIntegerField(_("previews received"), default=0)
    seen_at = models.DateTimeField(_("seen"), null=True, blank=True)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        verbose_name = _("generation")
        verbose_name_plural = _("generations")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # Recovery looks for queued and running jobs every few seconds: a small index.
            models.Index(
                fields=["status"],
                condition=models.Q(status__in=UNFINISHED),
                name="generation_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_name}: {self.prompt[:60]}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def is_new(self) -> bool:
        """Ended while its owner was elsewhere, and not shown to them since."""
        return self.is_finished and self.seen_at is None

    @property
    def elapsed_seconds(self) -> int:
        end = self.finished_at or timezone.now()
        return max(0, int((end - self.created_at).total_seconds()))

    @property
    def shown_error_message(self) -> str:
        """The stored (English) error message, in the reader's language."""
        return shown_message(self.error_message)

    @property
    def is_cancellable(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def requested_images(self) -> int:
        return int(self.parameters.get("n", 1))

    @property
    def total_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None

    # Every state change below is a conditional UPDATE, so two processes (a worker and a person
    # pressing Cancel, or two deliveries of the same task) can never both win.

    def claim(self, worker_id: str) -> bool:
        """Start a queued generation on this worker; False if it is not queued any more."""
        claimed = Generation.objects.filter(pk=self.pk, status=self.Status.QUEUED).update(
            status=self.Status.RUNNING,
            started_at=timezone.now(),
            worker_id=worker_id,
            runs=F("runs") + 1,
        )
        self.refresh_from_db()
        return bool(claimed)

    def _update_while_running(self, **fields: Any) -> bool:
        updated = Generation.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(**fields)
        if updated:
            for name, value in fields.items():
                setattr(self, name, value)
        else:
            self.refresh_from_db()
        return bool(updated)

    def record_response(
        self,
        *,
        request_id: str,
        usage: dict[str, Any] | None,
        returned_settings: dict[str, str],
        attempts: int,
        upstream_ms: int,
    ) -> bool:
        return self._update_while_running(
            request_id=request_id,
            usage=usage,
            returned_settings=returned_settings,
            attempts=attempts,
            upstream_ms=upstream_ms,
        )

    def save_preview(self, data: bytes) -> bool:
        return self._update_while_running(
            preview=data, previews_received=F("previews_received") + 1
        )

    def mark_failed(self, code: str, message: str) -> bool:
        return self._update_while_running(
            status=self.Status.FAILED,
            error_code=code,
            error_message=message,
            finished_at=timezone.now(),
        )

    def mark_finished(
        self, *, saved: int, failed: int, error_code: str, error_message: str
    ) -> bool:
        """Done if at least one image was kept; failed images are counted and explained."""
        return self._update_while_running(
            status=self.Status.SUCCEEDED if saved else self.Status.FAILED,
            images_failed=failed,
            error_code=error_code,
            error_message=error_message,
            finished_at=timezone.now(),
            preview=None,  # the images replace the preview
        )

    def cancel(self) -> bool:
        """Stop a queued or running job; a worker still busy with it saves nothing more."""
        cancelled = Generation.objects.filter(pk=self.pk, status__in=UNFINISHED).update(
            status=self.Status.CANCELLED,
            error_code="cancelled",
            error_message=gettext_noop("Cancelled."),  # translated when shown
            finished_at=timezone.now(),
            preview=None,
        )
        self.refresh_from_db()
        return bool(cancelled)

    def lock_if_running(self) -> bool:
        """Inside a transaction: lock the row and say whether the job may still save images."""
        return (
            Generation.objects.select_for_update()
            .filter(pk=self.pk, status=self.Status.RUNNING)
            .exists()
        )

    def mark_seen(self) -> None:
        """The owner has seen how it ended: it is no longer shown as new."""
        if self.is_finished and self.seen_at is None:
            self.seen_at = timezone.now()
            Generation.objects.filter(pk=self.pk).update(seen_at=self.seen_at)

    def parameters_shown(self) -> list[tuple[str, str, Any]]:
        """(name, label, shown value) for each parameter sent, labelled by the model's schema;
        a model no longer in the catalogue shows the names as they were sent."""
        image_model = ImageModel.objects.filter(name=self.model_name).first()
        spec = image_model.spec() if image_model else None
        return [
            (name, label_of(spec, name) if spec else name, value_label(value))
            for name, value in self.parameters.items()
        ]

    def form_initial(self) -> dict[str, Any]:
        """This generation's settings as initial values for the generate form (remix)."""
        return {"model": self.model_name, "prompt": self.prompt, **self.parameters}


class WorkerProcess(models.Model):
    """A running `run_workers` process, seen recently. A job whose worker stopped being seen
    was interrupted (the process was killed) and is retried once or failed."""

    worker_id = models.CharField(max_length=200, primary_key=True)
    threads = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker_id
