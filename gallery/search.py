"""Prompt search: images whose prompt or revised prompt contains a piece of text, in any language.

Substring matching (not words), so Japanese, which has no spaces, works like English and Arabic.

- SQLite: the FTS5 trigram table `gallery_image_fts` (migration 0003), for text of three
  characters or more. Shorter text cannot use trigrams (and Debian's SQLite 3.40 answers such
  queries on a trigram table with nothing at all), so it filters the base table instead, which
  the caller has already narrowed to one person's rows through the (owner, -id) index.
- PostgreSQL: plain `icontains`, which GIN pg_trgm indexes on UPPER(prompt) and
  UPPER(revised_prompt) serve for three characters or more.
"""

from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

TRIGRAM = 3

MATCHING_IDS = "SELECT rowid FROM gallery_image_fts WHERE gallery_image_fts MATCH %s"


def search_images[Q_T: QuerySet](images: Q_T, text: str) -> Q_T:
    """Narrow `images` to those whose prompt or revised prompt contains `text`.

    Case-insensitive for Latin letters; every character of `text` is literal (quotes, `*`,
    `OR`, `%`, `_` included). The result is still a queryset: filter, order, slice it.
    """
    text = text.replace("\x00", "").strip()  # NUL is refused by PostgreSQL, and never in a prompt
    if not text:
        return images
    if connections[images.db].vendor == "sqlite" and len(text) >= TRIGRAM:
        return images.filter(id__in=RawSQL(MATCHING_IDS, [fts5_phrase(text)]))
    return images.filter(Q(prompt__icontains=text) | Q(revised_prompt__icontains=text))


def fts5_phrase(text: str) -> str:
    """`text` as one FTS5 string: a substring to find, never query syntax (NEAR, OR, *, -)."""
    return '"' + text.replace('"', '""') + '"'
