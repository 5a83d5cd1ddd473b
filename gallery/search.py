"""Prompt search: images whose prompt or revised prompt contains a piece of text, in any language.

Substring matching, not words, so Japanese (no spaces) works like English and Arabic. Callers pass
a queryset already narrowed to one person's images and get a queryset back, to filter, order and
page by id as before. Measured shapes and figures: bench/README.md.

PostgreSQL: plain `icontains`. GIN pg_trgm indexes on UPPER(prompt) and UPPER(revised_prompt)
(migration 0003) serve it for three characters or more, and the planner's statistics choose well
between them and the (owner, -id) index. Shorter text has no trigrams: a rare term is served by
GIN indexes on gallery_grams(UPPER(column)), every one- and two-character gram (migration 0004),
with the LIKE kept as the check; a common one (by the planner's estimate, see estimated_hits) is a
scan of the person's rows, newest first, which stops at the first page of hits.

SQLite: the FTS5 trigram table `gallery_image_fts` (migration 0003), for three characters or
more. SQLite's planner cannot choose between it and the (owner, -id) index, and each loses badly
on its own: `id IN (hits)` builds the whole hit list first (80 ms for a word in a third of 1M
prompts), while a LIKE scan of the person's rows finds a rare word only at the end (130 ms for 100k
rows). So the query chooses itself, once per statement: a capped count of the index's hits, then
the index for a rarer term and the LIKE scan, which stops early, for a common one. Text shorter
than three characters never goes to the trigram table (Debian's SQLite 3.40 answers it there
with no rows at all): when it is one or two non-ASCII letters or digits (`猫`, `夕日`, `قط`), the
same capped choice is made on `gallery_image_chars` (migration 0004), where each non-ASCII
character is one token, queried as a phrase and checked with instr(); anything else (`ox`, `%`)
is the LIKE scan, as before. (SQLite's LIKE folds the case of ASCII
letters only, the trigram index that of every cased script: É finds é only through the index.)
"""

import json

from django.db import connections
from django.db.models import BooleanField, Case, F, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.lookups import LessThan

TRIGRAM = 3
# Above this many hits in the whole index a term is common: most people's newest images contain
# it, so a scan of their rows ends after a few hundred. Counting this far costs about 3 ms.
COMMON_HITS = 20_000

FTS_HITS = "SELECT rowid FROM gallery_image_fts WHERE gallery_image_fts MATCH %s"
FTS_COUNT = (
    "SELECT count(*) FROM"
    " (SELECT rowid FROM gallery_image_fts WHERE gallery_image_fts MATCH %s LIMIT %s)"
)
# The character index proposes a superset (the characters may have others between them, which
# are not indexed): the hits are checked against the text here, on those rows alone. The outer
# query must not check them itself: its scan of the person's rows reads only the (owner, -id)
# index, and a condition on the text would make it read every row (100 ms, not 10).
CHARS_HITS = (
    "SELECT gallery_image_chars.rowid FROM gallery_image_chars"
    " JOIN gallery_image AS checked ON checked.id = gallery_image_chars.rowid"
    " WHERE gallery_image_chars MATCH %s"
    " AND (instr(checked.prompt, %s) > 0 OR instr(checked.revised_prompt, %s) > 0)"
)
CHARS_COUNT = (
    "SELECT count(*) FROM"
    " (SELECT rowid FROM gallery_image_chars WHERE gallery_image_chars MATCH %s LIMIT %s)"
)


class HasGram(Func):
    """PostgreSQL: `gallery_grams(UPPER(column)) @> ARRAY[UPPER(term)]` (migration 0004), the
    very expression of the GIN indexes image_prompt_grams and image_revised_prompt_grams."""

    arg_joiner = ")) @> ARRAY[UPPER("
    template = "gallery_grams(UPPER(%(expressions)s::text)]"
    output_field = BooleanField()


def search_images[Q_T: QuerySet](images: Q_T, text: str) -> Q_T:
    """Narrow `images` to those whose prompt or revised prompt contains `text`.

    Case-insensitive for Latin letters; every character of `text` is literal (quotes, `*`,
    `OR`, `NEAR(`, `%`, `_`). Surrounding spaces are ignored.
    """
    text = text.replace("\x00", "").strip()  # PostgreSQL refuses NUL; no prompt contains one
    if not text:
        return images
    if len(text) < TRIGRAM:
        return short_text(images, text)
    scan = Q(prompt__icontains=text) | Q(revised_prompt__icontains=text)
    if connections[images.db].vendor != "sqlite":
        return images.filter(scan)
    phrase = fts5_phrase(text)
    return images.filter(index_or_scan(FTS_COUNT, FTS_HITS, [phrase], scan))


def short_text[Q_T: QuerySet](images: Q_T, text: str) -> Q_T:
    """One or two characters: no trigram. The substring condition is always kept, as the check
    of what an index proposes (which is a superset: grams, or characters with others between)."""
    # Japanese or Arabic has no case: `contains` spares PostgreSQL an UPPER() of every row
    # it scans (a third less time), and finds exactly what `icontains` would.
    lookup = "contains" if text.upper() == text.lower() else "icontains"
    scan = Q(**{f"prompt__{lookup}": text}) | Q(**{f"revised_prompt__{lookup}": text})
    vendor = connections[images.db].vendor
    if vendor == "postgresql":
        grams = Q(HasGram(F("prompt"), Value(text))) | Q(HasGram(F("revised_prompt"), Value(text)))
        if estimated_hits(images, grams) >= COMMON_HITS:
            return images.filter(scan)
        return images.filter(grams, scan)
    # SQLite: the character table holds non-ASCII characters only, each one token (letters and
    # digits; unicode61 drops punctuation). Anything else, `ox` or `%`, is the LIKE scan.
    if vendor == "sqlite" and all(ord(c) >= 128 and c.isalnum() for c in text):
        # instr() is exact, as LIKE is for text without ASCII letters.
        phrase = '"' + " ".join(text) + '"'  # letters and digits only: nothing to escape
        return images.filter(index_or_scan(CHARS_COUNT, CHARS_HITS, [phrase, text, text], scan))
    return images.filter(scan)


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


def index_or_scan(count_sql: str, hits_sql: str, params: list[str], scan: Q) -> Case:
    """SQLite: the index's hits for a rare term, `scan` for a common one, which stops early.
    Constant SQL; the text only ever travels as bound parameters (`params`, phrase first)."""
    hits = RawSQL(count_sql, [params[0], COMMON_HITS], output_field=IntegerField())  # noqa: S611
    rare = LessThan(hits, COMMON_HITS)
    in_index = Q(id__in=RawSQL(hits_sql, params))  # noqa: S611
    # Both subqueries are uncorrelated: SQLite runs each at most once per statement.
    return Case(When(rare, then=in_index), default=scan, output_field=BooleanField())


def fts5_phrase(text: str) -> str:
    """`text` as one FTS5 string, so it is a substring to find and never query syntax."""
    return '"' + text.replace('"', '""') + '"'
