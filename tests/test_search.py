"""Prompt search (gallery/search/): the same behaviour on SQLite (FTS5 trigram) and PostgreSQL
(pg_trgm). `make test` runs this file on both."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from gallery.models import Image
from gallery.search import shared
from imagegen.models import Generation

pytestmark = pytest.mark.django_db
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's index only")
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")

MakeImage = Callable[..., Image]


@pytest.fixture
def make(db) -> MakeImage:
    """A saved image row without files: search only reads the text."""

    def make(owner: User, prompt: str, revised_prompt: str = "", **fields: object) -> Image:
        generation = Generation.objects.create(
            owner=owner, model_name="dall-e-3", prompt=prompt, status="succeeded"
        )
        return Image.objects.create(
            owner=owner,
            generation=generation,
            index=0,
            file="originals/none.png",
            thumbnail="thumbnails/none.webp",
            width=1024,
            height=1024,
            thumbnail_width=512,
            thumbnail_height=512,
            format="png",
            bytes=1,
            sha256="0" * 64,
            model_name="dall-e-3",
            prompt=prompt,
            revised_prompt=revised_prompt,
            created_at=timezone.now(),
            **fields,
        )

    return make


@pytest.fixture(params=["index", "scan"])
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A term goes to an index when rare, to a LIKE scan when common: test both. (PostgreSQL
    chooses so for one or two characters only; longer text is the same query either way.)"""
    if request.param == "scan":
        monkeypatch.setattr(shared, "COMMON_HITS", 0)  # every term counts as common
    return request.param


def found(owner: User, text: str) -> list[str]:
    return sorted(Image.objects.for_user(owner).search(text).values_list("prompt", flat=True))


@pytest.fixture
def alices_images(alice: User, make: MakeImage) -> None:
    make(alice, "a lighthouse at sunset, oil painting")
    make(alice, "A quiet harbour in the RAIN")
    make(alice, "قطة على الشاطئ عند الغروب")
    make(alice, "海辺の猫、夕日、水彩画")
    make(alice, "東京の街の犬")
    make(alice, "a robot", revised_prompt="A friendly robot waters tulips in a greenhouse.")


@pytest.mark.usefixtures("alices_images", "route")
class TestWhatItFinds:
    def test_it_finds_an_english_word(self, alice: User) -> None:
        assert found(alice, "harbour") == ["A quiet harbour in the RAIN"]

    def test_it_finds_part_of_a_word(self, alice: User) -> None:
        assert found(alice, "ghthou") == ["a lighthouse at sunset, oil painting"]

    def test_it_finds_several_words_as_one_piece_of_text(self, alice: User) -> None:
        assert found(alice, "at sunset, oil") == ["a lighthouse at sunset, oil painting"]
        assert found(alice, "sunset oil") == []

    def test_it_ignores_the_case_of_latin_letters(self, alice: User) -> None:
        assert found(alice, "HARBOUR") == ["A quiet harbour in the RAIN"]
        assert found(alice, "rain") == ["A quiet harbour in the RAIN"]
        assert found(alice, "LightHouse") == ["a lighthouse at sunset, oil painting"]

    @pytest.mark.parametrize("word", ["قطة", "الشاطئ", "الغروب"])
    def test_it_finds_an_arabic_word(self, alice: User, word: str) -> None:
        assert found(alice, word) == ["قطة على الشاطئ عند الغروب"]

    @pytest.mark.parametrize("text", ["猫", "夕日", "海辺の猫", "水彩画", "の猫、夕"])
    def test_it_finds_japanese_of_any_length(self, alice: User, text: str) -> None:
        assert found(alice, text) == ["海辺の猫、夕日、水彩画"]

    def test_one_japanese_character_finds_every_image_that_has_it(self, alice: User) -> None:
        assert found(alice, "の") == ["東京の街の犬", "海辺の猫、夕日、水彩画"]

    def test_it_finds_text_that_is_only_in_the_revised_prompt(self, alice: User) -> None:
        assert found(alice, "tulips") == ["a robot"]
        assert found(alice, "Greenhouse") == ["a robot"]

    def test_it_finds_nothing_when_nothing_matches(self, alice: User) -> None:
        assert found(alice, "zeppelin") == []
        assert found(alice, "鶴") == []
        assert found(alice, "robot tulips") == []

    def test_surrounding_spaces_are_ignored(self, alice: User) -> None:
        assert found(alice, "  harbour \n") == ["A quiet harbour in the RAIN"]

    def test_blank_text_is_no_search_at_all(self, alice: User) -> None:
        assert len(found(alice, "")) == len(found(alice, "   ")) == 6


@pytest.mark.usefixtures("route")
@pytest.mark.parametrize(
    ("text", "literal", "decoy"),
    [
        ('"', 'a "quoted" word', "no quotes"),
        ('say "hi"', 'they say "hi" twice', "they say hi twice"),
        ('""', 'an empty "" pair', 'a lone " quote'),
        ("*", "a * star", "no star"),
        ("cat*", "a cat* footnote", "a catalogue"),
        ("cat OR dog", "the cat OR dog debate", "a dog"),
        ("OR", "an OR gate", "a cat"),
        ("NEAR(", "NEAR( is syntax", "near the sea"),
        ("NEAR(cat dog)", "NEAR(cat dog) said the sign", "a dog near a cat"),
        ("-", "a well-lit room", "a dark room"),
        ("cat -dog", "cat -dog", "a cat and no dog"),
        ("%", "100% cotton", "cotton"),
        ("_", "snake_case", "snake case"),
        ("5%_", "a 5%_ rate", "a 5% rate"),
        ("'", "it's", "its"),
        ("\\", "back\\slash", "backslash"),
        ("prompt:cat", "prompt:cat label", "cat"),
        ("^cat", "^cat first", "cat first"),
        ("{prompt revised_prompt}: x", "{prompt revised_prompt}: x", "x"),
        ("a\x00b", "ab", "a b"),  # NUL is dropped, never sent to the database
    ],
)
def test_special_characters_match_literally(
    alice: User, make: MakeImage, text: str, literal: str, decoy: str
) -> None:
    make(alice, literal)
    make(alice, decoy)
    assert found(alice, text) == [literal]


@pytest.mark.usefixtures("route")
def test_it_only_finds_the_owners_images(alice: User, bob: User, make: MakeImage) -> None:
    make(alice, "alice's red fox")
    make(bob, "bob's red fox", revised_prompt="a red fox")
    make(bob, "ボブの猫")
    assert found(alice, "red fox") == ["alice's red fox"]
    assert found(alice, "猫") == []
    assert found(bob, "fox") == ["bob's red fox"]


@pytest.mark.usefixtures("route")
def test_it_combines_with_other_filters_ordering_and_keyset_pages(
    alice: User, make: MakeImage
) -> None:
    foxes = [make(alice, f"fox number {n}", favourite=n % 2 == 0) for n in range(6)]
    make(alice, "a favourite owl", favourite=True)
    favourites = Image.objects.for_user(alice).filter(favourite=True).search("fox number")
    newest_first = favourites.order_by("-id")
    assert [i.id for i in newest_first] == [foxes[4].id, foxes[2].id, foxes[0].id]
    # The gallery's keyset pages: 'before' an id, newest first, one more than a page.
    assert [i.id for i in newest_first.filter(id__lt=foxes[4].id)[:2]] == [foxes[2].id, foxes[0].id]
    # The detail page's neighbours: ascending from an id.
    assert favourites.filter(id__gt=foxes[0].id).order_by("id").first() == foxes[2]
    assert Image.objects.for_user(alice).search("fox").filter(prompt__endswith="5").count() == 1
    assert Image.objects.for_user(alice).search("fox").search("number 3").get() == foxes[3]


@pytest.mark.usefixtures("route")
class TestShortText:
    """One or two characters: the character index (SQLite, non-ASCII letters) or the gram
    indexes (PostgreSQL), checked by the substring condition; common terms on SQLite scan."""

    def test_rare_and_common_characters(self, alice: User, bob: User, make: MakeImage) -> None:
        for n in range(5):
            make(alice, f"海辺の猫 {n}")
        make(alice, "a crane", revised_prompt="鶴が飛ぶ")
        make(bob, "鶴")
        assert found(alice, "鶴") == ["a crane"]
        assert found(alice, "猫") == [f"海辺の猫 {n}" for n in range(5)]
        assert found(alice, "の猫") == [f"海辺の猫 {n}" for n in range(5)]
        assert found(bob, "鶴") == ["鶴"]

    def test_characters_must_be_next_to_each_other(self, alice: User, make: MakeImage) -> None:
        make(alice, "夕、日")  # punctuation between: not the text 夕日
        make(alice, "夕 ab 日")  # ASCII between: not indexed, still not adjacent
        make(alice, "日夕")
        make(alice, "夕日")
        assert found(alice, "夕日") == ["夕日"]
        assert found(alice, "日夕") == ["日夕"]

    def test_two_characters_across_scripts_and_case(self, alice: User, make: MakeImage) -> None:
        make(alice, "A Fox in Édo", revised_prompt="猫a")
        make(alice, "box")
        assert found(alice, "OX") == ["A Fox in Édo", "box"]
        assert found(alice, "猫A") == ["A Fox in Édo"]
        assert found(alice, "É") == ["A Fox in Édo"]
        assert found(alice, " n ") == ["A Fox in Édo"]  # spaces dropped: this is `n`
        assert found(alice, "x") == ["A Fox in Édo", "box"]

    @pytest.mark.parametrize(
        ("text", "literal", "decoy"),
        [
            ("、", "海辺、猫", "海辺猫"),
            ("%", "100%", "100"),
            ("_猫", "a_猫", "a猫"),
            ('"', '"猫"', "猫"),
            ("猫*", "猫*", "猫"),
            ("・", "猫・犬", "猫犬"),
        ],
    )
    def test_special_characters_match_literally(
        self, alice: User, make: MakeImage, text: str, literal: str, decoy: str
    ) -> None:
        make(alice, literal)
        make(alice, decoy)
        assert found(alice, text) == [literal]

    def test_the_index_follows_create_and_delete(self, alice: User, make: MakeImage) -> None:
        first = make(alice, "鶴の絵")
        make(alice, "rain", revised_prompt="雨の鶴")
        assert found(alice, "鶴") == ["rain", "鶴の絵"]
        first.delete()
        assert found(alice, "鶴") == ["rain"]
        Image.objects.filter(prompt="rain").delete()
        assert found(alice, "鶴") == []
        make(alice, "鶴")
        assert found(alice, "鶴") == ["鶴"]
        assert_index_consistent()


class TestTheIndexFollowsChanges:
    def test_a_changed_prompt_is_found_by_its_new_text_only(
        self, alice: User, make: MakeImage
    ) -> None:
        image = make(alice, "a red fox in the snow")
        image.prompt = "a blue whale in the sea"
        image.save()
        assert found(alice, "whale") == ["a blue whale in the sea"]
        assert found(alice, "red fox") == []
        assert_index_consistent()

    def test_an_update_through_a_queryset_is_followed(self, alice: User, make: MakeImage) -> None:
        make(alice, "a red fox", revised_prompt="A small red fox.")
        Image.objects.update(revised_prompt="A sleepy tortoise.")
        assert found(alice, "tortoise") == ["a red fox"]
        assert found(alice, "small red") == []
        assert_index_consistent()

    def test_a_deleted_image_is_no_longer_found(self, alice: User, make: MakeImage) -> None:
        make(alice, "a red fox").delete()
        make(alice, "a red fox too")
        Image.objects.filter(prompt="a red fox too").delete()
        assert found(alice, "red fox") == []
        assert_index_consistent()

    def test_saving_other_fields_keeps_the_image_findable(
        self, alice: User, make: MakeImage
    ) -> None:
        image = make(alice, "海辺の猫")
        image.favourite = True
        image.save()  # every column, the text unchanged
        image.save(update_fields=["favourite"])
        assert found(alice, "海辺の猫") == ["海辺の猫"]
        assert_index_consistent()


def assert_index_consistent() -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # With rank 1, FTS5 also checks every indexed row against the gallery_image table.
            cursor.execute(
                "INSERT INTO gallery_image_fts(gallery_image_fts, rank)"
                " VALUES ('integrity-check', 1)"
            )
            # Contentless: rank 1 cannot compare with the text, so compare the rowids.
            cursor.execute(
                "INSERT INTO gallery_image_chars(gallery_image_chars) VALUES ('integrity-check')"
            )


def query_plan(sql: str, params: tuple) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@on_sqlite
def test_sqlite_uses_the_trigram_index_for_three_characters_or_more(alice: User) -> None:
    for text in ["fox", "海辺の猫", "قطة"]:
        sql, params = Image.objects.for_user(alice).search(text).query.sql_with_params()
        assert "gallery_image_fts VIRTUAL TABLE" in query_plan(sql, params)


@on_sqlite
def test_sqlite_never_sends_shorter_text_to_the_trigram_index(alice: User) -> None:
    # Debian's SQLite 3.40 answers one or two characters on a trigram table with no rows.
    for text in ["猫", "夕日", "ox", "%"]:
        sql, params = (
            Image.objects.for_user(alice).search(text).order_by("-id").query.sql_with_params()
        )
        assert "gallery_image_fts" not in sql
        assert "gallery_image_fts" not in query_plan(sql, params)


@on_sqlite
def test_sqlite_sends_short_non_ascii_text_to_the_character_index(alice: User) -> None:
    for text in ["猫", "夕日", "قط"]:
        sql, params = Image.objects.for_user(alice).search(text).query.sql_with_params()
        assert "gallery_image_chars VIRTUAL TABLE" in query_plan(sql, params)
    for text in ["ox", "%", "、"]:  # ASCII, or no letter: the LIKE scan alone
        assert "gallery_image_chars" not in str(Image.objects.search(text).query)


@on_sqlite
def test_sqlite_keeps_the_index_triggers_through_every_migration() -> None:
    # Django rebuilds a SQLite table for most field changes, dropping its triggers with it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name = 'gallery_image' ORDER BY name"
        )
        triggers = [name for (name,) in cursor.fetchall()]
    assert triggers == [
        "gallery_image_chars_delete",
        "gallery_image_chars_insert",
        "gallery_image_chars_update",
        "gallery_image_fts_delete",
        "gallery_image_fts_insert",
        "gallery_image_fts_update",
    ]


@on_postgresql
@pytest.mark.parametrize("text", ["鶴", "夕日", "ox"])
def test_postgresql_serves_short_text_from_the_gram_indexes(text: str) -> None:
    images = Image.objects.search(text).order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few test rows: force the choice
        plan = images.explain()
    assert "image_prompt_grams" in plan
    assert "image_revised_prompt_grams" in plan


@on_postgresql
def test_postgresql_grams_are_every_one_and_two_characters() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT gallery_grams('夕日の海'), gallery_grams(''), gallery_grams('aa')")
        grams, empty, repeated = cursor.fetchone()
    assert sorted(grams) == sorted(["夕", "日", "の", "海", "夕日", "日の", "の海"])
    assert empty == []
    assert repeated == ["a", "aa"]


@on_postgresql
def test_postgresql_finds_trigrams_in_arabic_and_japanese() -> None:
    # Under a C locale pg_trgm sees no letters outside ASCII, and the index finds nothing useful.
    with connection.cursor() as cursor:
        cursor.execute("SELECT show_trgm('海辺の猫'), show_trgm('الشاطئ')")
        japanese, arabic = cursor.fetchone()
    assert japanese and arabic


@on_postgresql
@pytest.mark.parametrize("text", ["harbour", "海辺の猫", "الشاطئ"])
def test_postgresql_serves_icontains_from_the_trigram_indexes(text: str) -> None:
    images = Image.objects.search(text).order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few test rows: force the choice
        plan = images.explain()
    assert "image_prompt_trgm" in plan
    assert "image_revised_prompt_trgm" in plan
