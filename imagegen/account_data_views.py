"""A person's own data, from their settings page: "Download everything" (one zip, streamed, of
every image they keep with its metadata: gallery.export) and "Delete my account" (after their
password, everything of theirs: imagegen.account_deletion; wrong passwords are limited as at
sign-in: imagegen.password_attempts)."""

from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from gallery.export import stream_export
from imagegen import password_attempts
from imagegen.account_deletion import delete_account


@require_GET
def export_everything(request: HttpRequest) -> StreamingHttpResponse:
    site = request.build_absolute_uri("/").rstrip("/")
    response = StreamingHttpResponse(
        stream_export(request.user, site), content_type="application/zip"
    )
    name = f"image-studio-{timezone.localdate():%Y-%m-%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"  # a whole account: no cache keeps it
    return response


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": gettext_lazy("Type your password to delete your account.")},
    )

    refusal = ngettext_lazy(
        "Too many wrong passwords. Try again in %(count)d minute. Nothing was deleted.",
        "Too many wrong passwords. Try again in %(count)d minutes. Nothing was deleted.",
        "count",
    )

    def __init__(self, request: HttpRequest, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user: User = request.user
        self.address = password_attempts.client_address(request)

    @sensitive_variables()
    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        return password_attempts.check_limited(
            self.user.get_username(),
            self.address,
            password_attempts.DELETE_ACCOUNT,
            lambda: self._checked(password),
            self.refusal,
        )

    def _checked(self, password: str) -> str:
        if not self.user.check_password(password):
            raise forms.ValidationError(
                gettext_lazy("That is not your password. Nothing was deleted.")
            )
        return password


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def delete_my_account(request: HttpRequest) -> HttpResponse:
    """GET asks (with what will go); POST, with the right password, deletes everything."""
    form = DeleteAccountForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        delete_account(request.user)
        logout(request)
        return redirect("account_deleted")
    context = {
        "form": form,
        "images": request.user.images.count(),
        "jobs": request.user.generations.count(),
    }
    status = 400 if request.method == "POST" else 200
    response = render(request, "registration/account_delete.html", context, status=status)
    return password_attempts.answer(response, form)


@login_not_required
@require_GET
def account_deleted(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/account_deleted.html")
