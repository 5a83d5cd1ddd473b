"""Prompt search: images whose prompt or revised prompt contains pieces of text, in any language.

A search as typed (parse_terms) is words in any order, "quoted phrases" and -exclusions; each
word or phrase is a substring to find, not a dictionary word, so Japanese (no spaces) works like
English and Arabic. Callers pass a queryset already narrowed to one person's images and get a
queryset back, to filter, order and page by id as before. Included terms are each a condition;
one of them, the rarest if it is rare enough, is served by an index and proposes the rows, the
others are checked on those rows. Exclusions are NOT conditions on the rows that remain.
Measured shapes and figures: bench/README.md.
Here: the entry points; terms.py parses, shared.py holds the thresholds and the look at the
newest rows (Newest), sqlite.py and postgresql.py each database's way.

PostgreSQL: GIN pg_trgm indexes on UPPER(prompt) and UPPER(revised_prompt) (migration 0003)
serve `icontains` for three characters or more. Shorter text has no trigrams: GIN indexes on
gallery_grams(UPPER(column)), every one- and two-character gram (migration 0004), with the LIKE
kept as the check. Each term's hits are estimated by the planner (estimated_hits: an EXPLAIN);
the rarest keeps its indexed form only under COMMON_HITS, and every other term is written so
that no index serves it: left to itself, the planner took the trigram index for a common term
(`قطة`, 40 ms) where the scan of the person's newest rows finds a page of hits in 3 ms.

SQLite: the FTS5 trigram table `gallery_image_fts` (migration 0003), for three characters or
more. SQLite's planner cannot choose between it and the (owner, -id) index, and each loses badly
on its own: `id IN (hits)` builds the whole hit list first (80 ms for a word in a third of 1M
prompts), while a LIKE scan of the person's rows finds a rare word only at the end (130 ms for
100k rows). So the choice is made here, when the queryset is built: a search whose terms are
all found in 0.6% of the person's newest 500 rows (Newest, one read of 1-2 ms) is
the LIKE scan, which stops at a page of hits; otherwise a count of each rarer term's hits,
capped at COMMON_HITS (2-20 ms when it runs to the cap, so only for terms not common there),
picks the index for the rarest. Terms each common but seldom together use the index's AND of
one rare piece of each (`"hth" AND "mur"` for lighthouse samurai; Newest.rarest_pieces), every
term checked on the rows it proposes; PostgreSQL the same with one trigram each as `icontains`
(postgresql_drivers). Text shorter than three
characters never goes to the trigram table (Debian's SQLite 3.40 answers it there with no rows
at all): when it is one or two non-ASCII letters or digits (`猫`, `夕日`, `قط`), the same choice
is made on `gallery_image_chars` (migration 0004), where each non-ASCII character is one token,
queried as a phrase and checked with instr(); anything else (`ox`, `%`) is the LIKE scan. (SQLite's
LIKE folds the case of ASCII letters only, the trigram index that of every cased script: É finds
é only through the index.)
"""

from django.db import connections
from django.db.models import QuerySet

from gallery.search.postgresql import postgresql_search, unindexed
from gallery.search.shared import substring
from gallery.search.sqlite import sqlite_scan, sqlite_search
from gallery.search.terms import MAX_TERMS, Terms, parse_terms

__all__ = ["MAX_TERMS", "Terms", "parse_terms", "search_images", "search_terms", "search_words"]


def search_images[Q_T: QuerySet](images: Q_T, text: str) -> Q_T:
    """Narrow `images` to those whose prompt or revised prompt contains `text`, as one piece.

    Case-insensitive for Latin letters; every character of `text` is literal (quotes, `*`,
    `OR`, `NEAR(`, `%`, `_`). Surrounding spaces are ignored.
    """
    text = text.replace("\x00", "").strip()
    return search_terms(images, Terms((text,))) if text else images


def search_words[Q_T: QuerySet](images: Q_T, text: str) -> Q_T:
    """Narrow `images` to a search as typed (parse_terms): every word or phrase, in any order,
    and none of the excluded ones."""
    return search_terms(images, parse_terms(text))


def search_terms[Q_T: QuerySet](images: Q_T, terms: Terms) -> Q_T:
    """Every included term is a substring condition, served by an index where one pays (the
    rarest drives it, the others check its rows); an excluded one is a NOT on the rows that
    remain, never an index lookup (an index would only say which rows to drop)."""
    vendor = connections[images.db].vendor
    for term in terms.excluded:
        # PostgreSQL: the check form, or the planner may read an index to exclude by.
        excluded = unindexed(term) if vendor == "postgresql" else sqlite_scan(term)
        images = images.exclude(excluded)
    if not terms.included:
        return images
    if vendor == "sqlite":
        return sqlite_search(images, terms.included)
    if vendor == "postgresql":
        return postgresql_search(images, terms.included)
    return images.filter(*[substring(term) for term in terms.included])
