"""Amounts as people read them: "$0.034", "$12.50", "less than $0.001", in the active locale's
digits and separators."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

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
