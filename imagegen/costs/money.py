"""Amounts as people read them: "$0.034", "$12.50", "less than $0.001", in the active locale's
digits and separators; and a price rule in a few words."""

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from imagegen.catalogue import list_text

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥"}
SMALLEST_SHOWN = Decimal("0.001")


def format_money(amount: Decimal | int | float | None, currency: str) -> str:
    """An amount with its currency: two decimals, a third below one unit where it says
    something (image prices are fractions of a cent: $0.034), "less than 0.001" for what would
    round to nothing."""
    if amount is None:
        return ""
    amount = Decimal(str(amount))
    if 0 < abs(amount) < SMALLEST_SHOWN:
        return _("less than %(amount)s") % {"amount": format_money(SMALLEST_SHOWN, currency)}
    places = 2 if abs(amount) >= 1 else 3
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if places == 3 and rounded == rounded.quantize(Decimal("0.01")):
        places, rounded = 2, rounded.quantize(Decimal("0.01"))  # $0.04, not $0.040
    digits = number_format(rounded, decimal_pos=places, force_grouping=True)
    symbol = SYMBOLS.get(currency)
    if symbol is None:
        return f"{digits}\N{NO-BREAK SPACE}{currency}"
    sign, digits = ("-", digits[1:]) if digits.startswith("-") else ("", digits)
    return f"{sign}{symbol}{digits}"


def price_summary(rule: Mapping[str, Any]) -> str:
    """A rule in a few words, for admin and the estimate's explanation (translated)."""
    if not rule:
        return _("unknown")
    currency = rule["currency"]
    if "per_image" in rule:
        amounts = [Decimal(str(rule["per_image"]))]
        amounts += [Decimal(str(case["per_image"])) for case in rule.get("cases", [])]
        low, high = format_money(min(amounts), currency), format_money(max(amounts), currency)
        per = _("per image") if "per_pixels" not in rule else _("per 1024x1024 image")
        return f"{low} {per}" if low == high else f"{low}\N{EN DASH}{high} {per}"
    rates = rule["per_million_tokens"]
    parts = [
        f"{label} {format_money(rates[kind], currency)}"
        for kind, label in (
            ("text_input", _("text in")),
            ("image_input", _("images in")),
            ("image_output", _("images out")),
        )
        if kind in rates
    ]
    return _("%(rates)s per million tokens") % {"rates": list_text(parts)}
