"""The estimate a form shows before sending: each model's share (one, or several when one prompt
goes to several models) and the total, beside where the person stands against their limits."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from imagegen.costs.budgets import Standing, standing_of
from imagegen.costs.ledger import estimate_for
from imagegen.costs.money import price_summary
from imagegen.costs.rules import Estimate
from imagegen.models import Allowance, ImageModel, PersonalKey

if TYPE_CHECKING:
    from imagegen.forms import GenerateForm


@dataclass(frozen=True)
class Line:
    """One model's share of a request."""

    model: ImageModel
    images: int
    estimate: Estimate | None  # None: the model's price is unknown

    @property
    def how_priced(self) -> str:
        return price_summary(self.model.price)


@dataclass
class Plan:
    lines: list[Line] = field(default_factory=list)
    standing: Standing | None = None
    own_key: bool = False  # the person's own key pays: the site's spend cap does not apply

    @property
    def totals(self) -> list[Estimate]:
        """One total per currency (almost always one)."""
        sums: dict[str, list[Any]] = defaultdict(lambda: [Decimal(0), False])
        for line in self.lines:
            if line.estimate is not None:
                total = sums[line.estimate.currency]
                total[0] += line.estimate.amount
                total[1] = total[1] or line.estimate.approximate
        return [Estimate(amount, currency, rough) for currency, (amount, rough) in sums.items()]

    @property
    def budget_currency(self) -> str:
        return settings.BUDGET_CURRENCY

    @property
    def at_most(self) -> bool:
        """Whether an "auto" quality or size was counted as the most the model picks."""
        return any(line.estimate is not None and line.estimate.at_most for line in self.lines)

    @property
    def unknown(self) -> bool:
        return any(line.estimate is None for line in self.lines)

    @property
    def images(self) -> int:
        return sum(line.images for line in self.lines)

    @property
    def over_budget(self) -> bool:
        """Whether this request, on top of what is spent or on its way, passes the monthly cap."""
        left = self.standing.spend_left if self.standing and not self.own_key else None
        spent = sum(
            (t.amount for t in self.totals if t.currency == settings.BUDGET_CURRENCY), Decimal(0)
        )
        return left is not None and spent > left

    @property
    def over_images(self) -> bool:
        left = self.standing.images_left if self.standing else None
        return left is not None and self.images > left


def plan_for(forms: list["GenerateForm"], owner: Any) -> Plan:
    """The estimate for valid forms (the chosen model's first)."""
    limits = Allowance.objects.limits_for(owner)
    counted = limits.monthly_spend_cap is not None or limits.daily_image_cap is not None
    plan = Plan(
        standing=standing_of(owner, limits=limits) if counted else None,
        own_key=PersonalKey.objects.filter(user=owner).exists(),
    )
    for form in forms:
        options = form.options()
        sent = [planned for planned in form.planned_inputs() if planned.role != "varied"]
        estimate = estimate_for(form.image_model, options, form.cleaned_data["prompt"], len(sent))
        plan.lines.append(Line(form.image_model, int(options.get("n", 1)), estimate))
    return plan


def with_some_prompt(data: QueryDict) -> QueryDict:
    """The form's values with a prompt in place of none: a price does not wait for the words
    (its few tokens are left out of the estimate until they are written)."""
    if data.get("prompt", "").strip():
        return data
    data = data.copy()
    data["prompt"] = "…"
    return data


def render_estimate(request: HttpRequest, forms: list["GenerateForm"]) -> HttpResponse:
    """The estimate's partial (includes/cost_estimate.html): the plan for valid forms, or a
    word that the options must be valid first."""
    plan = plan_for(forms, request.user) if forms else None
    return render(request, "includes/cost_estimate.html", {"plan": plan})
