"""Sign up, and the settings page. Signing in and out are Django's own views (imagegen/urls.py)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from imagegen.models import Profile
from imagegen.models.people import time_zone_names
from imagegen.time_zones import remember_chosen


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("generate")
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


@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest) -> HttpResponse:
    profile = Profile.of(request.user)
    form = SettingsForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        remember_chosen(request, form.save())
        messages.success(request, _("Settings saved."))
        return redirect("account_settings")
    return render(request, "registration/settings.html", {"form": form, "profile": profile})
