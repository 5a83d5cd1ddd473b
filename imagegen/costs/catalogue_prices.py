"""CometAPI's catalogue prices as price rules (`sync_models` writes them; imagegen/costs/rules.py
says what a rule is)."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from imagegen.costs.rules import money


def rule_from_catalogue(current: Mapping[str, Any], pricing: Mapping[str, Any]) -> dict[str, Any]:
    """The rule CometAPI's catalogue prices give (`{currency, input, output, per_request}`, token
    prices per million), keeping what the catalogue does not say: how size and quality change a
    per-image price (every figure moves by the same ratio), the token counts estimates use. The
    current rule unchanged when the catalogue gives nothing usable for it."""
    currency = str(pricing.get("currency") or current.get("currency") or "USD").upper()[:3]
    per_request = _catalogue_amount(pricing.get("per_request"))
    token_input = _catalogue_amount(pricing.get("input"))
    token_output = _catalogue_amount(pricing.get("output"))
    if "per_million_tokens" in current or (not current and token_output is not None):
        if token_output is None:
            return dict(current)
        rates = dict(current.get("per_million_tokens", {}))
        rates["image_output"] = str(token_output)
        if token_input is not None:
            rates["text_input"] = str(token_input)
            rates.setdefault("image_input", str(token_input))
        defaults = {"output_tokens": {"low": 272, "medium": 1056, "high": 4160},
                    "input_image_tokens": 765}  # fmt: skip
        return {**defaults, **current, "currency": currency, "per_million_tokens": rates}
    if per_request is None:
        return dict(current)
    if not current:
        return {"currency": currency, "per_image": str(per_request)}
    base = Decimal(str(current["per_image"]))
    ratio = per_request / base if base else Decimal(1)

    def moved(value: Any) -> str:
        return str(money(Decimal(str(value)) * ratio).normalize())

    cases = [{**case, "per_image": moved(case["per_image"])} for case in current.get("cases", [])]
    rule = {**current, "currency": currency, "per_image": str(per_request)}
    return rule | ({"cases": cases} if cases else {})


def _catalogue_amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None
