"""One prompt sent to several models: the models chosen beside the form's own, and what each of
them receives.

Each other model gets the same submitted values, validated by its own form and schema: options
it shares with the chosen model are carried over, options it lacks are simply not its fields,
and a carried value it refuses (a size it does not draw, a combination its rules forbid) falls
back to its default. What cannot fall back (a prompt over its limit, references it cannot take)
stops the whole submit with a message naming the model: nothing is sent half-way.
"""

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from imagegen.catalogue import label_of, value_label
from imagegen.forms.generate import REFERENCE, GenerateForm
from imagegen.models import ImageModel

COMPARE = "compare_with"  # the checkboxes naming the other models
MOST_OTHERS = 3  # beside the chosen model: four side by side at most
# Fields that are the request itself rather than a model's options: never dropped to a default.
NOT_OPTIONS = frozenset({"model", "prompt", REFERENCE})


@dataclass
class Companion:
    """One other model's share of a comparison: its validated form, or why it cannot take it."""

    model: ImageModel
    form: GenerateForm | None = None
    problem: str = ""
    defaulted: list[str] = field(default_factory=list)  # carried options it refused

    @property
    def sent(self) -> list[tuple[str, str]]:
        return shown_parameters(self.form) if self.form else []


def shown_parameters(form: GenerateForm) -> list[tuple[str, str]]:
    """(label, value) of each parameter a valid form will send, in the schema's own words."""
    return [
        (label_of(form.job_spec, name), value_label(value)) for name, value in form.sent.items()
    ]


def chosen_others(form: GenerateForm, data: QueryDict) -> list[ImageModel]:
    """The offered models ticked beside the form's own model, in the picker's order."""
    wanted = set(data.getlist(COMPARE))
    return [m for m in form.offered_models() if m.name in wanted and m.name != form.spec.name]


def companions(form: GenerateForm, data: QueryDict, files: Any, owner: Any) -> list[Companion]:
    """Each other chosen model's form, built from the same submitted values; problems that stop
    the comparison are added to `form`'s own errors. Call after `form.is_valid()`."""
    others = chosen_others(form, data)
    if len(others) > MOST_OTHERS:
        form.add_error(
            None,
            ngettext(
                "Compare with at most %(most)d other model.",
                "Compare with at most %(most)d other models.",
                MOST_OTHERS,
            )
            % {"most": MOST_OTHERS},
        )
        return []
    made = [_companion(model, data, files, owner) for model in others]
    for companion in made:
        if companion.problem:
            form.add_error(
                None,
                _("%(model)s cannot take this request: %(problem)s")
                % {"model": companion.model.label, "problem": companion.problem},
            )
    return made


def _companion(model: ImageModel, data: QueryDict, files: Any, owner: Any) -> Companion:
    values = data.copy()
    values["model"] = model.name
    values.pop(COMPARE, None)
    companion = Companion(model)
    # Each round puts the refused options back to their defaults; the rules between options can
    # turn up a new refusal once another is reset, so it may take a few rounds.
    for _round in range(4):
        form = GenerateForm(values, files, owner=owner)
        if values.getlist(REFERENCE) and REFERENCE not in form.fields:
            companion.problem = _("it takes no reference images.")
            return companion
        if form.is_valid():
            companion.form = form
            return companion
        refused = [name for name in form.errors if name and name not in NOT_OPTIONS]
        refused = [name for name in refused if name in form.fields]
        if not refused:
            break
        for name in refused:
            initial = form.fields[name].initial
            values[name] = "" if initial is None else str(initial)
            if name in ("width", "height"):
                values.pop(name, None)
            label = str(form.fields[name].label)
            if label not in companion.defaulted:
                companion.defaulted.append(label)
    errors = [message for messages in form.errors.values() for message in messages]
    companion.problem = errors[0] if errors else _("its options do not fit together.")
    return companion
