"""The gallery's search and filters, read from the query string so a search can be bookmarked."""

import datetime
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import Count, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallery import formats
from gallery.models import Collection, Image
from imagegen.models import ImageModel

PAGE_SIZE = 60
FORMATS = list(formats.LABELS.items())


class GalleryFilters(forms.Form):
    """Every field is optional; an invalid one is reported and ignored, never a server error."""

    q = forms.CharField(
        label=_("Search prompts"),
        required=False,
        max_length=500,
        strip=True,
        widget=forms.SearchInput,
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
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
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

    def __init__(self, data: Any, *, user: User) -> None:
        super().__init__(data)
        everything = [("", _("All"))]
        self.fields["model"].choices = everything + [
            (m.name, m.label) for m in ImageModel.objects.only("name", "label")
        ]
        self.fields["format"].choices = everything + FORMATS
        self.collections = list(Collection.objects.for_user(user).only("uuid", "name"))
        self.fields["collection"].choices = everything + [
            (str(c.uuid), c.name) for c in self.collections
        ]

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
        if values.get("origin"):
            images = images.filter(origin=values["origin"])
        if self.stacks(values):
            images = images.filter(stack_root__isnull=True)
        if values.get("collection"):
            images = images.filter(collections__uuid=values["collection"])
        return images.search(values.get("q", ""))

    def _valid_values(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}

    @property
    def is_filtered(self) -> bool:
        return any(self._valid_values().values()) if self.is_bound else False

    def query_string(self) -> str:
        """The current filters as a query string (without the page cursor), for links that
        keep the search."""
        params = QueryDict(mutable=True)
        params.update(self.data)
        params.pop("before", None)
        return params.urlencode()


def start_of(day: datetime.date, *, days_after: int = 0) -> datetime.datetime:
    moment = datetime.datetime.combine(day + datetime.timedelta(days=days_after), datetime.time())
    return timezone.make_aware(moment)


def page_of(images: QuerySet[Image], before: str | None) -> tuple[list[Image], int | None]:
    """One page, newest first, after the keyset cursor `before` (an image id); no OFFSET scans.

    Returns the images and the cursor for the next page (None on the last page).
    """
    if before and before.isdigit():
        images = images.filter(id__lt=int(before))
    rows = list(images.order_by("-id")[: PAGE_SIZE + 1])
    if len(rows) > PAGE_SIZE:
        return rows[:PAGE_SIZE], rows[PAGE_SIZE - 1].id
    return rows, None


def count_versions(page: list[Image], *, stacked: bool) -> None:
    """Set `version_count` on each image of the page: for a first version in a stacked view,
    itself and the versions behind it (in one query); 0 for any other."""
    counts: dict[int, int] = {}
    if stacked:
        counts = dict(
            Image.objects.filter(stack_root__in=[image.pk for image in page])
            .values_list("stack_root")
            .annotate(count=Count("id"))
        )
    for image in page:
        behind = counts.get(image.pk, 0)
        image.version_count = behind + 1 if behind else 0  # type: ignore[attr-defined]


def neighbours(images: QuerySet[Image], image: Image) -> tuple[Image | None, Image | None]:
    """The newer and the older image next to `image` within the same search."""
    newer = images.filter(id__gt=image.id).order_by("id").only("uuid").first()
    older = images.filter(id__lt=image.id).order_by("-id").only("uuid").first()
    return newer, older
