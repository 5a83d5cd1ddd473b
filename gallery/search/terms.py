"""The search box's little language: words in any order, "quoted phrases", -exclusions."""

from dataclasses import dataclass

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
