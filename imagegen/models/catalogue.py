"""The model catalogue as rows: each model's facts and parameter schema (`ImageModel`), and what
the upstream's live lists last said of each model (`UpstreamModel`, written by sync_models)."""

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from imagegen.catalogue import (
    FAMILIES,
    RESULT_KINDS,
    SPEC_FACTS,
    ModelSpec,
    readable,
    schema_errors,
)
from imagegen.costs.rules import price_errors


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

    def with_live(self) -> "ImageModelQuerySet":
        """Each model with what the live list says of it (`ImageModel.live`), in the same query:
        for lists that show every model's availability, such as admin's."""
        live = UpstreamModel.objects.filter(name=OuterRef("name"))
        return self.annotate(
            live_offered=Subquery(live.values("offered")[:1]),
            live_shutdown_on=Subquery(live.values("shutdown_on")[:1]),
        )

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
    # The price rule beside the schema (imagegen/costs/rules.py), and where it came from: the
    # catalogue sync replaces a shipped or synced price, never one an administrator set.
    price = models.JSONField(
        _("price"),
        default=dict,
        blank=True,
        help_text=_(
            "What a request costs: per image or per million tokens (JSON). Empty: unknown."
        ),
    )

    class PriceSource(models.TextChoices):
        SHIPPED = "shipped", _("Shipped with the studio")
        CATALOGUE = "catalogue", _("CometAPI's catalogue")
        ADMIN = "admin", _("Set by an administrator")

    price_source = models.CharField(
        _("price from"),
        max_length=20,
        choices=PriceSource.choices,
        default=PriceSource.SHIPPED,
        help_text=_("Set by an administrator: the catalogue sync leaves the price as it is."),
    )
    price_updated_at = models.DateTimeField(_("price as of"), null=True, blank=True)
    price_note = models.CharField(_("price note"), max_length=200, blank=True)

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
        if price_problems := price_errors(self.price):
            raise ValidationError({"price": price_problems})
        if self.max_images < 1:
            raise ValidationError({"max_images": _("At least 1.")})

    def spec(self) -> ModelSpec:
        return ModelSpec.from_schema(
            self.schema, **{fact: getattr(self, fact) for fact in SPEC_FACTS}
        )

    @cached_property
    def live(self) -> "UpstreamModel | None":
        """What the live list last said of this model (None: it has never listed it): from the
        columns `for_new_jobs()` and `with_live()` read with the row, else looked up."""
        if not hasattr(self, "live_offered"):
            return UpstreamModel.objects.filter(name=self.name).first()
        if self.live_offered is None:
            return None
        ends = self.live_shutdown_on
        if isinstance(ends, str):  # SQLite gives a raw query's date column as text
            ends = date.fromisoformat(ends)
        return UpstreamModel(name=self.name, offered=bool(self.live_offered), shutdown_on=ends)

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
    "replacement", "schema", "price", "price_note",
]  # fmt: skip


class UpstreamModelQuerySet(models.QuerySet["UpstreamModel"]):
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
