"""The generate form: its fields are built from the chosen model's capability profile."""

import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from imagegen.catalogue import COMPRESSIBLE_FORMATS, DEFAULT_MODEL, TRANSPARENT_FORMATS, Profile
from imagegen.models import ImageModel

CUSTOM_SIZE = "custom"
SIZE_PATTERN = re.compile(r"^(\d{2,5})x(\d{2,5})$")

# Human labels for the upstream's values; anything missing is shown as the raw value.
VALUE_LABELS: dict[str, Any] = {
    "auto": _("Automatic"),
    "standard": _("Standard"),
    "hd": _("HD"),
    "low": _("Low"),
    "medium": _("Medium"),
    "high": _("High"),
    "vivid": _("Vivid"),
    "natural": _("Natural"),
    "url": _("URL"),
    "b64_json": _("Base64"),
    "png": "PNG",
    "jpeg": "JPEG",
    "webp": "WebP",
    "opaque": _("Opaque"),
    "transparent": _("Transparent"),
    CUSTOM_SIZE: _("Custom…"),
}

# The optional parameters, in the order the form shows them: (name, profile list, label).
CHOICE_PARAMETERS = [
    ("quality", "qualities", _("Quality")),
    ("style", "styles", _("Style")),
    ("response_format", "response_formats", _("Response format")),
    ("output_format", "output_formats", _("Output format")),
    ("background", "backgrounds", _("Background")),
    ("moderation", "moderations", _("Moderation")),
]


def labelled(values: list[str]) -> list[tuple[str, Any]]:
    return [(value, VALUE_LABELS.get(value, value)) for value in values]


def selected_model(data: Mapping[str, Any] | None, models: list[ImageModel]) -> ImageModel:
    """The model named in the submitted data, else the safe default, else the first enabled."""
    by_name = {model.name: model for model in models}
    wanted = (data or {}).get("model") or DEFAULT_MODEL
    return by_name.get(wanted) or by_name.get(DEFAULT_MODEL) or models[0]


class GenerateForm(forms.Form):
    """Validates one generation request against exactly one model's profile.

    The fields present are those the model takes, so a value for any other parameter is simply
    not part of the form and can never reach the request body.
    """

    model = forms.ChoiceField(label=_("Model"))
    prompt = forms.CharField(
        label=_("Prompt"),
        strip=True,
        widget=forms.Textarea(
            attrs={"rows": 5, "dir": "auto", "placeholder": _("Describe the image…")}
        ),
    )

    def __init__(self, data: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        models = list(ImageModel.objects.enabled())
        self.image_model = selected_model(data or kwargs.get("initial"), models)
        self.profile: Profile = self.image_model.profile()
        super().__init__(data, **kwargs)
        self.fields["model"].choices = [(m.name, m.label) for m in models]
        self.fields["model"].initial = self.image_model.name
        self._add_model_fields(self.profile)
        if not self.is_bound:
            self._fit_initial()

    def _add_model_fields(self, profile: Profile) -> None:
        sizes = labelled(profile.sizes + ([CUSTOM_SIZE] if profile.custom_sizes else []))
        self.fields["size"] = forms.ChoiceField(
            label=_("Size"), choices=sizes, initial=profile.default_size
        )
        if profile.custom_sizes:
            for name, label in (("width", _("Width")), ("height", _("Height"))):
                self.fields[name] = forms.IntegerField(
                    label=label,
                    required=False,
                    min_value=1,  # the size rules check the range, with clearer messages
                    help_text=_("Used when Size is Custom."),
                )
        if profile.max_images > 1:
            self.fields["n"] = forms.IntegerField(
                label=_("Number of images"), min_value=1, max_value=profile.max_images, initial=1
            )
        for name, attribute, label in CHOICE_PARAMETERS:
            values: list[str] = getattr(profile, attribute)
            if values:
                default = getattr(profile, f"default_{name}") or values[0]
                self.fields[name] = forms.ChoiceField(
                    label=label, choices=labelled(values), initial=default
                )
        if profile.supports_compression:
            self.fields["output_compression"] = forms.IntegerField(
                label=_("Compression"),
                required=False,
                min_value=0,
                max_value=100,
                help_text=_("0-100, for JPEG and WebP only. Leave empty for the default."),
            )
        if profile.supports_streaming:
            self.fields["stream"] = forms.BooleanField(
                label=_("Stream partial previews"),
                required=False,
                help_text=_("Shows rough previews while the image is drawn (one image only)."),
            )
            self.fields["partial_images"] = forms.IntegerField(
                label=_("Partial previews"),
                required=False,
                initial=2,
                min_value=0,
                max_value=profile.max_partial_images,
            )

    def _fit_initial(self) -> None:
        """Keep only the initial values this model accepts (after a model switch or a remix)."""
        for name, field in self.fields.items():
            value = self.initial.get(name)
            if value is None or not isinstance(field, forms.ChoiceField) or name == "model":
                continue
            allowed = {str(choice) for choice, _label in field.choices}
            if str(value) in allowed:
                continue
            if name == "size" and CUSTOM_SIZE in allowed and SIZE_PATTERN.match(str(value)):
                self.initial["size"] = CUSTOM_SIZE
            else:
                del self.initial[name]

    def clean_prompt(self) -> str:
        prompt: str = self.cleaned_data["prompt"]
        limit = self.profile.prompt_max_length
        if len(prompt) > limit:
            raise forms.ValidationError(
                _("%(model)s takes at most %(limit)s characters; this prompt has %(length)s."),
                params={
                    "model": self.profile.label,
                    "limit": number_format(limit, force_grouping=True),
                    "length": number_format(len(prompt), force_grouping=True),
                },
                code="prompt_too_long",
            )
        return prompt

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._clean_size(cleaned)
        output_format = cleaned.get("output_format")
        if cleaned.get("output_compression") is not None and output_format not in (
            COMPRESSIBLE_FORMATS
        ):
            self.add_error(
                "output_compression", _("Compression applies only to JPEG and WebP output.")
            )
        if cleaned.get("background") == "transparent" and output_format not in TRANSPARENT_FORMATS:
            self.add_error("background", _("A transparent background needs PNG or WebP output."))
        if cleaned.get("stream") and cleaned.get("n", 1) > 1:
            self.add_error(
                "n", _("Streaming makes one image at a time: set Number of images to 1.")
            )
        return cleaned

    def _clean_size(self, cleaned: dict[str, Any]) -> None:
        if cleaned.get("size") != CUSTOM_SIZE:
            return
        width, height = cleaned.get("width"), cleaned.get("height")
        if self.has_error("width") or self.has_error("height"):
            return
        if not width or not height:
            self.add_error("width", _("Enter a width and a height for a custom size."))
            return
        rules = self.profile.size_rules
        problem = rules.problem_with(width, height) if rules else _("This model has fixed sizes.")
        if problem:
            self.add_error("width", problem)
        else:
            cleaned["size"] = f"{width}x{height}"

    def options(self) -> dict[str, Any]:
        """The validated parameters, ready for service.build_request_body."""
        cleaned = self.cleaned_data
        options: dict[str, Any] = {"n": cleaned.get("n", 1), "size": cleaned["size"]}
        for name, _attribute, _label in CHOICE_PARAMETERS:
            if name in cleaned:
                options[name] = cleaned[name]
        if cleaned.get("output_compression") is not None:
            options["output_compression"] = cleaned["output_compression"]
        if cleaned.get("stream"):
            options["stream"] = True
            options["partial_images"] = cleaned.get("partial_images") or 0
        return options

    def model_fields(self) -> list[forms.BoundField]:
        """The fields that change with the model: everything but the model picker and prompt."""
        return [self[name] for name in self.fields if name not in {"model", "prompt"}]


def initial_from(values: Mapping[str, Any]) -> dict[str, Any]:
    """Initial form values from a query string or a stored generation (remix, model switch)."""
    initial = {key: values[key] for key in values if values[key] not in ("", None)}
    size = str(initial.get("size", ""))
    match = SIZE_PATTERN.match(size)
    if match and "width" not in initial:
        initial["width"], initial["height"] = int(match[1]), int(match[2])
    return initial
