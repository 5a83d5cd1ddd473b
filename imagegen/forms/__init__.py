"""The studio's forms for making images: generate (generate.py), edit (edit.py), and the fields
a model's schema turns into (controls.py)."""

from imagegen.forms.edit import EditForm
from imagegen.forms.generate import (
    GenerateForm,
    NoModelAvailable,
    Retirement,
    choose_model,
    initial_from,
)

__all__ = [
    "EditForm",
    "GenerateForm",
    "NoModelAvailable",
    "Retirement",
    "choose_model",
    "initial_from",
]
