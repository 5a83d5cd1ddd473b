"""Generation data: one row per generation request, and the worker processes that run them."""

import bisect
import uuid
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from imagegen.catalogue import label_of, value_label
from imagegen.catalogue.sizes import pixels_of
from imagegen.job_messages import shown_message
from imagegen.models.catalogue import ImageModel

UNFINISHED = ["queued", "running"]
FINISHED = {"succeeded", "failed", "cancelled"}


def queue_places(jobs: list["Generation"]) -> None:
    """Set `jobs_ahead` on every queued job of `jobs` from one read of the queue."""
    queued = [job for job in jobs if job.status == Generation.Status.QUEUED]
    if not queued:
        return
    latest = max(job.created_at for job in queued)
    waiting = Generation.objects.filter(status=Generation.Status.QUEUED, created_at__lte=latest)
    order = list(waiting.order_by("created_at", "id").values_list("created_at", flat=True))
    for job in queued:
        job.jobs_ahead = bisect.bisect_left(order, job.created_at)


class GenerationQuerySet(models.QuerySet["Generation"]):
    def for_user(self, user: Any) -> "GenerationQuerySet":
        return self.filter(owner=user)

    def unfinished(self) -> "GenerationQuerySet":
        return self.filter(status__in=UNFINISHED)

    def for_cards(self) -> "GenerationQuerySet":
        """What a job's card shows, read with the jobs: its images and the comparisons it is in
        (not the stored preview, which has a URL of its own). Images in the Trash are not shown."""
        from gallery.models import Image  # gallery's models build on these

        kept = models.Prefetch("images", queryset=Image.objects.kept())
        return self.defer("preview").prefetch_related(kept, "comparison_entries__comparison")


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

    class Endpoint(models.TextChoices):
        GENERATIONS = "generations", _("Generate")
        EDITS = "edits", _("Edit")

    model_name = models.CharField(_("model"), max_length=100)
    endpoint = models.CharField(
        _("endpoint"),
        max_length=20,
        choices=Endpoint.choices,
        default=Endpoint.GENERATIONS,
        help_text=_("Edits are sent as multipart forms with their input images."),
    )
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
    # The ledger (imagegen/costs): the estimate made at submit (what budgets count while the job
    # is queued or running), then what it cost once the upstream answered, and how that is known.

    class CostBasis(models.TextChoices):
        USAGE = "usage", _("the tokens the upstream counted")
        PRICE = "price", _("the model's price")
        NOT_BILLED = "not_billed", _("not billed: the upstream made nothing")
        UNKNOWN = "unknown", _("unknown: the model has no price")

    estimated_cost = models.DecimalField(
        _("estimated cost"), max_digits=12, decimal_places=6, null=True, blank=True
    )
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=6, null=True, blank=True)
    # Empty by default in the database too: code that knows nothing of the ledger (an older
    # migration's models, a script) can still make a job.
    cost_currency = models.CharField(_("currency"), max_length=3, blank=True, db_default="")
    cost_basis = models.CharField(
        _("cost from"), max_length=20, choices=CostBasis.choices, blank=True, db_default=""
    )
    on_own_key = models.BooleanField(
        _("on the person's own key"),
        default=False,
        db_default=False,
        help_text=_(
            "Sent with the person's own CometAPI key: billed to them, so not counted against "
            "the site's monthly spend cap."
        ),
    )
    images_returned = models.PositiveSmallIntegerField(
        _("images returned"),
        null=True,
        blank=True,
        help_text=_("How many images the upstream answered with (and billed); none yet: empty."),
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
    # The token of the form that asked for it: a resubmission of the same form (its answer lost
    # on the way) finds the job it already made instead of making, and billing, another. Every
    # job of one comparison carries its form's token.
    submit_token = models.UUIDField(_("form token"), null=True, blank=True, editable=False)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        verbose_name = _("generation")
        verbose_name_plural = _("generations")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(
                fields=["owner", "submit_token"],
                condition=models.Q(submit_token__isnull=False),
                name="generation_submit_token",
            ),
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
    def status_token(self) -> str:
        """What a page knows of a running job: when this changes, its card is drawn again."""
        ahead = self.jobs_ahead if self.status == self.Status.QUEUED else ""
        return f"{self.pk}:{self.status}:{self.previews_received}:{ahead}"

    @cached_property
    def jobs_ahead(self) -> int:
        """How many queued jobs (anyone's) wait before this one; `queue_places` sets it for
        several jobs with one query."""
        waiting = Generation.objects.filter(status=self.Status.QUEUED)
        return waiting.filter(created_at__lt=self.created_at).count()

    @property
    def pending_slots(self) -> range:
        """One placeholder per image to come (at most a row's worth)."""
        return range(min(self.requested_images, 10))

    @property
    def expected_shape(self) -> tuple[int, int]:
        """The width and height the images will have, as far as the request says (a square when
        the model chooses): placeholders and previews take this shape, so nothing jumps."""
        return pixels_of(str(self.parameters.get("size", ""))) or (1, 1)

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
        self._read_again()
        return bool(claimed)

    def _update_while_running(self, **fields: Any) -> bool:
        updated = Generation.objects.filter(pk=self.pk, status=self.Status.RUNNING).update(**fields)
        if updated:
            for name, value in fields.items():
                setattr(self, name, value)
        else:
            self._read_again()
        return bool(updated)

    def _read_again(self) -> None:
        """This job as stored now; one deleted meanwhile with its owner's account (its jobs
        were cancelled first: imagegen.account_deletion) reads as cancelled, so a worker still
        busy with it stops as it would for a cancel, and saves nothing."""
        try:
            self.refresh_from_db()
        except Generation.DoesNotExist:
            self.status = self.Status.CANCELLED

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

    def record_cost(self, amount: Any, currency: str, basis: str, images_returned: int) -> None:
        """What the job cost (imagegen/costs/ledger.py), whatever its state: an answer the upstream
        billed stays billed even when the job was cancelled while it was drawn."""
        fields = {"cost": amount, "cost_currency": currency, "cost_basis": basis,
                  "images_returned": images_returned}  # fmt: skip
        Generation.objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    def save_preview(self, data: bytes) -> bool:
        return self._update_while_running(
            preview=data, previews_received=F("previews_received") + 1
        )

    def mark_failed(
        self, code: str, message: str, *, attempts: int | None = None, request_id: str = ""
    ) -> bool:
        """Failed; with the requests the upstream was sent (and the last one's id) when it
        was asked at all, so a job that failed after three tries says so."""
        sent = {} if attempts is None else {"attempts": attempts}
        if request_id:
            sent["request_id"] = request_id[:200]
        return self._update_while_running(
            status=self.Status.FAILED,
            error_code=code,
            error_message=message,
            finished_at=timezone.now(),
            **sent,
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
        """Stop a queued or running job; a worker still busy with it saves nothing more. Its
        owner cancelled it in front of them: it is seen, not new."""
        now = timezone.now()
        cancelled = Generation.objects.filter(pk=self.pk, status__in=UNFINISHED).update(
            status=self.Status.CANCELLED,
            error_code="cancelled",
            error_message=gettext_noop("Cancelled."),  # translated when shown
            finished_at=now,
            seen_at=now,
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

    @property
    def remix_url(self) -> str:
        """Where "use these settings again" goes: the editor of the image an edit changed (while
        it exists), else the generate form."""
        if self.endpoint == self.Endpoint.EDITS:
            edited = self.inputs.filter(role="edited", image__isnull=False).select_related("image")
            if first := edited.only("image__uuid").first():
                return reverse("image_edit", args=[first.image.uuid]) + f"?remix={self.pk}"
        return reverse("generate") + f"?remix={self.pk}"

    def form_initial(self) -> dict[str, Any]:
        """This generation's settings as initial values for the generate form (remix)."""
        sent = [i for i in self.inputs.all() if i.image_id is not None and i.role == "reference"]
        references = {"reference": [str(i.image_uuid) for i in sent]} if sent else {}
        return {"model": self.model_name, "prompt": self.prompt, **self.parameters, **references}


class WorkerProcess(models.Model):
    """A running `run_workers` process, seen recently. A job whose worker stopped being seen
    was interrupted (the process was killed) and is retried once or failed."""

    worker_id = models.CharField(max_length=200, primary_key=True)
    threads = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker_id
