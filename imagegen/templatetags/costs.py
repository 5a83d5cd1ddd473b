"""`{{ amount|money:currency }}`: an amount as imagegen.costs.money formats it."""

from decimal import Decimal

from django import template

from imagegen.costs.money import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = "USD") -> str:
    return format_money(amount, currency or "USD")
