"""What each person may spend and submit, set in admin: a monthly spend cap, a daily image cap, a
submit rate, and whether the site's key may be used for them. A person's own row overrides the
site default row field by field; an empty field means "as the site default" (and there, "no
limit"). imagegen/costs/budgets.py enforces them before anything is queued."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Limits:
    """One person's limits in effect (None: no limit)."""

    monthly_spend_cap: Decimal | None = None
    daily_image_cap: int | None = None
    jobs_per_minute: int | None = None
    site_key_allowed: bool = True


class AllowanceQuerySet(models.QuerySet["Allowance"]):
    def site_default(self) -> "Allowance | None":
        return self.filter(site_default=True).first()

    def limits_for(self, user: Any) -> Limits:
        """The person's own values where set, else the site default's (one query)."""
        rows = list(self.filter(Q(user=user) | Q(site_default=True)))
        own = next((row for row in rows if row.user_id == user.pk), None)
        default = next((row for row in rows if row.site_default), None)

        def pick(field: str) -> Any:
            for row in (own, default):
                if row is not None and getattr(row, field) is not None:
                    return getattr(row, field)
            return None

        allowed = pick("site_key_allowed")
        return Limits(
            monthly_spend_cap=pick("monthly_spend_cap"),
            daily_image_cap=pick("daily_image_cap"),
            jobs_per_minute=pick("jobs_per_minute"),
            site_key_allowed=True if allowed is None else allowed,
        )


class Allowance(models.Model):
    """A person's limits, or (with `site_default`) everyone's unless their own row says else."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="allowance",
        verbose_name=_("person"),
        help_text=_("Empty for the site default."),
    )
    site_default = models.BooleanField(_("site default"), default=False, editable=False)
    monthly_spend_cap = models.DecimalField(
        _("monthly spend cap"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_(
            "The most the person's jobs may cost in a calendar month (in BUDGET_CURRENCY), "
            "counting queued and running jobs at their estimate. Empty: as the site default."
        ),
    )
    daily_image_cap = models.PositiveIntegerField(
        _("daily image cap"),
        null=True,
        blank=True,
        help_text=_("The most images the person may ask for in a day. Empty: as the site default."),
    )
    jobs_per_minute = models.PositiveSmallIntegerField(
        _("jobs per minute"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "The most jobs the person may submit in any minute. Empty: as the site default."
        ),
    )
    site_key_allowed = models.BooleanField(
        _("may use the site's key"),
        null=True,
        blank=True,
        help_text=_(
            "Whether jobs of a person without a key of their own may use the site's. "
            "Unknown: as the site default (which allows it when unset)."
        ),
    )

    objects = AllowanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("budget and limits")
        verbose_name_plural = _("budgets and limits")
        constraints = [
            models.UniqueConstraint(
                fields=["site_default"], condition=Q(site_default=True), name="one_site_default"
            ),
            models.CheckConstraint(
                condition=Q(site_default=True, user__isnull=True)
                | Q(site_default=False, user__isnull=False),
                name="allowance_for_a_person_or_the_site",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Site default")) if self.site_default else str(self.user)
