"""The live model list: which models the site key may use, when they shut down, what they cost.

`sync_models()` reads the key's `GET {base}/models` and CometAPI's public catalogue through
imagegen.service and writes what they say into `UpstreamModel` rows; `ImageModel.is_available`
reads those rows. Each list is optional: when one cannot be read, what the other says is still
kept and what was known before stays as it was, so an upstream that is down changes nothing.
It runs from `manage.py sync_models`, a worker's schedule (MODEL_SYNC_INTERVAL) and admin.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from imagegen import service
from imagegen.catalogue.shipped import BASIC_SCHEMA
from imagegen.costs.catalogue_prices import rule_from_catalogue
from imagegen.costs.rules import price_errors
from imagegen.models import ImageModel, UpstreamModel
from imagegen.service import UpstreamError

logger = logging.getLogger(__name__)


@dataclass
class SyncReport:
    """What one sync found, for the command's output and admin's message."""

    listed: int | None = None  # models the key offers; None when the list could not be read
    described: int | None = None  # records in the public catalogue; None when unread
    newly_offered: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    retiring: list[tuple[str, date]] = field(default_factory=list)
    repriced: list[str] = field(default_factory=list)  # catalogue models whose price changed
    errors: list[str] = field(default_factory=list)


def sync_models(*, today: date | None = None) -> SyncReport:
    report = SyncReport()
    now = timezone.now()
    try:
        listed = service.list_models()
    except UpstreamError as error:
        listed = None
        report.errors.append(f"model list: {error.code}: {error.message}")
    try:
        catalogue = service.public_catalogue()
    except UpstreamError as error:
        catalogue = None
        report.errors.append(f"public catalogue: {error.code}: {error.message}")
    with transaction.atomic():
        # The catalogue first: models only it names get rows, which the key's list then marks.
        if catalogue is not None:
            _record_catalogue(catalogue, now, report)
        if listed is not None:
            _record_list(listed, now, report, today or timezone.localdate())
    for line in report.errors:
        logger.warning("sync_models could not read the %s", line)
    return report


def add_with_basic_schema(upstream: UpstreamModel) -> ImageModel:
    """A catalogue entry for a model the key offers that no one has described yet: disabled,
    with one size, for an administrator to fill in and enable."""
    model, _created = ImageModel.objects.get_or_create(
        name=upstream.name,
        defaults={
            "label": upstream.name,
            "family": "other",
            "enabled": False,
            "position": 1000,
            "prompt_max_length": 1000,
            "max_images": 1,
            "result_kind": "url",
            "schema": BASIC_SCHEMA,
        },
    )
    return model


def _record_list(
    listed: list[dict[str, Any]], now: datetime, report: SyncReport, today: date
) -> None:
    before = {row.name: row.offered for row in UpstreamModel.objects.all()}
    seen: set[str] = set()
    for item in listed:
        name = item["id"][:200]
        seen.add(name)
        shutdown_on = _date_or_none(item.get("shutdown_date"))
        UpstreamModel.objects.update_or_create(
            name=name,
            defaults={"offered": True, "shutdown_on": shutdown_on, "last_seen_at": now,
                      "checked_at": now, "note": ""},
        )  # fmt: skip
        if before.get(name) is not True:
            report.newly_offered.append(name)
        if shutdown_on and shutdown_on > today:
            report.retiring.append((name, shutdown_on))
    # Everything the list no longer names, the catalogue's own models included, is withdrawn.
    for name in ImageModel.objects.exclude(name__in=seen).values_list("name", flat=True):
        UpstreamModel.objects.get_or_create(name=name)
    gone = UpstreamModel.objects.exclude(name__in=seen).exclude(offered=False)
    report.withdrawn = sorted(
        name for name in gone.values_list("name", flat=True) if before.get(name)
    )
    UpstreamModel.objects.exclude(name__in=seen).update(offered=False, checked_at=now)
    report.listed = len(seen)


def _record_catalogue(records: list[dict[str, Any]], now: datetime, report: SyncReport) -> None:
    for record in records:
        # A field a record leaves out keeps what was known of it.
        known: dict[str, Any] = {"checked_at": now}
        if record.get("model_type"):
            known["model_type"] = str(record["model_type"])[:50]
        if record.get("provider"):
            known["provider"] = str(record["provider"])[:100]
        if isinstance(record.get("features"), list):
            known["features"] = [str(feature) for feature in record["features"]]
        if isinstance(record.get("pricing"), dict):
            known["pricing"] = record["pricing"]
        UpstreamModel.objects.update_or_create(name=record["id"][:200], defaults=known)
        if "pricing" in known:
            _reprice(record["id"][:200], known["pricing"], now, report)
    report.described = len(records)


def _reprice(name: str, pricing: dict[str, Any], now: datetime, report: SyncReport) -> None:
    """The catalogue's price becomes the model's, unless an administrator set one (never
    overwritten); the price records that it came from the catalogue, and when."""
    model = ImageModel.objects.filter(name=name).first()
    if model is None or model.price_source == ImageModel.PriceSource.ADMIN:
        return
    rule = rule_from_catalogue(model.price, pricing)
    if price_errors(rule) or (not rule and not model.price):
        return
    if rule != model.price:
        report.repriced.append(name)
    model.price = rule
    model.price_source = ImageModel.PriceSource.CATALOGUE
    model.price_updated_at = now
    model.price_note = "CometAPI's catalogue (GET /api/models)."
    model.save(update_fields=["price", "price_source", "price_updated_at", "price_note"])


def _date_or_none(value: Any) -> date | None:
    """A shutdown date as OpenAI gives it (YYYY-MM-DD), or as a Unix time (seconds or
    milliseconds) some gateways send; None for anything else, never an error."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        seconds = value / 1000 if value > 100_000_000_000 else value  # milliseconds, some send
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    return None
