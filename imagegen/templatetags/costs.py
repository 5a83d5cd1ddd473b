"""`{{ amount|money:currency }}` (an amount as imagegen.costs.money formats it) and
`{{ estimate|estimated }}`."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext

from imagegen.costs.money import format_money
from imagegen.costs.rules import Estimate

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = "USD") -> str:
    return format_money(amount, currency or "USD")


@register.filter
def estimated(estimate: Estimate | None) -> str:
    """An estimate as a person reads it: "about $0.19" where tokens are guessed, "$0.04" where
    the price is exact, "unknown" without a price."""
    if estimate is None:
        return gettext("unknown")
    amount = format_money(estimate.amount, estimate.currency)
    return gettext("about %(amount)s") % {"amount": amount} if estimate.approximate else amount
