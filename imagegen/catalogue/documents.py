"""The model catalogue as a file: the admin's export (every field an administrator may set, in
a versioned JSON document) and its import, which checks every entry as a save in admin would and
saves all of them or none."""

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from imagegen.catalogue.wording import list_text
from imagegen.models import EXPORTED_FIELDS, ImageModel

EXPORT_FORMAT = "image-studio.models/1"
IMPORT_MAX_BYTES = 1024 * 1024


def export_document(models: Iterable[ImageModel]) -> str:
    document = {"format": EXPORT_FORMAT, "models": [model.export() for model in models]}
    return json.dumps(document, indent=2, ensure_ascii=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Exported JSON file"))

    def clean_file(self) -> list[ImageModel]:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(_("The file is larger than 1 MB."))
        try:
            document = json.loads(upload.read())
        except (ValueError, UnicodeDecodeError):
            raise ValidationError(_("The file is not JSON.")) from None
        entries = document.get("models") if isinstance(document, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ValidationError(_('Expected {"models": [...]}, as the export writes.'))
        models, errors = [], []
        names = [entry.get("name") for entry in entries if isinstance(entry, dict)]
        for name in sorted({n for n in names if isinstance(n, str) and names.count(n) > 1}):
            errors.append(
                gettext("“%(name)s” appears more than once in the file.") % {"name": name}
            )
        for index, entry in enumerate(entries):
            model, problems = _model_from_export(entry)
            name = entry.get("name", "") if isinstance(entry, dict) else ""
            errors += [f"models[{index}] {name} > {problem}" for problem in problems]
            models.append(model)
        if errors:
            raise ValidationError(errors)
        return models

    @transaction.atomic
    def save(self) -> list[str]:
        for model in self.cleaned_data["file"]:
            model.save()
        return [model.name for model in self.cleaned_data["file"]]


def _model_from_export(entry: Any) -> tuple[ImageModel, list[str]]:
    """An ImageModel (new, or the existing one of that name, updated) and what is wrong."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        return ImageModel(), [gettext("each model needs a name.")]
    unknown = sorted(set(entry) - set(EXPORTED_FIELDS))
    if unknown:
        return ImageModel(), [
            gettext("unknown fields: %(fields)s") % {"fields": list_text(unknown)}
        ]
    model = ImageModel.objects.filter(name=entry["name"]).first() or ImageModel()
    for field in EXPORTED_FIELDS:
        if field in entry:
            value = entry[field]
            if field.endswith("_on") and isinstance(value, str):
                try:
                    value = date.fromisoformat(value)
                except ValueError:
                    not_a_date = gettext("not a date (YYYY-MM-DD).")
                    return model, [f"{field}: {not_a_date}"]
            setattr(model, field, value)
    if "price" in entry or "price_note" in entry:  # a price someone chose: no sync replaces it
        model.price_source = ImageModel.PriceSource.ADMIN
        model.price_updated_at = timezone.now()
    try:
        model.full_clean()
    except ValidationError as error:
        messages_by_field = error.message_dict.items()
        return model, [f"{field} > {text}" for field, texts in messages_by_field for text in texts]
    return model, []
