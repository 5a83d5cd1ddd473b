"""PostgreSQL's way to a search: the pg_trgm and gram indexes, chosen by the planner's
estimates (gallery/search/__init__.py tells the whole story)."""

import json
from typing import Any

from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.db.models.functions import StrIndex, Upper
from django.db.models.lookups import GreaterThan

from gallery.search import shared
from gallery.search.shared import NEWEST_HITS, TRIGRAM, Newest, pieces_of, substring


class HasGram(Func):
    """PostgreSQL: `gallery_grams(UPPER(column)) @> ARRAY[UPPER(term)]` (migration 0004), the
    very expression of the GIN indexes image_prompt_grams and image_revised_prompt_grams."""

    arg_joiner = ")) @> ARRAY[UPPER("
    template = "gallery_grams(UPPER(%(expressions)s::text)]"
    output_field = BooleanField()


def postgresql_search[Q_T: QuerySet](images: Q_T, included: tuple[str, ...]) -> Q_T:
    """PostgreSQL: as on SQLite, a search common among the person's newest rows is the scan of
    their rows, every term a check that no index serves; otherwise the rarest term not common
    there, by the planner's estimate and if under COMMON_HITS, keeps the form its index serves
    and the others are checks; otherwise (common each, seldom together) the planner ANDs the
    index for a rare piece of each (postgresql_drivers), and every term is a check. Left to
    itself, the planner took a common term's index, or ANDed two (`watercolour cat`: 82 ms,
    against 13 for the scan)."""
    newest = Newest(images)
    each, together = newest.hits(included)
    if together >= NEWEST_HITS:
        return images.filter(*[unindexed(term) for term in included])
    rarer = [term for term, hits in zip(included, each, strict=True) if hits < NEWEST_HITS]
    # Short terms by the grams alone: the planner underestimates grams and LIKE together.
    hits = {t: estimated_hits(images, postgresql_indexed(t, check=False)) for t in rarer}
    rarest = min(rarer, key=hits.__getitem__, default="")
    if rarest and hits[rarest] < shared.COMMON_HITS:  # read here: tests lower it
        checks = [unindexed(term) for term in included if term != rarest]
        return images.filter(postgresql_indexed(rarest), *checks)
    return images.filter(*postgresql_drivers(newest, included), *map(unindexed, included))


def postgresql_drivers(newest: Newest, included: tuple[str, ...]) -> list[Q]:
    """PostgreSQL, terms common each but seldom together: what the index ANDs, two at most:
    the rarest trigram of each term of three characters or more (Newest.rarest_pieces), then the
    shorter terms' grams. A trigram as `icontains` is one list of the trigram index (`%HTH%`),
    where a whole word is every one of its trigrams, each read in full: `lighthouse samurai`
    took 58 ms as words, 26 as `HTH` and `MUR`. pg_trgm takes trigrams from letters and
    digits only, so a piece with a space or a sign in it is no use to it."""
    pieces = {}
    for term in included:
        usable = [piece for piece in pieces_of(term, TRIGRAM) if piece.isalnum()]
        if len(term) >= TRIGRAM and usable:
            pieces[term] = usable
    chosen = newest.rarest_pieces(pieces) if pieces else []
    drivers = [substring(piece) for _term, piece in chosen]
    drivers += [postgresql_indexed(t, check=False) for t in included if len(t) < TRIGRAM]
    if not drivers:  # no piece an index serves (`"a b" "c d"`): the words' own forms
        drivers = [postgresql_indexed(term) for term in included]
    return drivers[:2]


def postgresql_indexed(term: str, *, check: bool = True) -> Q:
    """PostgreSQL: `term` in the form an index serves: `icontains` (UPPER(column) LIKE, the
    trigram indexes) from three characters, the gram indexes below (with the LIKE as check)."""
    if len(term) >= TRIGRAM:
        return substring(term)
    grams = Q(HasGram(F("prompt"), Value(term))) | Q(HasGram(F("revised_prompt"), Value(term)))
    return grams & substring(term, exact_if_caseless=True) if check else grams


def unindexed(term: str) -> Q:
    """PostgreSQL: `term` as a check that no index serves and that the planner does not take
    for selective: `strpos(UPPER(column), UPPER(term)) > 0`, estimated at a third of the rows.
    (As `icontains`, two common words made a BitmapAnd of their trigram indexes: 82 ms for
    `watercolour cat`. Hidden from the index as `UPPER(col || '')`, a LIKE is estimated at a
    few rows, and the planner read all of a person's rows to sort them: 500 ms for `sunset`.)
    Text without case (Arabic, Japanese) skips the UPPER() of every row read."""
    needle: Any = Value(term)
    if term.upper() == term.lower():
        return Q(GreaterThan(StrIndex("prompt", needle), 0)) | Q(
            GreaterThan(StrIndex("revised_prompt", needle), 0)
        )
    needle = Upper(needle)
    return Q(GreaterThan(StrIndex(Upper("prompt"), needle), 0)) | Q(
        GreaterThan(StrIndex(Upper("revised_prompt"), needle), 0)
    )


def estimated_hits(images: QuerySet, grams: Q) -> float:
    """PostgreSQL: the planner's estimate of the rows in the whole table that `grams` matches.

    Left to choose for the whole query, the planner takes the gram indexes even for a common
    term (`夕日`: 28 ms, against 5 ms for the scan of the person's newest rows, which stops at a
    page of hits), likely because it multiplies the selectivities of the gram test and of the
    LIKE that checks it, the same condition (not verified). So the choice is made here, as on
    SQLite, from the index's own statistics: an EXPLAIN (no rows read, under a millisecond)
    instead of a capped count. Unlike the rest of this module it runs when the queryset is built,
    not when it is evaluated: one short query per search."""
    probe = images.model._base_manager.using(images.db).filter(grams).order_by().values("pk")
    return json.loads(probe.explain(format="json"))[0]["Plan"]["Plan Rows"]
