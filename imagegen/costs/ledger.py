"""The ledger: what a job should cost when it is submitted, and what it cost once the upstream
answered, from the tokens it counted (`usage`) or the model's price for each image returned."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from imagegen.costs.rules import PLACES, Estimate, actual_cost, estimate_cost
from imagegen.models import Generation, ImageModel


def estimate_for(
    image_model: ImageModel, parameters: Mapping[str, Any], prompt: str, input_images: int
) -> Estimate | None:
    """What these parameters should cost on this model; None when its price is unknown."""
    return estimate_cost(image_model.price, parameters, prompt, input_images)


def record_answer(
    generation: Generation,
    rule: Mapping[str, Any],
    usage: Mapping[str, Any] | None,
    images_returned: int,
) -> None:
    """The upstream answered (and billed): the job's actual cost by its model's price `rule`,
    whatever became of the job afterwards (an image that failed to download was still paid
    for)."""
    cost = actual_cost(rule, generation.parameters, usage=usage, images_returned=images_returned)
    if cost is None:
        generation.record_cost(None, "", Generation.CostBasis.UNKNOWN, images_returned)
    else:
        generation.record_cost(cost.amount, cost.currency, cost.basis, images_returned)


def record_not_billed(generation: Generation) -> None:
    """The upstream made nothing (it refused, failed, or was never reached): it costs nothing."""
    generation.record_cost(Decimal(0), "", Generation.CostBasis.NOT_BILLED, 0)


def image_share(generation: Generation) -> Decimal | None:
    """One image's share of its job's cost."""
    if generation.cost is None or not generation.images_returned:
        return None
    return (generation.cost / generation.images_returned).quantize(PLACES)
