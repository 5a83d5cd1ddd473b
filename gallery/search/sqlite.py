"""SQLite's way to a search: the FTS5 trigram and character tables, chosen by counts capped
where they stop paying (gallery/search/__init__.py tells the whole story)."""

from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from gallery.search import shared
from gallery.search.shared import NEWEST_HITS, TRIGRAM, Newest, pieces_of, substring

FTS_HITS = "SELECT rowid FROM gallery_image_fts WHERE gallery_image_fts MATCH %s"
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
CHARS = "gallery_image_chars"
TABLES = ("gallery_image_fts", CHARS)
COUNT_SQL = {
    table: f"SELECT count(*) FROM (SELECT rowid FROM {table} WHERE {table} MATCH %s LIMIT %s)"  # noqa: S608
    for table in TABLES
}
# Several phrases at once, `"a" AND "b"`: a superset on the character table (checked outside).
ALL_HITS_SQL = {table: f"SELECT rowid FROM {table} WHERE {table} MATCH %s" for table in TABLES}  # noqa: S608


def sqlite_search[Q_T: QuerySet](images: Q_T, included: tuple[str, ...]) -> Q_T:
    """SQLite: the rarest term that an index serves, if rare enough, proposes the rows (`id IN`
    its hits); every other term is a LIKE check on them. With no rare term, the LIKE scan of
    the person's rows, newest first, which stops at a page of hits; unless the terms are common
    each on its own but seldom together (`lighthouse samurai`), when that scan would read all
    the person's rows: then the index's AND of them proposes the rows."""
    checks = [sqlite_scan(term) for term in included]
    newest = Newest(images)
    each, together = newest.hits(included)
    if together >= NEWEST_HITS:  # the scan finds a page of hits soon
        return images.filter(*checks)
    probes = {term: probe for term in included if (probe := sqlite_probe(term))}
    driver, chosen = None, ""
    cap = shared.COMMON_HITS  # read here: tests lower it
    with connections[images.db].cursor() as cursor:
        # A term common in the sample would run its count to the cap for nothing (2-20 ms).
        rarer = [term for term, hits in zip(included, each, strict=True) if hits < NEWEST_HITS]
        for term in sorted(probes.keys() & set(rarer), key=len, reverse=True):  # longer: rarer
            hits = capped_count(cursor, probes[term], cap)
            if hits < cap:  # rarer than any so far: each later count stops at this one
                driver, cap, chosen = probes[term].condition, hits, term
    if driver is not None:
        return images.filter(driver, *[sqlite_scan(t) for t in included if t != chosen])
    if len(probes) > 1:  # common each, seldom together: the AND of a rare piece of each
        sizes = {term: 1 if probe.table == CHARS else TRIGRAM for term, probe in probes.items()}
        chosen = newest.rarest_pieces({term: pieces_of(term, sizes[term]) for term in probes})
        # The rarest piece's index ANDs its pieces itself; another index's list would only be
        # read whole to probe it with each id (猫 lighthouse: 33 ms with both, 22 with one).
        table = probes[chosen[0][0]].table
        match = " AND ".join(fts5_phrase(p) for t, p in chosen if probes[t].table == table)
        return images.filter(Q(id__in=RawSQL(ALL_HITS_SQL[table], [match])), *checks)  # noqa: S611
    return images.filter(*checks)


@dataclass(frozen=True)
class Probe:
    """SQLite: how to count a term's hits in an index, and the condition those hits make."""

    table: str  # gallery_image_fts or gallery_image_chars
    match: str  # the FTS5 query: one phrase
    condition: Q


def sqlite_probe(term: str) -> Probe | None:
    """The index that serves `term`, if one does: trigrams for three characters or more, the
    character table for one or two non-ASCII letters or digits, none for `ox` or `%`.
    Constant SQL; the text only ever travels as bound parameters."""
    if len(term) >= TRIGRAM:
        phrase = fts5_phrase(term)
        return Probe("gallery_image_fts", phrase, Q(id__in=RawSQL(FTS_HITS, [phrase])))  # noqa: S611
    if all(ord(c) >= 128 and c.isalnum() for c in term):
        # Letters and digits only: nothing to escape. instr() is exact, as LIKE is for text
        # without ASCII letters.
        phrase = '"' + " ".join(term) + '"'
        hits = RawSQL(CHARS_HITS, [phrase, term, term])  # noqa: S611
        return Probe("gallery_image_chars", phrase, Q(id__in=hits))
    return None


def sqlite_scan(term: str) -> Q:
    return substring(term, exact_if_caseless=True)


def capped_count(cursor: Any, probe: Probe, cap: int) -> int:
    """The index's hits for the probe's phrase in the whole table, counted no further than `cap`."""
    cursor.execute(COUNT_SQL[probe.table], [probe.match, cap])
    return cursor.fetchone()[0]


def fts5_phrase(text: str) -> str:
    """`text` as one FTS5 string, so it is a substring to find and never query syntax."""
    return '"' + text.replace('"', '""') + '"'
