"""Sign up, and the settings page with the person's own CometAPI key (add or replace, check the
models it offers, remove). Signing in and out are Django's own views (imagegen/urls.py).

The key is never sent back: its input is a password field that is never filled, the page shows
only its last four characters, and its POST parameter is hidden from error reports.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from imagegen.catalogue.personal import save_checked_key, sync_personal_models
from imagegen.job_messages import shown_message
from imagegen.models import Allowance, ImageModel, Profile
from imagegen.models.keys import KEY_UNREADABLE, MAX_KEY_LENGTH, KeyUnreadable, PersonalKey
from imagegen.models.people import time_zone_names
from imagegen.service import UpstreamError
from imagegen.time_zones import remember_chosen


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("generate")
    if not settings.SIGNUP_OPEN:  # accounts are made by administrators, in admin
        return render(request, "registration/signup_closed.html", status=403)
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("generate")
    return render(request, "registration/signup.html", {"form": form})


class SettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        required=False,
        help_text=gettext_lazy(
            "Dates are shown, filtered and set in it: a share link that expires at the end of a "
            "day stops at midnight there. Leave it on “From my browser” to take the browser's at "
            "each sign-in."
        ),
    )

    class Meta:
        model = Profile
        fields = ["time_zone"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        detect = [("", gettext_lazy("From my browser"))]
        self.fields["time_zone"].choices = detect + [(z, z) for z in time_zone_names()]

    def save(self, commit: bool = True) -> Profile:
        profile = super().save(commit=False)
        profile.time_zone_chosen = bool(profile.time_zone)
        if commit:
            profile.save()
        return profile


class PersonalKeyForm(forms.Form):
    key = forms.CharField(
        label=gettext_lazy("Your CometAPI key"),
        strip=True,
        # Never filled back: the key is not in any page, not even the one that refused it.
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
        error_messages={"required": gettext_lazy("Paste your key: the field is empty.")},
        help_text=gettext_lazy(
            "From your CometAPI dashboard. It is kept encrypted and only ever sent to CometAPI, "
            "for your own jobs."
        ),
    )

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        if len(key) > MAX_KEY_LENGTH:
            message = gettext_lazy("That is too long for a key (at most %(max)d characters).")
            raise forms.ValidationError(message, params={"max": MAX_KEY_LENGTH})
        if any(character.isspace() for character in key):
            message = gettext_lazy("A key has no spaces or line breaks inside: copy it again.")
            raise forms.ValidationError(message)
        if not key.isprintable():
            message = gettext_lazy("The key contains control characters: copy it again.")
            raise forms.ValidationError(message)
        if not key.isascii():
            message = gettext_lazy("A key is plain letters, digits and punctuation: copy it again.")
            raise forms.ValidationError(message)
        return key


@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest) -> HttpResponse:
    profile = Profile.of(request.user)
    form = SettingsForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        remember_chosen(request, form.save())
        messages.success(request, _("Settings saved."))
        return redirect("account_settings")
    return _settings_page(request, form=form, profile=profile)


@sensitive_post_parameters("key")
@require_POST
def personal_key_save(request: HttpRequest) -> HttpResponse:
    """Add or replace the person's key, once CometAPI has been asked whether it takes it."""
    key_form = PersonalKeyForm(request.POST)
    if key_form.is_valid():
        check = save_checked_key(request.user, key_form.cleaned_data["key"])
        if not check.refused:
            messages.success(request, _("Your key is saved: your jobs use it from now on."))
            if check.unchecked:
                messages.warning(
                    request,
                    _(
                        "CometAPI could not be reached to check it: try “Check which models it "
                        "offers” later."
                    ),
                )
            return redirect("account_settings")
        key_form.add_error(
            "key",
            _("CometAPI refused this key, so it was not saved: check that you copied all of it."),
        )
    return _settings_page(request, key_form=key_form, status=400)


@require_http_methods(["GET", "POST"])
def personal_key_remove(request: HttpRequest) -> HttpResponse:
    """GET asks first (works without JavaScript); POST removes the key for good."""
    key = PersonalKey.objects.filter(user=request.user).first()
    if key is None:
        return redirect("account_settings")
    if request.method == "GET":
        return render(request, "registration/personal_key_remove.html", {"key": key})
    key.delete()
    messages.success(request, _("Your key is removed."))
    return redirect("account_settings")


@require_POST
def personal_key_models(request: HttpRequest) -> HttpResponse:
    """Ask CometAPI, with the person's key, which models it offers now (their model sync)."""
    key = PersonalKey.objects.filter(user=request.user).first()
    if key is None:
        return redirect("account_settings")
    try:
        names = sync_personal_models(key)
    except KeyUnreadable:
        messages.error(request, _(KEY_UNREADABLE))
    except UpstreamError as error:
        messages.error(request, shown_message(error.message))  # scrubbed of the key
    else:
        messages.success(
            request, _("CometAPI lists %(count)d models for your key.") % {"count": len(names)}
        )
    return redirect("account_settings")


def _settings_page(
    request: HttpRequest,
    *,
    form: SettingsForm | None = None,
    profile: Profile | None = None,
    key_form: PersonalKeyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    profile = profile or Profile.of(request.user)
    context = {
        "form": form or SettingsForm(instance=profile),
        "profile": profile,
        "key_form": key_form or PersonalKeyForm(),
    } | _key_facts(request.user)
    return render(request, "registration/settings.html", context, status=status)


def _key_facts(user: Any) -> dict[str, Any]:
    """What the page says about the person's key and which key their jobs use."""
    key = PersonalKey.objects.filter(user=user).first()
    offered: list[ImageModel] = []
    if key is not None and key.offered_models is not None:
        offered = key.limits_models(ImageModel.objects.for_new_jobs())
    return {
        "personal_key": key,
        "key_readable": key is not None and key.readable,
        "key_unreadable_message": _(KEY_UNREADABLE),
        "site_key_allowed": Allowance.objects.limits_for(user).site_key_allowed,
        "offered_here": offered,
    }
