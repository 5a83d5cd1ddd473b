"""What a job, an image and a comparison cost, as the pages say it (issue 13: the ledger, shown).

The ledger (imagegen/costs) records the amounts; this says them: an estimate only while a job
waits or runs ("about $0.19"), then the actual cost with how it is known, "Not billed" when the
upstream made nothing, and "Cost unknown" rather than a guess when the model has no price. The
job cards are redrawn by the status poller, so their line is one call with no query.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext, ngettext

from imagegen.catalogue import list_text
from imagegen.costs.money import format_money
from imagegen.models import Generation

if TYPE_CHECKING:
    from gallery.models import ComparisonEntry, Image

BILLED = {Generation.CostBasis.USAGE, Generation.CostBasis.PRICE}


def basis_text(basis: str) -> str:
    """How an actual cost is known, as a short phrase after the amount."""
    if basis == Generation.CostBasis.USAGE:
        return gettext("from the tokens counted")
    return gettext("at the model's price")


def unknown_text() -> str:
    return gettext("Cost unknown: the model has no price")


def job_cost(job: Generation) -> str:
    """One line for a job's card: what it should cost, what it cost, or that it cost nothing."""
    if not job.is_finished:
        if job.estimated_cost is None:
            return unknown_text()
        amount = format_money(job.estimated_cost, job.cost_currency or "USD")
        return gettext("Cost: about %(amount)s") % {"amount": amount}
    basis = job.cost_basis
    if basis in BILLED and job.cost is not None:
        amount = format_money(job.cost, job.cost_currency or "USD")
        if job.status != Generation.Status.SUCCEEDED and not _kept_any(job):
            return gettext("Billed %(amount)s, though no image was saved") % {"amount": amount}
        known = {"amount": amount, "basis": basis_text(basis)}
        return gettext("Cost: %(amount)s, %(basis)s") % known
    if basis == Generation.CostBasis.NOT_BILLED:
        return gettext("Not billed")
    if not basis and job.status == Generation.Status.CANCELLED and job.started_at is None:
        return gettext("Not billed")  # cancelled while it waited: never sent
    return unknown_text()  # no price, or no answer recorded (a cancel while it was drawn)


def _kept_any(job: Generation) -> bool:
    # The card's query prefetches the kept images; counting them costs nothing more.
    return bool(job.images.all())


@dataclass(frozen=True)
class ImageCost:
    """An image's cost for its page: its share, the job's total, how it is known."""

    share: str  # "$0.020"
    total: str  # the job's, when it made several images; else ""
    images: int
    basis: str

    def __str__(self) -> str:
        if self.total:
            text = ngettext(
                "%(share)s, its share of %(total)s for %(images)d image",
                "%(share)s, its share of %(total)s for %(images)d images",
                self.images,
            ) % {"share": self.share, "total": self.total, "images": self.images}
        else:
            text = self.share
        return list_text([text, basis_text(self.basis)])


def image_cost(image: "Image") -> str:
    """An image's cost for its page; "" for an upload (it cost nothing here)."""
    job = image.generation
    if job is None:
        return ""
    if image.cost is None or job.cost_basis not in BILLED:
        return unknown_text()
    currency = image.cost_currency or job.cost_currency or "USD"
    several = (job.images_returned or 0) > 1 and job.cost is not None
    total = format_money(job.cost, currency) if several else ""
    share = format_money(image.cost, currency)
    return str(ImageCost(share, total, job.images_returned or 0, job.cost_basis))


@dataclass(frozen=True)
class EntryCost:
    """What one compared entry cost (or should), in its currency; amount None: not known."""

    amount: Decimal | None
    currency: str
    estimated: bool
    text: str


def entry_cost(entry: "ComparisonEntry") -> EntryCost:
    """A compared entry's cost: its job's (the estimate while it runs), or its image's share."""
    if entry.generation_id is not None:
        job = entry.generation
        text = job_cost(job)
        currency = job.cost_currency or "USD"
        if not job.is_finished:
            return EntryCost(job.estimated_cost, currency, True, text)
        if job.cost_basis in BILLED | {Generation.CostBasis.NOT_BILLED}:
            return EntryCost(job.cost or Decimal(0), currency, False, text)
        return EntryCost(None, currency, False, text)
    image = entry.image
    if image is None or image.generation_id is None:
        return EntryCost(None, "", False, "")  # deleted, or an upload: nothing to say
    currency = image.cost_currency or "USD"
    return EntryCost(image.cost, currency, False, image_cost(image))


def comparison_total(entries: Any) -> str:
    """What a comparison's entries cost in all: per currency, "about" while a job runs, and how
    many entries have no known cost."""
    totals: dict[str, Decimal] = {}
    estimated, unknown = False, 0
    for entry in entries:
        if entry.is_deleted:
            continue
        cost = entry_cost(entry)
        if cost.amount is None:
            unknown += bool(cost.text)
            continue
        totals[cost.currency] = totals.get(cost.currency, Decimal(0)) + cost.amount
        estimated |= cost.estimated
    if not totals:
        return unknown_text() if unknown else ""
    amounts = " + ".join(format_money(amount, currency) for currency, amount in totals.items())
    text = (gettext("about %(amount)s") if estimated else "%(amount)s") % {"amount": amounts}
    if unknown:
        text += " " + ngettext(
            "(and %(count)d entry of unknown cost)",
            "(and %(count)d entries of unknown cost)",
            unknown,
        ) % {"count": unknown}
    return text
