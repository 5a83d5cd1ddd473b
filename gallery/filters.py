"""The gallery's search and filters, read from the query string so a search can be bookmarked."""

import datetime
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from gallery import formats
from gallery.days import DayField
from gallery.grid import TILE_FIELDS, GridImage
from gallery.models import Collection, Image
from gallery.models.images import MAX_RATING
from gallery.planner import person_rows_planned
from gallery.search import search_words
from imagegen.models import ImageModel

PAGE_SIZE = 60
CURSOR = re.compile(r"[0-9]{1,18}")  # an id, below 2**63
COUNT_WINDOW = 1000  # the newest images a count reads: it scales what it finds there
COUNT_SAMPLED = 3  # matches enough among those to scale, roughly ("about")
COUNT_BOUND = 1000  # a rare search is counted exactly up to here, then "more than"
# The gallery's orders, by the `sort` field's values; each a keyset on the image id.
ORDERS = {"": "-id", "oldest": "id"}
BEST_RATED = "rating"  # rated images only, most stars first: a keyset on (rating, id)
MOST_EXPENSIVE = "cost"  # images with a cost only, dearest first: a keyset on (cost, id)
# The orders on a column then the id, over the images that have a value (each has a partial
# index: image_owner_kept_rated, image_owner_kept_cost), and the cursor "value.id" of each.
RANKED = {
    BEST_RATED: ("rating", re.compile(r"([1-5])\.([0-9]{1,18})")),
    MOST_EXPENSIVE: ("cost", re.compile(r"([0-9]{1,6}(?:\.[0-9]{1,6})?)\.([0-9]{1,18})")),
}
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
        """The chosen order: a key of ORDERS."""
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


@dataclass(frozen=True)
class ResultCount:
    """How many images a search finds: `exact`, "about" (an estimate), or "more than" a bound."""

    number: int
    kind: str = "exact"  # or "about", "more"


def count_of(
    images: QuerySet[Image], everything: QuerySet[Image], newest_page: Sequence[GridImage] = ()
) -> ResultCount:
    """How many of `everything` (the person's images) `images` holds, at a bounded cost.

    An exact count reads every match: for a common word, most of a person's 100,000 rows. So
    the matches are counted among the newest COUNT_WINDOW of `everything` only (fetched by id,
    so no other person's rows are read), and scaled by its size: an index-only count on SQLite,
    the planner's estimate on PostgreSQL (whose own count took 16 ms). Where that sample is too
    thin to scale (a rare word, which an index serves), they are counted exactly up to
    COUNT_BOUND. Figures: bench/README.md, "Result count".

    `newest_page`, the first page of `images` newest first, if there is one at hand: when it
    reaches below the newest COUNT_WINDOW it holds every match among them, which then need no
    counting (a word found in one image in a hundred: 5-10 ms)."""
    newest = everything.order_by("-id").values_list("id", flat=True)
    beyond = list(newest[COUNT_WINDOW : COUNT_WINDOW + 1])  # the newest image not sampled
    if not beyond:  # a small gallery: count it all
        return ResultCount(images.order_by().count())
    # The newest COUNT_WINDOW are those above it: a range any index can serve. As `id IN (the
    # newest COUNT_WINDOW)`, PostgreSQL took the search's own index first and then looked for
    # each hit among the thousand, once per hit (`猫 夕日`: 67 ms, against 10 for the range).
    if newest_page and newest_page[-1].id < beyond[0]:
        sampled = sum(image.id > beyond[0] for image in newest_page)
    else:
        with person_rows_planned(images.db):
            sampled = images.filter(id__gt=beyond[0]).order_by().count()
    if sampled >= COUNT_SAMPLED:
        # At least what was sampled and one more (an estimate knows nothing of new rows).
        scaled = sampled * max(size_of(everything), COUNT_WINDOW + 1) / COUNT_WINDOW
        return ResultCount(int(float(f"{scaled:.2g}")), "about")
    with person_rows_planned(images.db):
        counted = images.order_by()[: COUNT_BOUND + 1].count()
    return ResultCount(COUNT_BOUND, "more") if counted > COUNT_BOUND else ResultCount(counted)


def size_of(everything: QuerySet[Image]) -> float:
    """How many rows: counted on SQLite, the planner's estimate on PostgreSQL."""
    if connections[everything.db].vendor != "postgresql":
        return everything.order_by().count()
    plan = json.loads(everything.order_by().values("pk").explain(format="json"))
    return plan[0]["Plan"]["Plan Rows"]


def start_of(day: datetime.date, *, days_after: int = 0) -> datetime.datetime:
    moment = datetime.datetime.combine(day + datetime.timedelta(days=days_after), datetime.time())
    return timezone.make_aware(moment)


def cursor_of(before: str | None) -> int | None:
    """The image id in `before`, if it is one: ASCII digits only (str.isdigit() takes "²" and
    "①", which int() refuses) and within a database integer; anything else is the first page."""
    if before and CURSOR.fullmatch(before):
        return int(before)
    return None


def page_of(
    images: QuerySet[Image], before: str | None, sort: str = ""
) -> tuple[list[GridImage], str | None]:
    """One page in the order `sort` (newest first by default), after the keyset cursor
    `before` (the last image shown: its id, or for the best rated "stars.id"); no OFFSET scans.

    Returns the images, each with the columns its tile reads (gallery.grid.GridImage), and the
    cursor for the next page (None on the last page).
    """
    if sort in RANKED:
        return _ranked_page(images, before, sort)
    order = ORDERS.get(sort, ORDERS[""])
    beyond = "id__lt" if order.startswith("-") else "id__gt"
    if cursor := cursor_of(before):
        images = images.filter(**{beyond: cursor})
    rows = tiles_of(images.order_by(order))
    if len(rows) > PAGE_SIZE:
        return rows[:PAGE_SIZE], str(rows[PAGE_SIZE - 1].id)
    return rows, None


def _ranked_page(
    images: QuerySet[Image], before: str | None, sort: str
) -> tuple[list[GridImage], str | None]:
    """Best rated or most expensive first: the images with a value only, highest first."""
    column, cursor = RANKED[sort]
    images = images.filter(**{f"{column}__isnull": False})
    if before and (found := cursor.fullmatch(before)):
        value, last = found[1], int(found[2])
        below, tied = {f"{column}__lt": value}, {column: value, "id__lt": last}
        images = images.filter(Q(**below) | Q(**tied))
    rows = tiles_of(images.order_by(f"-{column}", "-id"))
    if len(rows) > PAGE_SIZE:
        last_shown = rows[PAGE_SIZE - 1]
        return rows[:PAGE_SIZE], f"{getattr(last_shown, column)}.{last_shown.id}"
    return rows, None


def tiles_of(images: QuerySet[Image]) -> list[GridImage]:
    """A page and one more (to know whether another follows), as the tiles read them."""
    with person_rows_planned(images.db):
        return [GridImage(row) for row in images.values_list(*TILE_FIELDS)[: PAGE_SIZE + 1]]


# Counted with one plain statement: built through the ORM (kept(), filter, values, annotate)
# the same query cost 0.9 ms, 0.06 of it SQLite's.
VERSIONS_SQL = (
    "SELECT stack_root_id, COUNT(*) FROM gallery_image"
    " WHERE trashed_at IS NULL AND stack_root_id IN ({}) GROUP BY stack_root_id"
)


def count_versions(page: list[GridImage], *, stacked: bool) -> None:
    """Set `version_count` on each image of the page: for a first version in a stacked view,
    itself and the kept versions behind it (in one query); 0 for any other."""
    counts: dict[int, int] = {}
    if stacked and page:
        ids = [image.pk for image in page]
        with connections[Image.objects.db].cursor() as cursor:
            cursor.execute(VERSIONS_SQL.format(", ".join(["%s"] * len(ids))), ids)
            counts = dict(cursor.fetchall())
    for image in page:
        behind = counts.get(image.pk, 0)
        image.version_count = behind + 1 if behind else 0


def neighbours(
    images: QuerySet[Image], image: Image, sort: str = ""
) -> tuple[Image | None, Image | None]:
    """The images before and after `image` in the gallery's order `sort`, within the same search
    (best rated or most expensive first: among those with a rating or a cost; an image without
    one is not in that grid, so newest first)."""
    newer, older = Q(id__gt=image.id), Q(id__lt=image.id)
    before, after, order = newer, older, ("id", "-id")  # newest first
    if sort == "oldest":
        before, after, order = older, newer, ("-id", "id")
    elif sort in RANKED and (value := getattr(image, RANKED[sort][0])) is not None:
        column = RANKED[sort][0]
        images = images.filter(**{f"{column}__isnull": False})
        tied = Q(**{column: value})
        before = Q(**{f"{column}__gt": value}) | (tied & newer)
        after = Q(**{f"{column}__lt": value}) | (tied & older)
        previous = images.filter(before).order_by(column, "id").only("uuid").first()
        following = images.filter(after).order_by(f"-{column}", "-id").only("uuid").first()
        return previous, following
    previous = images.filter(before).order_by(order[0]).only("uuid").first()
    following = images.filter(after).order_by(order[1]).only("uuid").first()
    return previous, following
