"""Search as people type it (gallery.search.search_words, the gallery's `q`): words in any
order, "phrases", -exclusions, in English, Arabic and Japanese; and the gallery page around it:
the count, the sort, the chips, a filter's error. `make test` runs this file on both databases."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery import paging, search
from gallery.models import Image
from gallery.search import shared
from imagegen.models import Generation

pytestmark = pytest.mark.django_db
MakeImage = Callable[..., Image]


@pytest.fixture
def make(db) -> MakeImage:
    """A saved image row without files: search only reads the text."""

    def make(owner: User, prompt: str, revised_prompt: str = "", **fields: object) -> Image:
        generation = Generation.objects.create(
            owner=owner, model_name="dall-e-3", prompt=prompt, status="succeeded"
        )
        return Image.objects.create(
            owner=owner, generation=generation, index=0, file="originals/none.png",
            thumbnail="thumbnails/none.webp", width=1024, height=1024, thumbnail_width=512,
            thumbnail_height=512, format="png", bytes=1, sha256="0" * 64,
            model_name="dall-e-3", prompt=prompt, revised_prompt=revised_prompt,
            created_at=timezone.now(), **fields,
        )  # fmt: skip

    return make


@pytest.fixture(params=["index", "scan"])
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A term goes to an index when rare, to a LIKE scan when common: test both."""
    if request.param == "scan":
        monkeypatch.setattr(shared, "COMMON_HITS", 0)  # every term counts as common
    return request.param


def found(owner: User, text: str) -> list[str]:
    images = search.search_words(Image.objects.for_user(owner), text)
    return sorted(images.values_list("prompt", flat=True))


SOFA = "A ginger cat sitting on a red velvet sofa"
CUSHION = "a grey cat on a velvet cushion"
ARABIC = "قطة برتقالية على أريكة حمراء"  # an orange cat on a red sofa
ARABIC_DOG = "كلب على أريكة"  # a dog on a sofa
JAPANESE = "赤いソファの猫、夕日"
JAPANESE_DOG = "海辺の犬、夕日"


@pytest.fixture
def images(alice: User, bob: User, make: MakeImage) -> None:
    for prompt in (SOFA, CUSHION, ARABIC, ARABIC_DOG, JAPANESE, JAPANESE_DOG):
        make(alice, prompt)
    make(alice, "a robot", revised_prompt="A friendly robot waters tulips on a ginger sofa.")
    make(bob, SOFA)  # never anyone else's


@pytest.mark.usefixtures("images", "route")
class TestWords:
    @pytest.mark.parametrize("text", ["ginger sofa", "sofa ginger", "SOFA  Ginger", "gin sof"])
    def test_several_words_match_in_any_order(self, alice: User, text: str) -> None:
        assert found(alice, text) == [SOFA, "a robot"]

    def test_every_word_must_appear(self, alice: User) -> None:
        assert found(alice, "velvet cat") == [SOFA, CUSHION]
        assert found(alice, "velvet cat grey") == [CUSHION]
        assert found(alice, "velvet zeppelin") == []

    def test_words_may_come_from_the_prompt_and_the_revised_prompt(self, alice: User) -> None:
        assert found(alice, "robot tulips") == ["a robot"]

    def test_a_quoted_phrase_matches_as_written(self, alice: User) -> None:
        assert found(alice, '"red velvet sofa"') == [SOFA]
        assert found(alice, '"sofa velvet"') == []
        assert found(alice, '"velvet cushion" grey') == [CUSHION]

    def test_a_minus_excludes(self, alice: User) -> None:
        assert found(alice, "velvet -ginger") == [CUSHION]
        assert found(alice, "sofa -robot") == [SOFA]
        assert found(alice, 'cat -"red velvet"') == [CUSHION]

    def test_exclusions_alone_leave_everything_else(self, alice: User) -> None:
        assert found(alice, "-cat -ソファ -أريكة -夕日") == ["a robot"]

    def test_an_excluded_word_in_the_revised_prompt_excludes(self, alice: User) -> None:
        assert found(alice, "ginger -tulips") == [SOFA]

    def test_arabic_words_in_any_order_and_excluded(self, alice: User) -> None:
        assert found(alice, "حمراء قطة") == [ARABIC]
        assert found(alice, "أريكة") == sorted([ARABIC, ARABIC_DOG])
        assert found(alice, "أريكة -قطة") == [ARABIC_DOG]
        assert found(alice, '"على أريكة"') == sorted([ARABIC, ARABIC_DOG])

    def test_japanese_words_of_one_two_and_more_characters(self, alice: User) -> None:
        assert found(alice, "猫") == [JAPANESE]
        assert found(alice, "夕日") == sorted([JAPANESE, JAPANESE_DOG])
        assert found(alice, "夕日 犬") == [JAPANESE_DOG]
        assert found(alice, "犬\u3000夕日") == [JAPANESE_DOG]  # the full-width space
        assert found(alice, "夕日 -猫") == [JAPANESE_DOG]
        assert found(alice, "ソファ 猫") == [JAPANESE]
        assert found(alice, "赤いソファ -海辺") == [JAPANESE]

    def test_scripts_mix_in_one_search(self, alice: User, make: MakeImage) -> None:
        make(alice, "猫 and a ginger fox")
        assert found(alice, "ginger 猫") == ["猫 and a ginger fox"]
        assert found(alice, "ginger -猫") == [SOFA, "a robot"]

    def test_short_ascii_and_symbols_still_match(self, alice: User) -> None:
        assert found(alice, "ng so") == [SOFA, "a robot"]  # "ginger sofa" has both
        assert found(alice, '"g s"') == []

    def test_quotes_make_special_characters_literal(self, alice: User, make: MakeImage) -> None:
        make(alice, "a -5 degree night")
        assert found(alice, '"-5 degree"') == ["a -5 degree night"]
        assert "a -5 degree night" not in found(alice, "-5")


@pytest.mark.usefixtures("route")
def test_the_rarest_term_drives_and_others_check(alice: User, make: MakeImage) -> None:
    for n in range(30):
        make(alice, f"a common word, number {n}")
    make(alice, "a common word beside a rare zeppelin")
    make(alice, "a zeppelin alone")
    assert found(alice, "common zeppelin") == ["a common word beside a rare zeppelin"]
    assert found(alice, "zeppelin -common") == ["a zeppelin alone"]


# The gallery page around the search.


def listed(response) -> list[str]:
    return [image.prompt for image in response.context["images"]]


@pytest.mark.usefixtures("images")
def test_the_gallery_searches_words(alice_client: Client) -> None:
    response = alice_client.get(reverse("image_list"), {"q": "sofa ginger"})
    assert listed(response) == ["a robot", SOFA]
    assert response.context["count"].number == 2


def counted(client: Client, **params: object) -> tuple[int, str]:
    count = client.get(reverse("image_list"), params).context["count"]
    return count.number, count.kind


def test_the_count_is_exact_for_a_small_gallery_or_a_single_page(
    alice: User, alice_client: Client, make: MakeImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "COUNT_WINDOW", 10)
    for n in range(4):
        make(alice, f"fox {n}")
    assert counted(alice_client, q="fox") == (4, "exact")
    assert counted(alice_client, q="fox 3") == (1, "exact")
    html = alice_client.get(reverse("image_list"), {"q": "fox"}).content.decode()
    assert "4 images" in html
    assert "1 image<" in alice_client.get(reverse("image_list"), {"q": "fox 3"}).content.decode()
    # Not on the pages appended below: the count sits above the first.
    more = alice_client.get(reverse("image_list"), {"q": "fox", "before": 10**9})
    assert more.context["count"] is None


def test_a_common_match_is_estimated_from_the_newest_images(
    alice: User, alice_client: Client, make: MakeImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "COUNT_WINDOW", 4)
    monkeypatch.setattr(paging, "COUNT_SAMPLED", 2)
    for n in range(12):
        make(alice, f"fox {n}" if n % 2 else f"owl {n}")
    if connection.vendor == "postgresql":  # the size is the planner's estimate there
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE gallery_image")
    # The newest 4 hold 2 foxes: 2 in 4 of 12 images, about 6.
    assert counted(alice_client, q="fox") == (6, "about")
    assert (
        "About 6 images" in alice_client.get(reverse("image_list"), {"q": "fox"}).content.decode()
    )
    assert counted(alice_client) == (12, "about")


def test_a_rare_match_is_counted_exactly_up_to_a_bound(
    alice: User, alice_client: Client, make: MakeImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "COUNT_WINDOW", 4)
    monkeypatch.setattr(paging, "COUNT_BOUND", 3)
    for n in range(3):
        make(alice, f"owl {n}")
    for n in range(6):
        make(alice, f"fox {n}")
    # None of the newest four is an owl: too thin to scale, so counted.
    assert counted(alice_client, q="owl") == (3, "exact")
    make(alice, "owl 3")
    for n in range(4):
        make(alice, f"fox again {n}")
    assert counted(alice_client, q="owl") == (3, "more")
    html = alice_client.get(reverse("image_list"), {"q": "owl"}).content.decode()
    assert "More than 3 images" in html


def test_a_count_that_fits_one_page_needs_no_counting(
    alice: User, alice_client: Client, make: MakeImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(alice, "fox")

    def no_counting(*args: object) -> None:
        raise AssertionError("counted")

    monkeypatch.setattr("gallery.views.count_of", no_counting)
    assert alice_client.get(reverse("image_list"), {"q": "fox"}).context["count"].number == 1


@pytest.mark.usefixtures("route")
def test_the_sort_orders_newest_or_oldest_with_keyset_pages(
    alice: User, alice_client: Client, make: MakeImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    for n in range(5):
        make(alice, f"owl {n}")
    make(alice, "a cat")
    url = reverse("image_list")
    newest = alice_client.get(url, {"q": "owl"})
    assert listed(newest) == ["owl 4", "owl 3"]
    oldest = alice_client.get(url, {"q": "owl", "sort": "oldest"})
    assert listed(oldest) == ["owl 0", "owl 1"]
    assert oldest.context["count"].number == 5
    page = alice_client.get(
        url, {"q": "owl", "sort": "oldest", "before": oldest.context["next_before"]}
    )
    assert listed(page) == ["owl 2", "owl 3"]
    html = oldest.content.decode()
    assert f"sort=oldest&amp;before={oldest.context['next_before']}" in html
    everything = alice_client.get(url, {"sort": "oldest"})
    assert listed(everything) == ["owl 0", "owl 1"]
    assert not everything.context["filters"].is_filtered  # an order is not a filter


def test_an_unknown_sort_is_an_error_not_a_failure(
    alice: User, alice_client: Client, make: MakeImage
) -> None:
    make(alice, "owl")
    response = alice_client.get(reverse("image_list"), {"sort": "rating'; --"})
    assert response.status_code == 200
    assert listed(response) == ["owl"]
    assert 'class="filter-errors"' in response.content.decode()


def test_the_filters_in_use_are_chips_that_each_remove_one(
    alice: User, alice_client: Client, make: MakeImage
) -> None:
    make(alice, "owl", favourite=True)
    params = {"q": "owl -cat", "favourites": "on", "sort": "oldest", "model": "dall-e-3"}
    response = alice_client.get(reverse("image_list"), params)
    chips = {chip.label: chip for chip in response.context["filters"].chips()}
    assert set(chips) == {"Search prompts", "Favourites only", "Sort", "Model"}
    assert chips["Search prompts"].value == "owl -cat"
    assert chips["Sort"].value == "Oldest first"
    assert chips["Favourites only"].value == ""
    assert chips["Favourites only"].without == "q=owl+-cat&sort=oldest&model=dall-e-3"
    html = response.content.decode()
    for chip in chips.values():
        assert f'href="?{chip.without.replace("&", "&amp;")}"' in html
    again = alice_client.get(reverse("image_list") + "?" + chips["Search prompts"].without)
    assert "q" not in again.context["filters"].data


def test_no_chips_without_filters(alice: User, alice_client: Client, make: MakeImage) -> None:
    make(alice, "owl")
    response = alice_client.get(reverse("image_list"), {"before": "", "q": ""})
    assert response.context["filters"].chips() == []
    assert "filter-chips" not in response.content.decode()


def test_a_filter_error_is_shown_near_the_search_and_opens_the_panel(
    alice: User, alice_client: Client, make: MakeImage
) -> None:
    make(alice, "owl")
    response = alice_client.get(reverse("image_list"), {"q": "owl", "size": "huge"})
    html = response.content.decode()
    assert listed(response) == ["owl"]  # the bad filter is left out, the search still runs
    assert 'class="filter-errors" role="alert"' in html
    assert 'href="#id_size"' in html
    assert '<details class="filter-more" open>' in html
    # htmx swaps only the grid: the message comes with it.
    swapped = alice_client.get(
        reverse("image_list"),
        {"q": "owl", "size": "huge"},
        headers={"HX-Request": "true", "HX-Target": "gallery"},
    )
    assert 'class="filter-errors"' in swapped.content.decode()


def test_without_errors_or_filters_the_panel_stays_closed(
    alice: User, alice_client: Client
) -> None:
    html = alice_client.get(reverse("image_list"), {"sort": "oldest"}).content.decode()
    assert '<details class="filter-more">' in html
    assert "filter-errors" not in html


def test_the_collection_page_searches_words_too(
    alice: User, alice_client: Client, make: MakeImage
) -> None:
    from gallery.models import Collection

    collection = Collection.objects.create(owner=alice, name="Cats")
    inside = make(alice, SOFA)
    make(alice, "a ginger sofa outside")
    collection.images.add(inside)
    url = reverse("collection_detail", args=[collection.uuid])
    response = alice_client.get(url, {"q": "sofa ginger"})
    assert listed(response) == [SOFA]
    assert response.context["count"].number == 1


def test_a_search_alone_leaves_the_panel_shut_and_a_panel_filter_opens_it(
    alice: User, alice_client: Client
) -> None:
    html = alice_client.get(reverse("image_list"), {"q": "owl"}).content.decode()
    assert '<details class="filter-more">' in html  # the chip says what is searched
    html = alice_client.get(reverse("image_list"), {"q": "owl", "format": "png"}).content.decode()
    assert '<details class="filter-more" open>' in html
