"""Saved presets: a named model and its options, one person's own (issue 11).

A preset holds what the generate form would send for the model, never a prompt or reference
images; its values were checked by the form against the model's schema when it was saved, and
are checked again whenever it is applied (the model may have changed since).
"""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _


class PresetQuerySet(models.QuerySet["Preset"]):
    def for_user(self, user: Any) -> "PresetQuerySet":
        return self.filter(owner=user)


class Preset(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="presets",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=100)
    model_name = models.CharField(_("model"), max_length=100)
    values = models.JSONField(
        _("options"), default=dict, blank=True, help_text=_("The model's options, as sent.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PresetQuerySet.as_manager()

    class Meta:
        verbose_name = _("preset")
        verbose_name_plural = _("presets")
        ordering = ["name", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="preset_name_unique_per_owner")
        ]

    def __str__(self) -> str:
        return self.name

    def apply_url(self) -> str:
        """The generate page opened with this preset's model and options."""
        return f"{reverse('generate')}?{urlencode(settings_query(self.model_name, self.values))}"


def settings_query(model_name: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    """A model and its options as query-string pairs the generate page reads back."""
    pairs = [("model", model_name)]
    for name, value in values.items():
        if isinstance(value, list):
            continue  # reference images are never part of a preset
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        pairs.append((name, text))
    return pairs
