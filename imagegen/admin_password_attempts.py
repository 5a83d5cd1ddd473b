"""Admin for wrong passwords (imagegen/password_attempts.py): read-only, but deletable, since
deleting rows is how an operator lifts a lock. The admin's own sign-in is limited as the site's
is, or it would be the way around the limit."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from imagegen.models import FailedPasswordAttempt
from imagegen.password_attempts import LimitedSignIn


class AdminSignInForm(LimitedSignIn, AdminAuthenticationForm):
    pass


admin.site.login_form = AdminSignInForm


@admin.register(FailedPasswordAttempt)
class FailedPasswordAttemptAdmin(admin.ModelAdmin):
    """Wrong passwords within the window, newest first. To lift a lock, select the account's
    rows (search its username) or the address's, and delete them."""

    list_display = ["attempted_at", "username", "address", "purpose"]
    list_filter = ["purpose"]
    search_fields = ["username", "address"]
    date_hierarchy = "attempted_at"
    fields = list_display
    readonly_fields = list_display

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        lifting = _("To lift a lock, select the rows of that account or address and delete them.")
        return super().changelist_view(request, {"subtitle": lifting, **(extra_context or {})})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # only a wrong password makes one

    def has_change_permission(
        self, request: HttpRequest, obj: FailedPasswordAttempt | None = None
    ) -> bool:
        return False
