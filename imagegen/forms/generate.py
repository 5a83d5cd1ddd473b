"""The generate form: one field per parameter of the chosen model's schema, and the reference
images the model takes.

The form only turns text into typed values; what is allowed (choices, ranges, the rules between
parameters) is decided by `imagegen.catalogue.resolve`, the same check the request body and the
offline provider make, and its problems are shown beside the fields they concern.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from gallery.models import Image
from imagegen.catalogue import (
    CUSTOM_SIZE,
    EDITS,
    GENERATIONS,
    ModelSpec,
    N,
    Parameter,
    list_text,
    parse_size,
    resolve,
)
from imagegen.forms.controls import Control, field_for, help_for, number_widget, size_field
from imagegen.forms.references import PlannedInput, ReferencesField, as_references
from imagegen.models import ImageModel
from imagegen.models.keys import PersonalKey

REFERENCE = "reference"  # the field of reference image UUIDs

RETIREMENT_WARNING_DAYS = 30


@dataclass(frozen=True)
class Retirement:
    """The chosen model's end, shown as a warning when it is near."""

    on: date
    replacement: str  # a label, or "" when none is known


@dataclass(frozen=True)
class ModelChoice:
    model: ImageModel | None
    replaced: str = ""  # the label of a retired model this one stands in for (remix)


def choose_model(wanted: str | None, offered: list[ImageModel]) -> ModelChoice:
    """The model a form is for: the one asked for when a new job may use it; for a retired one,
    its replacement; else the first offered (the default)."""
    by_name = {model.name: model for model in offered}
    if wanted in by_name:
        return ModelChoice(by_name[wanted])
    # A name no model could have (PostgreSQL refuses a NUL byte in text) is not looked up.
    named = bool(wanted) and "\x00" not in wanted
    retired = ImageModel.objects.filter(name=wanted).first() if named else None
    if retired and retired.replacement in by_name:
        return ModelChoice(by_name[retired.replacement], replaced=retired.label)
    return ModelChoice(offered[0] if offered else None)


class GenerateForm(forms.Form):
    """Validates one generation request against exactly one model's schema.

    The fields present are those the model takes, so a value for any other parameter is simply
    not part of the form and can never reach the request body.
    """

    model = forms.ChoiceField(label=_("Model"))
    prompt = forms.CharField(
        label=_("Prompt"),
        strip=True,
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "dir": "auto",
                "placeholder": _("Describe the image…"),
                # static/js/studio.js: a live count against the model's limit, Ctrl/⌘+Enter.
                "data-prompt": "",
                "data-count-format": _("{count} of {limit} characters"),
            }
        ),
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        *,
        owner: Any = None,
        **kwargs: Any,
    ) -> None:
        self.owner = owner  # before offered_models(): a person's own key narrows the list
        offered = self.offered_models()
        wanted = (data or kwargs.get("initial") or {}).get("model")
        chosen = choose_model(wanted, offered)
        if chosen.model is None:
            raise NoModelAvailable
        self.image_model: ImageModel = chosen.model
        self.replaced = chosen.replaced
        self.model_spec: ModelSpec = self.image_model.spec()  # on every endpoint
        # The parameters the form shows; the job's endpoint is settled by clean().
        self.endpoint = self.fields_endpoint()
        self.spec: ModelSpec = self.model_spec.for_endpoint(self.endpoint)
        self.job_spec: ModelSpec = self.spec
        self.sent: dict[str, Any] = {}
        super().__init__(data, files, **kwargs)
        self._offered = {m.name: m for m in offered}
        self.fields["model"].choices = [(m.name, m.label) for m in offered]
        self.fields["model"].initial = self.image_model.name
        self.initial["model"] = self.image_model.name
        self._add_model_fields(self.spec)
        self.references = self.references_parameter()
        if self.references is not None and owner is not None:
            self.fields[REFERENCE] = ReferencesField(owner, label=_(self.references.label))
        if not self.is_bound:
            self._fit_initial()

    def offered_models(self) -> list[ImageModel]:
        """The models a new job may use; for a person with their own key whose model list is
        known (their sync), only those their key offers: their jobs go with it."""
        models = ImageModel.objects.for_new_jobs()
        owner = getattr(self, "owner", None)
        if owner is None or not owner.is_authenticated:
            return models
        key = PersonalKey.objects.filter(user=owner).only("offered_models").first()
        return models if key is None else key.limits_models(models)

    def fields_endpoint(self) -> str:
        return GENERATIONS

    def references_parameter(self) -> Parameter | None:
        """Where the model takes reference images: on generations (Seedream's `image`), else,
        for a model that edits, as the edit endpoint's images (GPT image models)."""
        spec = self.model_spec
        return spec.references(GENERATIONS) or (spec.references(EDITS) if spec.can_edit else None)

    @property
    def reference_limit(self) -> int:
        """How many reference images a person may add on this form."""
        if self.references is None or self.references.maximum is None:
            return 0
        return int(self.references.maximum) - len(self.own_inputs())

    @property
    def not_taken_with_references(self) -> str:
        """The options shown here that a model loses when references make its job an edit
        (GPT image models: Moderation), as a list to show; "" when none."""
        spec = self.model_spec
        if self.fields_endpoint() != GENERATIONS or spec.references(GENERATIONS) is not None:
            return ""
        edits = {p.name for p in spec.for_endpoint(EDITS).parameters}
        return list_text(str(_(p.label)) for p in self.spec.parameters if p.name not in edits)

    def chosen_references(self) -> list[Image]:
        """The reference images the form holds now, for drawing its slots."""
        field = self.fields.get(REFERENCE)
        if not isinstance(field, ReferencesField):
            return []
        return field.images(self[REFERENCE].value())

    def own_inputs(self) -> list[PlannedInput]:
        """Inputs the form brings itself, before any reference (the editor's image)."""
        return []

    def planned_inputs(self) -> list[PlannedInput]:
        """Every image the job starts from, in the order they are sent."""
        references = self.cleaned_data.get(REFERENCE) or []
        return self.own_inputs() + as_references(references)

    def job_endpoint(self, inputs: list[PlannedInput]) -> str:
        """Where the job goes: a model that takes images only on edits edits with them."""
        if inputs and self.model_spec.references(GENERATIONS) is None and self.model_spec.can_edit:
            return EDITS
        return GENERATIONS

    @property
    def retirement(self) -> Retirement | None:
        """When the chosen model shuts down within the warning window, and what replaces it."""
        ends = self.image_model.shuts_down_on(self.image_model.live)
        today = timezone.localdate()
        if ends is None or not today <= ends <= today + timedelta(days=RETIREMENT_WARNING_DAYS):
            return None
        replacement = self._offered.get(self.image_model.replacement)
        return Retirement(ends, replacement.label if replacement else "")

    def _add_model_fields(self, spec: ModelSpec) -> None:
        size = spec.size
        if size is not None:
            self.fields[size.name] = size_field(size)
            if size.custom:
                for name, label in (("width", _("Width")), ("height", _("Height"))):
                    self.fields[name] = forms.IntegerField(
                        label=label,
                        required=False,
                        min_value=1,
                        help_text=_("Used when Size is Custom."),
                    )
        if spec.max_images > 1:
            self.fields[N] = forms.IntegerField(
                label=_("Number of images"), initial=1, widget=number_widget(1, spec.max_images)
            )
        for parameter in spec.parameters:
            if parameter is not size and (field := field_for(parameter)):
                self.fields[parameter.name] = field

    def _fit_initial(self) -> None:
        """Keep only the initial values this model accepts (after a model switch or a remix)."""
        for name, field in self.fields.items():
            value = self.initial.get(name)
            if value is None or not isinstance(field, forms.ChoiceField) or name == "model":
                continue
            allowed = {str(choice) for choice, _label in field.choices}
            if str(value) in allowed:
                continue
            if CUSTOM_SIZE in allowed and isinstance(value, str) and (size := parse_size(value)):
                self.initial[name] = CUSTOM_SIZE
                self.initial.setdefault("width", size[0])
                self.initial.setdefault("height", size[1])
            else:
                del self.initial[name]

    def clean_prompt(self) -> str:
        prompt: str = self.cleaned_data["prompt"]
        limit = self.spec.prompt_max_length
        if len(prompt) > limit:
            raise forms.ValidationError(
                _("%(model)s takes at most %(limit)s characters; this prompt has %(length)s."),
                params={
                    "model": self.spec.label,
                    "limit": number_format(limit, force_grouping=True),
                    "length": number_format(len(prompt), force_grouping=True),
                },
                code="prompt_too_long",
            )
        return prompt

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.has_error("width") or self.has_error("height"):
            return cleaned
        values = {N: cleaned.get(N, 1)}
        for parameter in self.spec.parameters:
            value = cleaned.get(parameter.name)
            if parameter.kind == "boolean" and value == bool(parameter.default):
                value = None  # an unticked box is "left as it is", not a choice
            values[parameter.name] = value
        size = self.spec.size
        if size is not None and values.get(size.name) == CUSTOM_SIZE:
            width, height = cleaned.get("width"), cleaned.get("height")
            if not width or not height:
                self.add_error("width", _("Enter a width and a height for a custom size."))
                return cleaned
            values[size.name] = f"{width}x{height}"
        inputs = [] if self.has_error(REFERENCE) else self.planned_inputs()
        self.endpoint = self.job_endpoint(inputs)
        job_spec = self.model_spec.for_endpoint(self.endpoint)
        images = job_spec.references(self.endpoint)
        if inputs and images is None:
            self.add_error(None, _("%(model)s takes no images.") % {"model": self.spec.label})
            return cleaned
        if images is not None:
            values[images.name] = [str(planned.image.uuid) for planned in inputs]
        self.sent, problems = resolve(job_spec, values)
        self.job_spec = job_spec
        for problem in problems:
            if images is not None and problem.param == images.name:
                # Said in the form's own terms: the references it offers, not the images sent.
                limit = self.reference_limit
                message = ngettext(
                    "Choose at most %(limit)d reference image.",
                    "Choose at most %(limit)d reference images.",
                    limit,
                ) % {"limit": limit}
                self.add_error(REFERENCE if REFERENCE in self.fields else None, message)
                continue
            field = problem.param if problem.param in self.fields else None
            if size is not None and field == size.name and "width" in self.fields:
                field = "width" if values.get(size.name) not in size.choices else field
            self.add_error(field, problem.message)
        return cleaned

    def options(self) -> dict[str, Any]:
        """The validated parameters, without the images (the job keeps those as its inputs)."""
        images = self.job_spec.references(self.endpoint)
        return {k: v for k, v in self.sent.items() if images is None or k != images.name}

    def model_fields(self) -> list[forms.BoundField]:
        """The fields that change with the model: everything but the model picker and prompt."""
        return [self[name] for name in self.fields if name not in {"model", "prompt", REFERENCE}]

    def model_controls(self) -> list["Control"]:
        """The model's fields, ready for templates/includes/model_options.html: a size as ratio
        tiles, and the parameters the schema marks advanced apart (`Controls`)."""
        from imagegen.forms.controls import Controls

        controls = Controls()
        for field in self.model_fields():
            parameter = self.spec.parameter(field.name)
            shown_help = help_for(parameter, self.spec) if parameter else str(field.help_text)
            only_when = parameter.only_when if parameter else {}
            condition = json.dumps({name: list(values) for name, values in only_when.items()})
            condition = condition if only_when else ""
            advanced = parameter is not None and parameter.advanced
            control = Control.of(field, shown_help, condition, advanced=advanced)
            if parameter is not None and parameter.kind == "size":
                control = control.as_size_tiles()
            controls.append(control)
        return controls


class NoModelAvailable(Exception):
    """No enabled model may take new jobs: the page says so instead of showing a form."""


def initial_from(values: Mapping[str, Any]) -> dict[str, Any]:
    """Initial form values from a query string or a stored generation (remix, model switch)."""
    initial = {key: values[key] for key in values if values[key] not in ("", None)}
    if REFERENCE in values and hasattr(values, "getlist"):  # a QueryDict: every reference
        initial[REFERENCE] = values.getlist(REFERENCE)
    return initial
