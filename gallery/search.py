"""Prompt search: images whose prompt or revised prompt contains a piece of text, in any language.

Substring matching, not words, so Japanese (no spaces) works like English and Arabic. Callers pass
a queryset already narrowed to one person's images and get a queryset back, to filter, order and
page by id as before. Measured shapes and figures: bench/README.md.

PostgreSQL: plain `icontains`. GIN pg_trgm indexes on UPPER(prompt) and UPPER(revised_prompt)
(migration 0003) serve it for three characters or more, and the planner's statistics choose well
between them and the (owner, -id) index. Shorter text has no trigrams and is a scan of the
person's rows, newest first, which stops at the first page of hits.

SQLite: the FTS5 trigram table `gallery_image_fts` (migration 0003), for three characters or
more. SQLite's planner cannot choose between it and the (owner, -id) index, and each loses badly
on its own: `id IN (hits)` builds the whole hit list first (80 ms for a word in a third of 1M
prompts), while a LIKE scan of the person's rows finds a rare word only at the end (130 ms for 100k
rows). So the query chooses itself, once per statement: a capped count of the index's hits, then
the index for a rarer term and the LIKE scan, which stops early, for a common one. Text shorter
than three characters always takes the LIKE scan: trigrams cannot serve it, and Debian's SQLite
3.40 answers it on a trigram table with no rows at all. (SQLite's LIKE folds the case of ASCII
letters only, the trigram index that of every cased script: É finds é only through the index.)
"""

from django.db import connections
from django.db.models import BooleanField, Case, IntegerField, Q, QuerySet, When
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


def search_images[Q_T: QuerySet](images: Q_T, text: str) -> Q_T:
    """Narrow `images` to those whose prompt or revised prompt contains `text`.

    Case-insensitive for Latin letters; every character of `text` is literal (quotes, `*`,
    `OR`, `NEAR(`, `%`, `_`). Surrounding spaces are ignored.
    """
    text = text.replace("\x00", "").strip()  # PostgreSQL refuses NUL; no prompt contains one
    if not text:
        return images
    if len(text) < TRIGRAM:
        # Japanese or Arabic has no case: `contains` spares PostgreSQL an UPPER() of every row
        # it scans (a third less time), and finds exactly what `icontains` would.
        lookup = "contains" if text.upper() == text.lower() else "icontains"
        return images.filter(
            Q(**{f"prompt__{lookup}": text}) | Q(**{f"revised_prompt__{lookup}": text})
        )
    scan = Q(prompt__icontains=text) | Q(revised_prompt__icontains=text)
    if connections[images.db].vendor != "sqlite":
        return images.filter(scan)
    # Constant SQL; the text only ever travels as a bound parameter.
    phrase = fts5_phrase(text)
    hits = RawSQL(FTS_COUNT, [phrase, COMMON_HITS], output_field=IntegerField())  # noqa: S611
    rare = LessThan(hits, COMMON_HITS)
    in_index = Q(id__in=RawSQL(FTS_HITS, [phrase]))  # noqa: S611
    # Both subqueries are uncorrelated: SQLite runs each at most once per statement.
    return images.filter(Case(When(rare, then=in_index), default=scan, output_field=BooleanField()))


def fts5_phrase(text: str) -> str:
    """`text` as one FTS5 string, so it is a substring to find and never query syntax."""
    return '"' + text.replace('"', '""') + '"'
