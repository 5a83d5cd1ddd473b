"""How one parameter of a model's schema becomes a form field, and how that field is drawn."""

from dataclasses import dataclass, replace
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from imagegen.catalogue import CUSTOM_SIZE, ModelSpec, Parameter, condition_text, value_label
from imagegen.forms.size_tiles import SizeTile, size_tiles


def labelled(values: list[Any]) -> list[tuple[Any, Any]]:
    return [(value, value_label(value)) for value in values]


@dataclass(frozen=True)
class Control:
    """One model field as plain values, drawn by one flat template.

    Django's widget templates render each <option> through an include of its own, and made the
    form for a model with many parameters render 2x slower (bench/generate_form.py); this draws
    the same markup (labels, aria-describedby, aria-invalid) from values computed once.
    """

    field: forms.BoundField
    kind: str  # select, checkbox, number, text, or size (a radio group of ratio tiles)
    value: str
    options: list[tuple[str, Any, bool]]  # a select's (value, label, selected)
    attrs: SafeString
    help: str
    only_when: str  # the schema's condition as JSON, for static/js/studio.js; "" when none
    advanced: bool = False  # drawn under the form's closed "Advanced" (the schema says so)
    tiles: tuple[SizeTile, ...] = ()  # a size's options as aspect-ratio tiles

    @classmethod
    def of(
        cls, field: forms.BoundField, help: str, only_when: str = "", *, advanced: bool = False
    ) -> "Control":
        widget, current = field.field.widget, field.value()
        ids = [f"{field.auto_id}_helptext"] if help else []
        ids += [f"{field.auto_id}_error_{n}" for n in range(1, len(field.errors) + 1)]
        described = " ".join(ids)
        extra = {key: value for key, value in widget.attrs.items() if value is not None}
        extra |= {"aria-describedby": described} if described else {}
        extra |= {"aria-invalid": "true"} if field.errors else {}
        # flatatt escapes every value; the flags added to it are fixed text.
        flags = " required" if field.field.required else ""
        checkbox = isinstance(widget, forms.CheckboxInput)
        flags += " checked" if checkbox and current else ""
        attrs = mark_safe(flatatt(extra) + flags)  # noqa: S308
        if checkbox:
            return cls(field, "checkbox", "", [], attrs, help, only_when, advanced)
        if isinstance(field.field, forms.ChoiceField):
            chosen = "" if current is None else str(current)
            options = [(str(v), label, str(v) == chosen) for v, label in field.field.choices]
            return cls(field, "select", chosen, options, attrs, help, only_when, advanced)
        kind = "number" if isinstance(widget, forms.NumberInput) else "text"
        value = "" if current is None else str(current)
        return cls(field, kind, value, [], attrs, help, only_when, advanced)

    def as_size_tiles(self) -> "Control":
        """A size's select as a radio group of aspect-ratio tiles (includes/size_tiles.html)."""
        return replace(self, kind="size", tiles=size_tiles(self.options))

    @property
    def described_by(self) -> str:
        """The ids of the help and errors, for a group (a fieldset) rather than one input."""
        field = self.field
        ids = [f"{field.auto_id}_helptext"] if self.help else []
        ids += [f"{field.auto_id}_error_{n}" for n in range(1, len(field.errors) + 1)]
        return " ".join(ids)


class Controls(list[Control]):
    """A model's controls as the form draws them: the everyday ones, then those under
    "Advanced", which opens by itself when one of them has an error."""

    @property
    def basic(self) -> list[Control]:
        return [control for control in self if not control.advanced]

    @property
    def advanced(self) -> list[Control]:
        return [control for control in self if control.advanced]

    @property
    def advanced_open(self) -> bool:
        return any(control.field.errors for control in self.advanced)


def size_field(size: Parameter) -> forms.ChoiceField:
    choices = labelled(list(size.choices) + ([CUSTOM_SIZE] if size.custom else []))
    return forms.ChoiceField(
        label=_(size.label),
        choices=choices,
        initial=size.default,
    )


def field_for(parameter: Parameter) -> forms.Field | None:
    # Help is worked out only when the page is drawn (model_controls): a submit never needs it.
    common: dict[str, Any] = {"label": _(parameter.label), "required": False}
    kind, default = parameter.kind, parameter.default
    if kind == "choice":
        choices = labelled(list(parameter.choices))
        if default is None:
            choices.insert(0, ("", _("Model default")))
        return forms.ChoiceField(choices=choices, initial=default, **common)
    if kind == "integer":
        widget = number_widget(parameter.minimum, parameter.maximum, default)
        return forms.IntegerField(widget=widget, **common)
    if kind == "number":
        widget = number_widget(parameter.minimum, parameter.maximum, default, step="any")
        return forms.FloatField(widget=widget, **common)
    if kind == "boolean":
        return forms.BooleanField(initial=bool(default), **common)
    if kind == "text":
        return forms.CharField(
            initial=default, widget=forms.TextInput(attrs={"dir": "auto"}), **common
        )
    return None  # reference images are chosen in the editor (issue 10), not typed in


def number_widget(
    low: float | None, high: float | None, default: Any = None, step: str = "1"
) -> forms.NumberInput:
    attrs: dict[str, Any] = {"step": step}
    if low is not None:
        attrs["min"] = low
    if high is not None:
        attrs["max"] = high
    if default is not None:
        attrs["placeholder"] = default
    return forms.NumberInput(attrs=attrs)


def help_for(parameter: Parameter, spec: ModelSpec | None) -> str:
    """The field's help: the schema's own, the default, and when it applies."""
    parts = [gettext(parameter.help)] if parameter.help else []
    if parameter.kind in {"integer", "number"} and parameter.default is not None:
        parts.append(gettext("Default: %(value)s.") % {"value": number_format(parameter.default)})
    if spec is not None and parameter.only_when:
        condition = condition_text(spec, parameter.only_when)
        parts.append(gettext("Only when %(condition)s.") % {"condition": condition})
    return " ".join(parts)
