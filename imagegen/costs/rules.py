"""A model's price rule: what one request costs, before (an estimate) and after (from `usage`).

A rule is JSON kept beside the model's schema (`ImageModel.price`), in one of two shapes:

Per image (DALL·E, Seedream, qwen-image): a price for each image, the first matching case wins::

    {"currency": "USD", "per_image": "0.04",
     "cases": [{"when": {"quality": ["hd"], "size": ["1792x1024"]}, "per_image": "0.12"}],
     "per_pixels": 1048576}

`per_pixels` (optional) says the price is for that many pixels and grows with the image's area.

Per token (GPT image models): USD per million tokens of each kind, with what an estimate needs
to guess the tokens before the upstream counts them::

    {"currency": "USD",
     "per_million_tokens": {"text_input": "5", "image_input": "8", "image_output": "30"},
     "output_tokens": {"low": 272, "medium": 1056, "high": 4160},
     "input_image_tokens": 765}

`output_tokens` are per 1024x1024 image at each quality and grow with the area;
`input_image_tokens` is what one input image (an edit's, a reference) is counted as.

Amounts are Decimals (written as strings in JSON, so nothing is lost to floating point).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from imagegen.catalogue.sizes import pixels_of

MEGAPIXEL = 1024 * 1024
MILLION = Decimal(1_000_000)
PLACES = Decimal("0.000001")  # amounts are kept to a millionth of the currency
CHARACTERS_PER_TOKEN = 4
TOKEN_KINDS = ("text_input", "image_input", "image_output", "text_output")
# What "auto" size is guessed as (and "auto" quality, in _output_tokens): the most the model
# chooses by itself, so that an estimate (and the budget that counts it) does not fall short.
AUTO_SIZE = (1536, 1024)


@dataclass(frozen=True)
class Estimate:
    """What a request should cost; `approximate` when the upstream counts tokens itself."""

    amount: Decimal
    currency: str
    approximate: bool
    at_most: bool = False  # "auto" quality or size was counted as the most the model picks


@dataclass(frozen=True)
class Cost:
    """What a finished request cost, and how that is known (`Generation.CostBasis`)."""

    amount: Decimal
    currency: str
    basis: str  # "usage" or "price"


def money(value: Any) -> Decimal:
    """An amount from a rule (string or number), to a millionth."""
    return Decimal(str(value)).quantize(PLACES)


def price_errors(rule: Any) -> list[str]:
    """What is wrong with a price rule, in English for admin (empty: it can be used). An empty
    rule `{}` is allowed: the model's price is unknown."""
    if rule in ({}, None):
        return []
    if not isinstance(rule, Mapping):
        return ["A price rule is a JSON object."]
    errors = []
    currency = rule.get("currency")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        errors.append("currency: a three-letter code such as USD.")
    per_image, per_token = "per_image" in rule, "per_million_tokens" in rule
    if per_image == per_token:
        return [*errors, "Give either per_image or per_million_tokens."]
    if per_image:
        errors += _amount_errors("per_image", rule["per_image"])
        cases = rule.get("cases", [])
        if not isinstance(cases, list):
            errors.append("cases: a list.")
            cases = []
        for number, case in enumerate(cases, 1):
            if not isinstance(case, Mapping) or not isinstance(case.get("when"), Mapping):
                errors.append(f"cases[{number}]: needs when and per_image.")
                continue
            errors += _amount_errors(f"cases[{number}].per_image", case.get("per_image"))
            for name, values in case["when"].items():
                if not isinstance(values, list):
                    errors.append(f"cases[{number}].when.{name}: a list of values.")
        if "per_pixels" in rule and not _positive_int(rule["per_pixels"]):
            errors.append("per_pixels: a whole number of pixels.")
    else:
        rates = rule["per_million_tokens"]
        if not isinstance(rates, Mapping) or not rates:
            return [*errors, "per_million_tokens: the price of each kind of token."]
        for kind, value in rates.items():
            if kind not in TOKEN_KINDS:
                errors.append(f"per_million_tokens.{kind}: not one of {', '.join(TOKEN_KINDS)}.")
            errors += _amount_errors(f"per_million_tokens.{kind}", value)
        tokens = rule.get("output_tokens", {})
        if not isinstance(tokens, Mapping) or not all(map(_positive_int, tokens.values())):
            errors.append("output_tokens: whole numbers of tokens for each quality.")
        if "input_image_tokens" in rule and not _positive_int(rule["input_image_tokens"]):
            errors.append("input_image_tokens: a whole number of tokens.")
    return errors


def estimate_cost(
    rule: Mapping[str, Any], parameters: Mapping[str, Any], prompt: str, input_images: int
) -> Estimate | None:
    """What a request with these parameters should cost; None when the rule is empty."""
    if not rule:
        return None
    currency = rule["currency"]
    images = _images(parameters)
    automatic_quality = str(parameters.get("quality", "")) == "auto"
    if "per_image" in rule:
        each, scaled = _image_price(rule, parameters)
        by_quality = any("quality" in case["when"] for case in rule.get("cases", []))
        at_most = scaled or (automatic_quality and by_quality)
        return Estimate(money(each * images), currency, approximate=at_most, at_most=at_most)
    text_tokens = math.ceil(len(prompt) / CHARACTERS_PER_TOKEN)
    image_tokens = input_images * int(rule.get("input_image_tokens", 0))
    width, height = _pixels(parameters)
    per_image = _output_tokens(rule, str(parameters.get("quality", "auto")))
    output = math.ceil(per_image * width * height / MEGAPIXEL) * images
    amount = _token_amount(rule, text_tokens, image_tokens, output, 0)
    quality_guessed = str(parameters.get("quality", "auto")) not in rule.get("output_tokens", {})
    at_most = quality_guessed or str(parameters.get("size", "auto")) == "auto"
    return Estimate(amount, currency, approximate=True, at_most=at_most)


def actual_cost(
    rule: Mapping[str, Any],
    parameters: Mapping[str, Any],
    *,
    usage: Mapping[str, Any] | None,
    images_returned: int,
) -> Cost | None:
    """What a request that the upstream answered cost: from its token `usage` where the rule
    prices tokens, else the rule's price for each image returned (or counted in `usage`)."""
    if not rule:
        return None
    currency = rule["currency"]
    if "per_million_tokens" in rule and usage and _counts(usage):
        return Cost(_usage_amount(rule, usage), currency, "usage")
    if "per_image" in rule:
        each, _scaled = _image_price(rule, parameters)
        counted = usage.get("generated_images") if usage else None
        images = counted if _positive_int(counted) else images_returned
        return Cost(money(each * images), currency, "price")
    # Tokens priced but none counted: the estimate's guess, for the images that came back.
    guess = estimate_cost(rule, {**parameters, "n": images_returned}, "", 0)
    assert guess is not None
    return Cost(guess.amount, currency, "price")


def _image_price(rule: Mapping[str, Any], parameters: Mapping[str, Any]) -> tuple[Decimal, bool]:
    """One image's price, and whether it was scaled by a guessed area."""
    each = Decimal(str(rule["per_image"]))
    for case in rule.get("cases", []):
        when = case["when"].items()
        if all(str(parameters.get(name)) in map(str, values) for name, values in when):
            each = Decimal(str(case["per_image"]))
            break
    if "per_pixels" not in rule:
        return each, False
    width, height = _pixels(parameters)
    guessed = str(parameters.get("size", "auto")) == "auto"
    return each * Decimal(width * height) / Decimal(int(rule["per_pixels"])), guessed


def _output_tokens(rule: Mapping[str, Any], quality: str) -> int:
    table = rule.get("output_tokens", {})
    if quality in table:
        return int(table[quality])
    # "auto": high, the most a model chooses by itself (xhigh and max are asked for).
    return int(table.get("high") or max(map(int, table.values()), default=0))


def _token_amount(
    rule: Mapping[str, Any], text_in: int, image_in: int, image_out: int, text_out: int
) -> Decimal:
    rates = {kind: Decimal(str(value)) for kind, value in rule["per_million_tokens"].items()}
    text_rate = rates.get("text_input", Decimal(0))
    total = (
        text_in * text_rate
        + image_in * rates.get("image_input", text_rate)
        + image_out * rates.get("image_output", Decimal(0))
        + text_out * rates.get("text_output", rates.get("image_output", Decimal(0)))
    )
    return money(total / MILLION)


def _usage_amount(rule: Mapping[str, Any], usage: Mapping[str, Any]) -> Decimal:
    """OpenAI's usage: input tokens split into text and image, output tokens (all image tokens
    unless split too)."""
    input_tokens = _count(usage.get("input_tokens"))
    details = usage.get("input_tokens_details") or {}
    image_in = _count(details.get("image_tokens"))
    text_in = _count(details.get("text_tokens")) if details else input_tokens
    output_tokens = _count(usage.get("output_tokens"))
    out = usage.get("output_tokens_details") or {}
    text_out = _count(out.get("text_tokens"))
    image_out = _count(out.get("image_tokens")) if out else output_tokens - text_out
    return _token_amount(rule, text_in, image_in, image_out, text_out)


def _counts(usage: Mapping[str, Any]) -> bool:
    return any(_count(usage.get(name)) for name in ("input_tokens", "output_tokens"))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _images(parameters: Mapping[str, Any]) -> int:
    try:
        return max(1, int(parameters.get("n", 1)))
    except (TypeError, ValueError):
        return 1


def _pixels(parameters: Mapping[str, Any]) -> tuple[int, int]:
    size = str(parameters.get("size", "auto"))
    if size == "auto":
        return AUTO_SIZE
    return pixels_of(size) or (1024, 1024)


def _amount_errors(where: str, value: Any) -> list[str]:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return [f'{where}: an amount such as "0.04".']
    if isinstance(value, bool) or not amount.is_finite() or amount < 0:
        return [f'{where}: an amount such as "0.04".']
    return []


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
