"""Pages of a search: keyset pages in each of the gallery's orders (no OFFSET scans), an image's
neighbours in the same order, the versions behind each tile, and how many images a search finds
at a bounded cost. The search itself is gallery/filters.py."""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections
from django.db.models import Q, QuerySet

from gallery.grid import TILE_FIELDS, GridImage
from gallery.models import Image
from gallery.planner import person_rows_planned

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
