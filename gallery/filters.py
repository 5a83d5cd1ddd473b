"""The gallery's search and filters, read from the query string so a search can be bookmarked.
The pages of what they find, in each order, and how many: gallery/paging.py."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from gallery import formats
from gallery.days import DayField
from gallery.models import Collection, Image
from gallery.models.images import MAX_RATING
from gallery.paging import BEST_RATED, MOST_EXPENSIVE
from gallery.search import search_words
from imagegen.models import ImageModel

COST_PLACES = 6  # as Image.cost keeps it
FORMATS = list(formats.LABELS.items())
COST_ERRORS = {
    "invalid": _("Write an amount as a number, e.g. 0.04."),
    "min_value": _("An amount cannot be below 0."),
    "max_digits": _("That amount is too large."),
    "max_whole_digits": _("That amount is too large."),
    "max_decimal_places": _("Write at most 6 decimal places."),
}


def cost_bound(label: Any, example: str, **more: Any) -> forms.DecimalField:
    """One end of the gallery's cost range: an amount of at most COST_PLACES decimals."""
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=COST_PLACES,
        error_messages=COST_ERRORS,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "placeholder": example}),
        **more,
    )


@dataclass(frozen=True)
class Chip:
    """One filter in use: its label, its value as shown, the query string without it."""

    label: str
    value: str
    without: str


class GalleryFilters(forms.Form):
    """Every field is optional; an invalid one is reported and ignored, never a server error."""

    q = forms.CharField(
        label=_("Search prompts"),
        required=False,
        max_length=500,
        strip=True,
        widget=forms.SearchInput,
        help_text=_('Words in any order; "a phrase" as written; -word to leave out.'),
    )
    model = forms.ChoiceField(label=_("Model"), required=False)
    size = forms.RegexField(
        label=_("Size"),
        required=False,
        regex=r"^\d{1,5}x\d{1,5}$",
        error_messages={"invalid": _("Write a size as WIDTHxHEIGHT, e.g. 1024x1024.")},
        widget=forms.TextInput(attrs={"placeholder": "1024x1024", "list": "gallery-sizes"}),
    )
    format = forms.ChoiceField(label=_("Format"), required=False)
    since = DayField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = DayField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    favourites = forms.BooleanField(label=_("Favourites only"), required=False)
    origin = forms.ChoiceField(
        label=_("Origin"),
        required=False,
        choices=[("", _("All")), *Image.Origin.choices],
    )
    versions = forms.ChoiceField(
        label=_("Versions"),
        required=False,
        choices=[("", _("Stacked")), ("all", _("Every version"))],
        help_text=_("Stacked shows each image once, with its edits and variations behind it."),
    )
    collection = forms.ChoiceField(label=_("Collection"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("", _("Newest first")),
            ("oldest", _("Oldest first")),
            (BEST_RATED, _("Best rated first")),
            (MOST_EXPENSIVE, _("Most expensive first")),
        ],
    )
    rating = forms.ChoiceField(
        label=_("Rating"),
        required=False,
        choices=[("", _("Any")), *[(str(n), "★" * n + "+") for n in range(1, MAX_RATING + 1)]],
        help_text=_("At least this many stars."),
    )
    cost_from = cost_bound(
        _("Cost from"), "0.01", help_text=_("An image's share of what its job cost, e.g. 0.04.")
    )
    cost_to = cost_bound(_("Cost to"), "0.10")

    def __init__(self, data: Any, *, user: User) -> None:
        super().__init__(data)
        everything = [("", _("All"))]
        models = ImageModel.objects.values_list("name", "label")
        self.fields["model"].choices = everything + list(models)
        self.fields["format"].choices = everything + FORMATS
        self.collections = list(Collection.objects.for_user(user).manual().only("uuid", "name"))
        self.fields["collection"].choices = everything + [
            (str(c.uuid), c.name) for c in self.collections
        ]

    def clean(self) -> dict[str, Any]:
        values = super().clean()
        low, high = values.get("cost_from"), values.get("cost_to")
        if low is not None and high is not None and high < low:
            self.add_error("cost_to", _("“Cost to” must not be below “Cost from”."))
        return values

    def stacks(self, values: dict[str, Any] | None = None) -> bool:
        """Whether versions are stacked behind their first: unless asked not to, or searching
        (a search shows every image that matches)."""
        if values is None:
            values = self.cleaned_data if self.is_valid() else self._valid_values()
        return values.get("versions") != "all" and not values.get("q")

    def apply(self, images: QuerySet[Image]) -> QuerySet[Image]:
        """Narrow `images` by every valid filter; search last, so it sees the narrowed set."""
        values = self.cleaned_data if self.is_valid() else self._valid_values()
        if values.get("model"):
            images = images.filter(model_name=values["model"])
        if values.get("size"):
            width, height = values["size"].split("x")
            images = images.filter(width=int(width), height=int(height))
        if values.get("format"):
            images = images.filter(format=values["format"])
        if values.get("since"):
            images = images.filter(created_at__gte=start_of(values["since"]))
        if values.get("until"):
            images = images.filter(created_at__lt=start_of(values["until"], days_after=1))
        if values.get("favourites"):
            images = images.filter(favourite=True)
        if values.get("rating"):
            images = images.filter(rating__gte=int(values["rating"]))
        if values.get("cost_from") is not None:
            images = images.filter(cost__gte=values["cost_from"])
        if values.get("cost_to") is not None:
            images = images.filter(cost__lte=values["cost_to"])
        if values.get("origin"):
            images = images.filter(origin=values["origin"])
        if self.stacks(values):
            images = images.filter(stack_root__isnull=True)
        if values.get("collection"):
            images = images.filter(collections__uuid=values["collection"])
        return search_words(images, values.get("q", ""))

    def _valid_values(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}

    @property
    def is_filtered(self) -> bool:
        """Whether any filter narrows the gallery (a sort does not)."""
        if not self.is_bound:
            return False
        return any(in_use(name, v) for name, v in self._valid_values().items() if name != "sort")

    @property
    def chosen_sort(self) -> str:
        """The chosen order: a key of gallery.paging.ORDERS or RANKED."""
        return self._valid_values().get("sort", "") if self.is_bound else ""

    @property
    def panel_in_use(self) -> bool:
        """Whether a filter inside the Filters panel narrows the gallery (a search or a sort
        alone leaves the panel shut, so the images stay near the top, on a phone above all)."""
        if not self.is_bound:
            return False
        values = self._valid_values().items()
        return any(in_use(name, v) for name, v in values if name not in {"q", "sort"})

    @property
    def panel_errors(self) -> bool:
        """Whether a field inside the collapsed Filters panel has an error (it opens then)."""
        return any(name not in {"q", "sort"} for name in self.errors)

    def chips(self) -> list[Chip]:
        """The filters in use, each with a link to the same search without it."""
        chips = []
        for name, value in self._valid_values().items():
            if not in_use(name, value) or name not in self.data:
                continue
            field = self[name]
            shown = value
            if isinstance(field.field, forms.ChoiceField):
                shown = dict(field.field.choices).get(value, value)
            elif isinstance(value, datetime.date):
                shown = date_format(value)
            elif value is True:
                shown = ""
            elif isinstance(value, Decimal):
                shown = f"{value.normalize():f}"  # 0.040000 -> 0.04
            chips.append(Chip(str(field.label), str(shown), self.query_string(without=name)))
        return chips

    def query_string(self, without: str = "") -> str:
        """The current filters as a query string (without the page cursor, nor the filter
        `without`), for links that keep the search."""
        params = QueryDict(mutable=True)
        params.update(self.data)
        params.pop("before", None)
        if without:
            params.pop(without, None)
        return params.urlencode()


def in_use(name: str, value: Any) -> bool:
    """Whether a cleaned filter value narrows anything: a cost of 0 does, an empty field not."""
    return value is not None if name in {"cost_from", "cost_to"} else bool(value)


def start_of(day: datetime.date, *, days_after: int = 0) -> datetime.datetime:
    moment = datetime.datetime.combine(day + datetime.timedelta(days=days_after), datetime.time())
    return timezone.make_aware(moment)
