"""The editor's form: one of the person's images, a prompt, a model that can change it, the
model's options as the endpoint takes them, an optional mask, and more reference images.

A model that edits (`can_edit`: GPT image models) gets the edits endpoint: the image first,
the mask with it. A model that takes references on generations instead (Seedream) gets the
image as its first reference; it cannot take a mask, and says so.
"""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gallery.models import Image, ImageInput
from imagegen.catalogue import EDITS, GENERATIONS
from imagegen.edit_inputs import MASK_MAX_BYTES, check_mask
from imagegen.forms.generate import GenerateForm
from imagegen.forms.references import PlannedInput
from imagegen.models import ImageModel


class EditForm(GenerateForm):
    mask = forms.FileField(
        label=_("Mask"),
        required=False,
        help_text=_("A PNG of the image's size, transparent where to change it."),
    )

    def __init__(self, *args: Any, source: Image, **kwargs: Any) -> None:
        self.source = source
        super().__init__(*args, **kwargs)

    def offered_models(self) -> list[ImageModel]:
        return [model for model in super().offered_models() if takes_images(model)]

    def fields_endpoint(self) -> str:
        return EDITS if self.model_spec.can_edit else GENERATIONS

    def job_endpoint(self, inputs: list[PlannedInput]) -> str:
        return self.fields_endpoint()

    @property
    def takes_mask(self) -> bool:
        return self.model_spec.can_edit

    def model_fields(self) -> list[forms.BoundField]:
        return [field for field in super().model_fields() if field.name != "mask"]

    def clean_mask(self) -> bytes | None:
        upload = self.cleaned_data.get("mask")
        if not upload:
            return None
        if upload.size > MASK_MAX_BYTES:
            raise forms.ValidationError(_("The mask is larger than 4 MB."), code="too_large")
        if not self.takes_mask:
            raise forms.ValidationError(
                _("%(model)s cannot take a mask: choose a model that edits, or clear the mask.")
                % {"model": self.spec.label},
                code="no_mask",
            )
        data = upload.read()
        if problem := check_mask(data, (self.source.width, self.source.height)):
            raise forms.ValidationError(problem, code="invalid_mask")
        return data

    def own_inputs(self) -> list[PlannedInput]:
        mask = self.cleaned_data.get("mask") if hasattr(self, "cleaned_data") else None
        return [PlannedInput(self.source, ImageInput.Role.EDITED, mask)]


def takes_images(model: ImageModel) -> bool:
    """Whether the editor may offer the model: it edits, or takes reference images."""
    spec = model.spec()
    return spec.can_edit or spec.references(GENERATIONS) is not None
