"""The search box's little language (gallery.search.parse_terms): words, "phrases", -exclusions."""

import pytest

from gallery.search import MAX_TERMS, Terms, parse_terms


@pytest.mark.parametrize(
    ("text", "included", "excluded"),
    [
        ("ginger sofa", ("ginger", "sofa"), ()),
        ("sofa   ginger", ("sofa", "ginger"), ()),
        ('"red velvet sofa" ginger', ("red velvet sofa", "ginger"), ()),
        ('ginger "red velvet"', ("ginger", "red velvet"), ()),
        ("cat -dog", ("cat",), ("dog",)),
        ('cat -"red dog"', ("cat",), ("red dog",)),
        ("-dog -fox", (), ("dog", "fox")),
        ("海辺の猫", ("海辺の猫",), ()),
        ("猫\u3000夕日", ("猫", "夕日"), ()),  # the ideographic (full-width) space
        ("قطة\u00a0الشاطئ", ("قطة", "الشاطئ"), ()),  # noqa: RUF001 (a no-break space)
        ("قطة -كلب", ("قطة",), ("كلب",)),
        ("cat\tdog\nfox", ("cat", "dog", "fox"), ()),
        ("\u201cred sofa\u201d cat", ("red sofa", "cat"), ()),  # curly quotes, as phones type
        ("\uff02赤い猫\uff02", ("赤い猫",), ()),  # full-width quotes
        ("ukiyo-e", ("ukiyo-e",), ()),  # a hyphen inside a word is the word's
        ('it"s', ('it"s',), ()),  # a quote inside a word is an ordinary character
    ],
)
def test_it_parses_words_phrases_and_exclusions(
    text: str, included: tuple[str, ...], excluded: tuple[str, ...]
) -> None:
    assert parse_terms(text) == Terms(included, excluded)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"red sofa', Terms(("red sofa",))),  # an unclosed quote runs to the end
        ('cat "red sofa', Terms(("cat", "red sofa"))),
        ('-"red sofa', Terms((), ("red sofa",))),
        ('"', Terms()),
        ('""', Terms()),
        ('"   "', Terms()),
        ('" spaced phrase "', Terms(("spaced phrase",))),
    ],
)
def test_unbalanced_and_empty_quotes(text: str, expected: Terms) -> None:
    assert parse_terms(text) == expected


@pytest.mark.parametrize("text", ["-", " - ", "- -", "-\u3000", ""])
def test_a_lone_minus_or_nothing_is_no_search(text: str) -> None:
    assert parse_terms(text) == Terms()
    assert not parse_terms(text)


def test_a_minus_before_a_space_leaves_the_next_word_included() -> None:
    assert parse_terms("cat - dog") == Terms(("cat", "dog"))


def test_a_double_minus_excludes_text_that_starts_with_one() -> None:
    assert parse_terms("--dog") == Terms((), ("-dog",))


def test_only_exclusions_is_a_search() -> None:
    assert parse_terms("-cat")
    assert parse_terms("-cat").included == ()


def test_repeats_and_terms_inside_others_go() -> None:
    assert parse_terms("cat cat") == Terms(("cat",))
    assert parse_terms("cat cats") == Terms(("cats",))
    assert parse_terms('cat "a cat sat"') == Terms(("a cat sat",))
    assert parse_terms("-dog -dog") == Terms((), ("dog",))
    # Case is kept: the databases fold it their own ways (SQLite: ASCII only).
    assert parse_terms("Cat cat") == Terms(("Cat", "cat"))


def test_nul_bytes_are_dropped() -> None:
    assert parse_terms("ca\x00t -d\x00og") == Terms(("cat",), ("dog",))


def test_the_number_of_terms_is_bounded() -> None:
    words = [f"word{n:02}" for n in range(MAX_TERMS + 5)]
    terms = parse_terms(" ".join(words + [f"-{w}" for w in words]))
    assert terms.included == tuple(words[:MAX_TERMS])
    assert terms.excluded == tuple(words[:MAX_TERMS])
