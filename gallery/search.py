"""Prompt search: images whose prompt or revised prompt contains pieces of text, in any language.

A search as typed (parse_terms) is words in any order, "quoted phrases" and -exclusions; each
word or phrase is a substring to find, not a dictionary word, so Japanese (no spaces) works like
English and Arabic. Callers pass a queryset already narrowed to one person's images and get a
queryset back, to filter, order and page by id as before. Included terms are each a condition;
one of them, the rarest if it is rare enough, is served by an index and proposes the rows, the
others are checked on those rows. Exclusions are NOT conditions on the rows that remain.
Measured shapes and figures: bench/README.md.

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

import json
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex, Upper
from django.db.models.lookups import GreaterThan

TRIGRAM = 3
# Above this many hits in the whole index a term is common: most people's newest images contain
# it, so a scan of their rows ends after a few thousand. Counting this far costs 2-20 ms (more
# for a longer word: more trigrams to line up), so it is asked only when a cheaper look at the
# person's newest rows (Newest) could not settle it.
COMMON_HITS = 20_000
# A search found in NEWEST_HITS of the person's NEWEST_ROWS newest rows (0.6%) is common enough
# for the scan of their rows, newest first: a page of 60 hits within about 10,000 rows (15 ms at
# most; an index's AND of two common words costs 50). Reading those rows once to count costs
# 1-2 ms; an index's count can cost twenty.
NEWEST_ROWS, NEWEST_HITS = 500, 3

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


# A phrase opens with any of these (phones type curly quotes) and closes with any of the closers.
OPENING_QUOTES = '"“„＂'  # noqa: RUF001
CLOSING_QUOTES = '"”“＂'  # noqa: RUF001
MAX_TERMS = 8  # each included term may cost an index probe; more than this is not a search


@dataclass(frozen=True)
class Terms:
    """A search as typed, parsed: text that must appear (`included`) and must not (`excluded`)."""

    included: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.included or self.excluded)


def parse_terms(text: str) -> Terms:
    """Words in any order, `"a quoted phrase"` as written, `-word` or `-"a phrase"` excluded.

    Words are split at whitespace of any script (U+3000 too). An unclosed quote runs to the end;
    a lone `-` and empty quotes are nothing; a quote inside a word is an ordinary character.
    Repeats go, and so does an included term inside another (`cat` beside `cats`)."""
    text = text.replace("\x00", "")  # PostgreSQL refuses NUL; no prompt contains one
    included: list[str] = []
    excluded: list[str] = []
    at, end = 0, len(text)
    while at < end:
        if text[at].isspace():
            at += 1
            continue
        negated = text[at] == "-"
        start = at + 1 if negated else at
        if start < end and text[start] in OPENING_QUOTES:
            close = next((i for i in range(start + 1, end) if text[i] in CLOSING_QUOTES), end)
            term, at = text[start + 1 : close].strip(), close + 1
        else:
            at = start
            while at < end and not text[at].isspace():
                at += 1
            term = text[start:at]
        if term:
            (excluded if negated else included).append(term)
    kept = [t for i, t in enumerate(included) if not implied(t, included[:i], included[i + 1 :])]
    return Terms(tuple(kept[:MAX_TERMS]), tuple(dict.fromkeys(excluded))[:MAX_TERMS])


def implied(term: str, before: list[str], after: list[str]) -> bool:
    """A repeat of an earlier term, or a piece of another (longer) term: finding that finds it."""
    return term in before or any(term in other and term != other for other in before + after)


class HasGram(Func):
    """PostgreSQL: `gallery_grams(UPPER(column)) @> ARRAY[UPPER(term)]` (migration 0004), the
    very expression of the GIN indexes image_prompt_grams and image_revised_prompt_grams."""

    arg_joiner = ")) @> ARRAY[UPPER("
    template = "gallery_grams(UPPER(%(expressions)s::text)]"
    output_field = BooleanField()


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


def substring(term: str, *, exact_if_caseless: bool = False) -> Q:
    """The plain condition: the prompt or the revised prompt contains `term`."""
    # Japanese or Arabic has no case: `contains` spares PostgreSQL an UPPER() of every row
    # it scans (a third less time), and finds exactly what `icontains` would. Only where no
    # trigram index is wanted: those index UPPER(column), which `icontains` compiles to.
    caseless = term.upper() == term.lower()
    lookup = "contains" if exact_if_caseless and caseless else "icontains"
    return Q(**{f"prompt__{lookup}": term}) | Q(**{f"revised_prompt__{lookup}": term})


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
    if rarest and hits[rarest] < COMMON_HITS:
        checks = [unindexed(term) for term in included if term != rarest]
        return images.filter(postgresql_indexed(rarest), *checks)
    return images.filter(*postgresql_drivers(newest, included), *map(unindexed, included))


def postgresql_drivers(newest: "Newest", included: tuple[str, ...]) -> list[Q]:
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
    cap = COMMON_HITS
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


def pieces_of(term: str, size: int) -> list[str]:
    """The distinct pieces of `size` characters in `term` as typed: an index folds their case
    as it folded the rows'."""
    return list(dict.fromkeys(term[i : i + size] for i in range(len(term) - size + 1)))


class Newest:
    """The person's newest NEWEST_ROWS rows, the ones a scan of them reads first, their text
    read once (about 1.3 ms) and weighed here: how many hold each term and all of them (which
    way to search), and which piece of a term is rarest (rarest_pieces). As a query of
    COUNT(...) FILTER, the counts took 6-8 ms on PostgreSQL (UPPER() of every row, per term)
    and about 2 on SQLite. Case is folded as Python folds it, not quite as each database
    does: these counts choose a way, and every way finds the same images."""

    def __init__(self, images: QuerySet) -> None:
        newest = images.order_by("-id").values_list("prompt", "revised_prompt")[:NEWEST_ROWS]
        # NUL between the two: no term has one (parse_terms drops it), so none spans both.
        self.texts = [f"{prompt}\x00{revised}".lower() for prompt, revised in newest]

    def hits(self, terms: tuple[str, ...]) -> tuple[list[int], int]:
        """How many of the rows hold each term, and how many hold all of them."""
        found = [[term.lower() in text for text in self.texts] for term in terms]
        return [sum(rows) for rows in found], sum(all(row) for row in zip(*found, strict=True))

    def rarest_pieces(self, pieces: dict[str, list[str]]) -> list[tuple[str, str]]:
        """For each term, the one of its `pieces` found in the fewest rows: [(term, piece)],
        the rarest first.

        Every row that contains a term contains each piece of it, so the AND of one piece per
        term proposes a superset of the rows that contain them all, which the checks narrow.
        An index reads a piece far more cheaply than a word: it lines up every trigram of the
        word, in every row holding them all (SQLite, `"lighthouse" AND "samurai"`, no row in
        common: 53 ms; `"hth" AND "mur"`, two lists of row ids: 3 ms, 60 rows to check). The
        rarest trigram of a word is not told by its letters (`hth` is in every lighthouse,
        `igh` in light, night and high), so each is counted here."""
        chosen = []
        for term, candidates in pieces.items():
            found = {
                piece: sum(piece.lower() in text for text in self.texts) for piece in candidates
            }
            rarest = min(candidates, key=found.__getitem__)
            chosen.append((found[rarest], term, rarest))
        return [(term, piece) for _found, term, piece in sorted(chosen)]


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
