"""The search's routes for words that are common each but seldom together (gallery.search):
what they find is exactly what every other route finds; how they ask the index is checked too.
`make test` runs this file on both databases."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gallery import paging, search
from gallery.models import Image
from gallery.search import shared
from imagegen.models import Generation

pytestmark = pytest.mark.django_db
MakeImage = Callable[..., Image]


@pytest.fixture
def make(db) -> MakeImage:
    def make(owner: User, prompt: str, revised_prompt: str = "") -> Image:
        generation = Generation.objects.create(
            owner=owner, model_name="dall-e-3", prompt=prompt, status="succeeded"
        )
        return Image.objects.create(
            owner=owner, generation=generation, index=0, file="originals/none.png",
            thumbnail="thumbnails/none.webp", width=1024, height=1024, thumbnail_width=512,
            thumbnail_height=512, format="png", bytes=1, sha256="0" * 64,
            model_name="dall-e-3", prompt=prompt, revised_prompt=revised_prompt,
            created_at=timezone.now(),
        )  # fmt: skip

    return make


def found(owner: User, text: str) -> list[str]:
    images = search.search_words(Image.objects.for_user(owner), text)
    return sorted(images.values_list("prompt", flat=True))


TOGETHER = "a lighthouse keeper and a samurai"


@pytest.fixture
def seldom_together(alice: User, bob: User, make: MakeImage) -> None:
    """Each word in many of the newest rows, both in one only: neither is rare enough to
    drive the search, and a scan of the person's rows would read them all to find it."""
    for n in range(6):
        make(alice, f"a lighthouse at dusk, number {n}")
        make(alice, f"a samurai in the rain, number {n}")
    make(alice, TOGETHER)
    # Every piece of both words, neither word: the index proposes it, the check refuses it.
    make(alice, "lig igh ght hth tho hou ous use sam amu mur ura rai")
    make(alice, "a tiny owl", revised_prompt="A Samurai guards the LIGHTHOUSE.")
    make(bob, TOGETHER)  # never anyone else's


@pytest.mark.usefixtures("seldom_together")
class TestSeldomTogether:
    def test_it_finds_exactly_the_rows_with_every_word(self, alice: User) -> None:
        expected = sorted([TOGETHER, "a tiny owl"])
        assert found(alice, "lighthouse samurai") == expected
        assert found(alice, "samurai lighthouse") == expected
        assert found(alice, "LightHouse SAMURAI") == expected  # ASCII case, as everywhere

    def test_exclusions_and_phrases_still_apply(self, alice: User) -> None:
        assert found(alice, "lighthouse samurai -owl") == [TOGETHER]
        assert found(alice, '"lighthouse keeper" samurai') == [TOGETHER]

    def test_nothing_in_common_is_nothing(self, alice: User) -> None:
        assert found(alice, "lighthouse samurai zeppelin") == []
        assert found(alice, "dusk rain") == []

    @pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 query")
    def test_sqlite_asks_the_index_for_one_piece_of_each_word(self, alice: User) -> None:
        with CaptureQueriesContext(connection) as queries:
            found(alice, "lighthouse samurai")
        sql = [q["sql"] for q in queries.captured_queries]
        matches = [statement for statement in sql if "gallery_image_fts MATCH" in statement]
        assert matches, "the trigram index was not asked"
        asked = matches[-1]
        assert '"lighthouse"' not in asked and '"samurai"' not in asked  # no phrase
        assert " AND " in asked


def test_the_rarest_piece_is_the_one_fewest_newest_rows_hold(alice: User, make: MakeImage) -> None:
    for word in ("light", "night", "high", "though"):
        make(alice, f"a {word} thing")
    make(alice, "the lighthouse")
    candidates = {"lighthouse": shared.pieces_of("lighthouse", 3)}
    [(term, piece)] = shared.Newest(Image.objects.for_user(alice)).rarest_pieces(candidates)
    # `hth`, `ous` and `use` are each in one row only; `igh`, `ght`, `tho` in more.
    assert term == "lighthouse"
    assert piece in {"hth", "ous", "use"}


def test_pieces_keep_the_case_as_typed(alice: User, make: MakeImage) -> None:
    make(alice, "a lighthouse")
    assert shared.pieces_of("LIGHTHOUSE", 3)[:2] == ["LIG", "IGH"]
    assert shared.pieces_of("夕日", 1) == ["夕", "日"]
    assert shared.pieces_of("aaaa", 3) == ["aaa"]
    candidates = {"LIGHTHOUSE": shared.pieces_of("LIGHTHOUSE", 3)}
    [(_term, piece)] = shared.Newest(Image.objects.for_user(alice)).rarest_pieces(candidates)
    assert piece in {"LIG", "IGH", "GHT", "HTH", "THO", "HOU", "OUS", "USE"}


def test_the_rarest_term_comes_first(alice: User, make: MakeImage) -> None:
    for _ in range(3):
        make(alice, "a cat")
    make(alice, "an owl")
    pieces = shared.Newest(Image.objects.for_user(alice)).rarest_pieces(
        {"cat": ["cat"], "owl": ["owl"]}
    )
    assert pieces == [("owl", "owl"), ("cat", "cat")]


def test_japanese_and_english_common_each_seldom_together(alice: User, make: MakeImage) -> None:
    for n in range(6):
        make(alice, f"猫の絵 {n}")
        make(alice, f"a lighthouse {n}")
    make(alice, "猫 and a lighthouse")
    make(alice, "猫", revised_prompt="A cat beside a LIGHTHOUSE")
    assert found(alice, "猫 lighthouse") == ["猫", "猫 and a lighthouse"]
    assert found(alice, "lighthouse 猫 -beside") == ["猫 and a lighthouse"]


def test_pieces_with_quotes_and_symbols_are_literal(alice: User, make: MakeImage) -> None:
    for n in range(6):
        make(alice, f'it"s raining {n}')
        make(alice, f"50% off {n}")
    make(alice, 'it"s 50% off')
    make(alice, "its 50 off")
    assert found(alice, 'it"s "50% off"') == ['it"s 50% off']


@pytest.mark.parametrize("every", [1, 2, 3, 5, 9])
def test_a_count_from_the_first_page_is_the_counted_one(
    alice: User, make: MakeImage, monkeypatch: pytest.MonkeyPatch, every: int
) -> None:
    """The first page, newest first, stands in for the sample when it reaches below it."""
    monkeypatch.setattr(paging, "PAGE_SIZE", 3)
    monkeypatch.setattr(paging, "COUNT_WINDOW", 6)
    monkeypatch.setattr(paging, "COUNT_SAMPLED", 2)
    for n in range(40):
        make(alice, f"a heron, number {n}" if n % every == 0 else f"a kite, number {n}")
    everything = Image.objects.for_user(alice)
    images = search.search_words(everything, "heron")
    page, _next = paging.page_of(images, None)
    with CaptureQueriesContext(connection) as queries:
        from_page = paging.count_of(images, everything, page)
    assert from_page == paging.count_of(images, everything)
    reaches_below = page[-1].id < everything.order_by("-id")[6].id
    counted = [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not reaches_below or len(counted) <= 1  # no sample counted; the size may be


def test_queries_over_a_persons_rows_are_planned_as_in_memory(alice: User) -> None:
    """gallery.planner: PostgreSQL plans the page's query as reading rows anywhere cheaply (so
    it takes the person's own index, not everyone's rows by the primary key); SQLite has no
    such setting and needs none."""
    from gallery.planner import RANDOM_PAGE_COST, person_rows_planned

    with person_rows_planned(connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW random_page_cost")
            assert cursor.fetchone()[0] == RANDOM_PAGE_COST
        assert list(Image.objects.for_user(alice)) == []  # and queries run as usual
