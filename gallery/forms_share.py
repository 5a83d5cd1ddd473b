"""The form that makes a share link: when it expires, and whether it hides the prompt."""

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallery.days import DayField
from gallery.models import ShareLink
from gallery.sharing import Expiry, expiry_time


class ShareForm(forms.ModelForm):
    expiry = forms.ChoiceField(label=_("Link expires"), choices=Expiry.choices)
    last_day = DayField(
        label=_("Last day the link works"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only when the link expires at the end of a chosen day."),
    )

    class Meta:
        model = ShareLink
        fields = ["hide_prompt"]
        labels = {"hide_prompt": _("Hide the prompt")}
        help_texts = {
            "hide_prompt": _(
                "People with the link see the image only: no prompt, model or settings, and "
                "the file is served without the prompt embedded in it."
            )
        }

    def clean_last_day(self) -> date | None:
        last_day: date | None = self.cleaned_data["last_day"]
        if last_day is not None and last_day < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later day."))
        return last_day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        choice, last_day = cleaned.get("expiry"), cleaned.get("last_day")
        if choice == Expiry.DATE and last_day is None and "last_day" not in self.errors:
            self.add_error("last_day", _("Choose the last day the link works."))
        elif choice:
            self.instance.expires_at = expiry_time(choice, last_day, timezone.now())
        return cleaned
