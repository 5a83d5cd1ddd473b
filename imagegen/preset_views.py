"""Saved presets (save from the generate form, apply, rename, delete) and the prompt history."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from imagegen.forms import NoModelAvailable
from imagegen.models import Preset
from imagegen.models.presets import settings_query
from imagegen.presets import (
    PresetNameForm,
    checked_settings,
    query_items,
    rename_preset,
    save_preset,
)
from imagegen.prompt_history import past_prompts
from imagegen.views import HtmxHttpRequest


@require_GET
def preset_list(request: HtmxHttpRequest) -> HttpResponse:
    presets = Preset.objects.for_user(request.user)
    return render(request, "imagegen/presets/list.html", {"presets": presets})


@require_POST
def preset_save(request: HtmxHttpRequest) -> HttpResponse:
    """The generate form, posted by "Save these settings as a preset": its model and options are
    checked as a job's would be and saved under the name given; the form opens again with them
    (and with the prompt and references it had, which the preset does not keep)."""
    name_form = PresetNameForm({"name": request.POST.get("preset_name", "")})
    problems = [] if name_form.is_valid() else [_("Give the preset a name (up to 100 characters).")]
    try:
        form, invalid = checked_settings(request.POST)
    except NoModelAvailable:
        form, invalid = None, [_("No image model is available right now.")]
    problems += invalid
    if problems or form is None:
        back = f"{reverse('generate')}?{urlencode(query_items(request.POST))}"
        context = {"problems": problems, "back": back}
        if request.htmx:  # said beside the button; the form stays as the person left it
            response = render(request, "imagegen/presets/save_refused.html#problems", context)
            return reswap(retarget(response, "#preset-save-status"), "innerHTML")
        return render(request, "imagegen/presets/save_refused.html", context, status=400)
    preset, created = save_preset(request.user, name_form.cleaned_data["name"], form)
    saved = _("Preset “%(name)s” saved.") if created else _("Preset “%(name)s” updated.")
    messages.success(request, saved % {"name": preset.name})
    kept = [(k, v) for k, v in query_items(request.POST) if k in {"prompt", "reference"}]
    query = settings_query(preset.model_name, preset.values) + kept
    url = f"{reverse('generate')}?{urlencode(query)}"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
def preset_rename(request: HtmxHttpRequest, preset_id: str) -> HttpResponse:
    preset = get_object_or_404(Preset.objects.for_user(request.user), pk=preset_id)
    form = PresetNameForm(request.POST)
    problem = None if form.is_valid() else _("Give the preset a name (up to 100 characters).")
    problem = problem or rename_preset(preset, form.cleaned_data["name"])
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, _("Preset renamed."))
    return _back_to_list(request)


@require_POST
def preset_delete(request: HtmxHttpRequest, preset_id: str) -> HttpResponse:
    preset = get_object_or_404(Preset.objects.for_user(request.user), pk=preset_id)
    preset.delete()
    messages.success(request, _("Preset “%(name)s” deleted.") % {"name": preset.name})
    return _back_to_list(request)


def _back_to_list(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx:
        presets = Preset.objects.for_user(request.user)
        return render(request, "imagegen/presets/list.html#manager", {"presets": presets})
    return redirect("preset_list")


@require_GET
def prompt_history(request: HtmxHttpRequest) -> HttpResponse:
    """The person's past prompts, searchable; htmx loads only the results (the generate page's
    "Prompt history" panel), a plain request the whole page."""
    query = request.GET.get("q", "")
    found = past_prompts(request.user, query, request.GET.get("page") or 1)
    template = "imagegen/presets/prompts.html"
    if request.htmx:
        template += "#results"
    return render(request, template, {"found": found, "query": query})
