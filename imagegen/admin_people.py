"""Admin for what the studio keeps of each person: their profile (time zone), budgets and
limits (the site default and each person's), and their own API keys (read-only: never the
secret)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from imagegen.models import Allowance, PersonalKey, Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "time_zone", "time_zone_chosen"]
    list_filter = ["time_zone_chosen"]
    list_select_related = ["user"]
    search_fields = ["user__username", "time_zone"]


class AllowanceForm(forms.ModelForm):
    class Meta:
        model = Allowance
        fields = ["user", "monthly_spend_cap", "daily_image_cap", "jobs_per_minute",
                  "site_key_allowed"]  # fmt: skip

    def clean_user(self) -> Any:
        user = self.cleaned_data.get("user")
        if self.instance.site_default and user is not None:
            raise ValidationError(_("The site default is nobody's: leave the person empty."))
        if not self.instance.site_default and user is None:
            raise ValidationError(_("Choose the person these limits are for."))
        return user


@admin.register(Allowance)
class AllowanceAdmin(admin.ModelAdmin):
    """Budgets and limits: the site default (always listed first) and each person's own."""

    form = AllowanceForm
    list_display = ["__str__", "monthly_spend_cap", "daily_image_cap", "jobs_per_minute",
                    "site_key_allowed"]  # fmt: skip
    list_select_related = ["user"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]
    ordering = ["-site_default", "user__username"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The site default always exists, so that it can be found and edited here.
        if not Allowance.objects.filter(site_default=True).exists():
            Allowance.objects.get_or_create(site_default=True)
        return super().changelist_view(request, extra_context)

    def has_delete_permission(self, request: HttpRequest, obj: Allowance | None = None) -> bool:
        if obj is not None and obj.site_default:
            return False  # empty its fields instead: no limits
        return super().has_delete_permission(request, obj)


@admin.register(PersonalKey)
class PersonalKeyAdmin(admin.ModelAdmin):
    """People's own keys, read-only: who has one, how it ends, when it was added and its models
    checked. Never the secret, not even encrypted; deleting one is allowed (a leaked key)."""

    list_display = ["user", "ends_with", "added_at", "models_checked_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    fields = ["user", "ends_with", "added_at", "models_checked_at"]
    readonly_fields = fields
    ordering = ["user__username"]

    @admin.display(description=_("ends with"))
    def ends_with(self, key: PersonalKey) -> str:
        return f"…{key.last_four}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # only its owner can add a key, in Settings

    def has_change_permission(self, request: HttpRequest, obj: PersonalKey | None = None) -> bool:
        return False
