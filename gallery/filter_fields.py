"""The gallery's filter form, drawn flat: each field's markup written here from its values.

Django draws a field through templates: includes/field.html, then the widget's own template,
and for a select an include per <option> (15 for the model list). On the gallery page that was
more than the rest of the page's filters and queries together (bench/gallery_page.py); the
same markup from Python costs a tenth. What is drawn is what includes/field.html and Django's
widget templates drew: the label, the control with its attributes in Django's order (the
widget's own, required, aria-invalid, aria-describedby, id), the help and each error; except
that aria-describedby names each error's own id (`id_size_error_1`), as the paragraphs are
numbered, where Django's named an `id_size_error` that nothing on the page has (the generate
form's fields do the same: imagegen/forms/controls.py).

Only the widgets the gallery's filters use are drawn here (text inputs of any type, selects,
one checkbox); any other widget falls back to Django's own rendering.
"""

from html import escape

from django import forms
from django.forms.boundfield import BoundField
from django.forms.widgets import Input
from django.utils.safestring import SafeString, mark_safe


def draw_field(field: BoundField) -> SafeString:
    """One field as includes/field.html drew it: its <div class="field">, label, control,
    help and errors."""
    widget = field.field.widget
    name, auto_id, errors = field.name, field.auto_id, field.errors
    help_text = str(field.help_text) if field.help_text else ""
    checkbox = isinstance(widget, forms.CheckboxInput)
    label = f'<label for="{escape(field.id_for_label)}">{escape(str(field.label))}</label>'
    control = draw_control(field, widget, help_text)
    parts = [f'<div class="field field-{name}{" has-error" if errors else ""}"']
    parts.append(' data-kind="checkbox">\n  ' if checkbox else ">\n  ")
    parts.append(f"{control} {label}\n" if checkbox else f"{label}\n  {control}\n")
    if help_text:
        parts.append(f'  <p class="help" id="{auto_id}_helptext">{escape(help_text)}</p>\n')
    for number, error in enumerate(errors, 1):
        parts.append(f'  <p class="error" id="{auto_id}_error_{number}">{escape(error)}</p>\n')
    parts.append("</div>\n")
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped or fixed)


def draw_control(field: BoundField, widget: forms.Widget, help_text: str) -> str:
    """The input or select alone, as the widget's template draws it."""
    attrs: dict[str, object] = dict(widget.attrs)
    if field.field.required and field.form.use_required_attribute:
        attrs["required"] = True
    if field.errors:
        attrs["aria-invalid"] = "true"
    described = [f"{field.auto_id}_helptext"] if help_text else []
    described += [f"{field.auto_id}_error_{n}" for n in range(1, len(field.errors) + 1)]
    if described and not widget.attrs.get("aria-describedby"):
        attrs["aria-describedby"] = " ".join(described)
    if field.auto_id and "id" not in widget.attrs:
        attrs["id"] = field.auto_id
    value = field.value()
    html_name = escape(field.html_name)
    if isinstance(widget, forms.CheckboxInput):
        if widget.check_test(value):
            attrs["checked"] = True
        return f'<input type="checkbox" name="{html_name}"{flat(attrs)}>'
    if isinstance(widget, forms.Select) and not widget.allow_multiple_selected:
        return f'<select name="{html_name}"{flat(attrs)}>{options(field, value)}</select>'
    if isinstance(widget, Input) and not isinstance(widget, forms.FileInput):
        shown = widget.format_value(value)
        value_attr = "" if shown is None else f' value="{escape(str(shown))}"'
        return f'<input type="{widget.input_type}" name="{html_name}"{value_attr}{flat(attrs)}>'
    return str(field.as_widget())  # not one of the gallery's widgets: Django draws it


def options(field: BoundField, value: object) -> str:
    """A select's options; the first whose value is the field's is selected (Django's rule)."""
    chosen = "" if value is None else str(value)
    drawn, found = [], False
    for option, label in field.field.choices:
        selected = not found and str(option) == chosen
        found |= selected
        flag = " selected" if selected else ""
        drawn.append(
            f'\n  <option value="{escape(str(option))}"{flag}>{escape(str(label))}</option>'
        )
    return "".join(drawn) + "\n"


def flat(attrs: dict[str, object]) -> str:
    """Attributes as Django's attrs.html writes them: True as a bare name, False left out."""
    return "".join(
        f" {key}" if value is True else f' {key}="{escape(str(value))}"'
        for key, value in attrs.items()
        if value is not False and value is not None
    )
