"""What both databases' search strategies share: the thresholds that choose a way (the
strategies read COMMON_HITS through this module, so a test may lower it here), the plain
substring condition, and the look at a person's newest rows that weighs the terms (Newest). The
strategies: gallery/search/sqlite.py and postgresql.py."""

from django.db.models import Q, QuerySet

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


def substring(term: str, *, exact_if_caseless: bool = False) -> Q:
    """The plain condition: the prompt or the revised prompt contains `term`."""
    # Japanese or Arabic has no case: `contains` spares PostgreSQL an UPPER() of every row
    # it scans (a third less time), and finds exactly what `icontains` would. Only where no
    # trigram index is wanted: those index UPPER(column), which `icontains` compiles to.
    caseless = term.upper() == term.lower()
    lookup = "contains" if exact_if_caseless and caseless else "icontains"
    return Q(**{f"prompt__{lookup}": term}) | Q(**{f"revised_prompt__{lookup}": term})


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
