"""Saved presets and the last settings used: a model and its options, without a prompt or
reference images, ready to open the generate form with (issue 11)."""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imagegen.forms import GenerateForm
from imagegen.models import Generation, ImageModel, Preset

# What a preset never holds: the words and the pictures are the person's each time.
NOT_SETTINGS = frozenset({"prompt", "reference", "image", "csrfmiddlewaretoken", "preset_name"})
# The generate page's own query keys that choose nothing in the form (the feed's filters).
FEED_KEYS = frozenset({"status", "model_filter", "page"})
TRUE, FALSE = frozenset({"true", "on", "1"}), frozenset({"false", "off", "0"})


def last_settings(user: Any) -> dict[str, Any]:
    """The model and options of the person's latest job (its prompt and images left out), for
    a generate page opened afresh; {} when they have none. A retired model's settings open on
    its replacement, as the form does for any remix."""
    latest = Generation.objects.for_user(user).only("model_name", "parameters").first()
    if latest is None:
        return {}
    options = {k: v for k, v in latest.parameters.items() if k not in NOT_SETTINGS}
    return {"model": latest.model_name, **options}


def typed_initial(values: dict[str, Any]) -> dict[str, Any]:
    """Initial values from a query string with the chosen model's booleans read as booleans:
    `watermark=false` unticks the box (a checkbox takes any text, "false" too, as ticked)."""
    name = values.get("model")
    if not isinstance(name, str) or "\x00" in name:  # PostgreSQL refuses a NUL in text
        return values
    model = ImageModel.objects.filter(name=name).first()
    if model is None:
        return values
    for parameter in model.spec().parameters:
        value = values.get(parameter.name)
        if parameter.kind == "boolean" and isinstance(value, str):
            if value.lower() in TRUE | FALSE:
                values[parameter.name] = value.lower() in TRUE
            else:
                del values[parameter.name]
    return values


class PresetNameForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Preset name"), max_length=100, strip=True)


def checked_settings(data: QueryDict) -> tuple[GenerateForm | None, list[str]]:
    """The generate form's posted settings checked by the form itself, as a job's would be (the
    prompt and references aside); the form and every problem, each said with its field."""
    settings = data.copy()
    settings.setlist("reference", [])
    settings["prompt"] = "preset"  # the form wants one; a preset never keeps it
    form = GenerateForm(settings)
    if form.is_valid():
        return form, []
    problems = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        problems += [f"{label}: {error}" if label else str(error) for error in errors]
    return None, problems


def save_preset(owner: Any, name: str, form: GenerateForm) -> tuple[Preset, bool]:
    """Save the form's model and options under `name`, replacing the person's preset of that
    name if there is one; (the preset, whether it is new)."""
    values = {k: v for k, v in form.options().items() if k not in NOT_SETTINGS}
    defaults = {"model_name": form.image_model.name, "values": values}
    try:
        with transaction.atomic():
            return Preset.objects.update_or_create(owner=owner, name=name, defaults=defaults)
    except IntegrityError:  # the same name saved twice at once: the other one won; replace it
        preset = Preset.objects.get(owner=owner, name=name)
        Preset.objects.filter(pk=preset.pk).update(**defaults)
        return preset, False


def rename_preset(preset: Preset, name: str) -> str | None:
    """Rename, or say why not (another of the person's presets has the name)."""
    taken = Preset.objects.for_user(preset.owner).filter(name=name).exclude(pk=preset.pk)
    if taken.exists():
        return _("You already have a preset with this name.")
    preset.name = name
    try:
        with transaction.atomic():
            preset.save(update_fields=["name", "updated_at"])
    except IntegrityError:
        return _("You already have a preset with this name.")
    return None


def query_items(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Posted form values as query-string pairs, every value of a list kept."""
    if isinstance(values, QueryDict):
        return [(k, v) for k, vs in values.lists() if k not in {"csrfmiddlewaretoken"} for v in vs]
    return [(k, str(v)) for k, v in values.items()]
