"""Reference images on a form: the person's own images, chosen by UUID.

A reference is always an image in the person's gallery (an upload becomes one first), so a job
only ever names images by their row, and the worker reads their files; no private image ever
needs a public URL. How many a model takes is its schema's `images` parameter; this field only
bounds the list, checks each entry is one of the person's images, and keeps their order.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from gallery.models import Image, ImageInput

# Far above any model's limit (16 for GPT image edits): a bound on the work a request can ask.
MOST_REFERENCES = 32


@dataclass(frozen=True)
class PlannedInput:
    """An image a job will start from, before the job exists."""

    image: Image
    role: str  # ImageInput.Role
    mask: bytes | None = None


class ReferencesField(forms.Field):
    """A list of the owner's images, by UUID, in the order given; repeats are dropped."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": _("“%(value)s” is not an image."),
        "missing": _("A chosen image is no longer in your gallery."),
        "too_many": ngettext_lazy(
            "Choose at most %(limit)d image.", "Choose at most %(limit)d images.", "limit"
        ),
    }

    def __init__(self, owner: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.owner = owner

    def to_python(self, value: Any) -> list[uuid.UUID]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        if len(values) > MOST_REFERENCES:
            raise forms.ValidationError(
                self.error_messages["too_many"], "too_many", {"limit": MOST_REFERENCES}
            )
        chosen: list[uuid.UUID] = []
        for text in values:
            try:
                parsed = text if isinstance(text, uuid.UUID) else uuid.UUID(str(text))
            except ValueError:
                raise forms.ValidationError(
                    self.error_messages["invalid"], "invalid", {"value": str(text)[:40]}
                ) from None
            if parsed not in chosen:
                chosen.append(parsed)
        return chosen

    def clean(self, value: Any) -> list[Image]:  # type: ignore[override]
        chosen = self.to_python(value)
        if not chosen:
            return []
        found = {i.uuid: i for i in Image.objects.for_user(self.owner).filter(uuid__in=chosen)}
        if len(found) != len(chosen):
            raise forms.ValidationError(self.error_messages["missing"], "missing")
        return [found[key] for key in chosen]

    def images(self, value: Any) -> list[Image]:
        """The images a bound or initial value names, for drawing the slots; whatever does not
        parse or is not the owner's is left out rather than shown."""
        try:
            chosen = self.to_python(value)
        except forms.ValidationError:
            return []
        found = {i.uuid: i for i in Image.objects.for_user(self.owner).filter(uuid__in=chosen)}
        return [found[key] for key in chosen if key in found]


def as_references(images: list[Image]) -> list[PlannedInput]:
    return [PlannedInput(image, ImageInput.Role.REFERENCE) for image in images]
