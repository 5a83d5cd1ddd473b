"""The gallery by cost (issue 13): "Cost from/to" (validated, with chips) and "Most expensive
first", a keyset on (cost, id) over the images that have a cost, served by the partial index
image_owner_kept_cost on both databases."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from gallery.filters import GalleryFilters
from gallery.models import Image
from gallery.paging import neighbours, page_of

pytestmark = pytest.mark.django_db

URL = reverse("image_list")


@pytest.fixture
def priced(alice: User, make_image) -> list[Image]:
    """Five of Alice's images: four priced (0.02, 0.04, 0.04, 0.17) and an upload-like one
    without a cost."""
    images = [make_image(alice, prompt=f"a lighthouse, take {n}") for n in range(5)]
    for image, cost in zip(images, ["0.02", "0.04", "0.04", "0.17", None], strict=True):
        image.cost = None if cost is None else Decimal(cost)
        image.cost_currency = "USD" if cost else ""
        image.save(update_fields=["cost", "cost_currency"])
    return images


def shown(response) -> list:
    return [image.uuid for image in response.context["images"]]


def test_cost_from_and_to_narrow_the_grid_and_show_as_chips(
    alice_client: Client, priced: list[Image]
) -> None:
    response = alice_client.get(URL, {"cost_from": "0.03", "cost_to": "0.05"})
    assert shown(response) == [priced[2].uuid, priced[1].uuid]
    chips = {chip.label: chip.value for chip in response.context["filters"].chips()}
    assert chips == {"Cost from": "0.03", "Cost to": "0.05"}
    assert response.context["filters"].is_filtered
    everything = shown(alice_client.get(URL, {"cost_from": "0"}))
    assert set(everything) == {image.uuid for image in priced[:4]}  # no cost: left out


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"cost_from": "cheap"}, "cost_from", "Write an amount as a number, e.g. 0.04."),
        ({"cost_from": "-1"}, "cost_from", "An amount cannot be below 0."),
        ({"cost_to": "0.0000001"}, "cost_to", "Write at most 6 decimal places."),
        ({"cost_to": "9" * 30}, "cost_to", "That amount is too large."),
        ({"cost_to": "NaN"}, "cost_to", "Write an amount as a number, e.g. 0.04."),
        ({"cost_from": "0.5", "cost_to": "0.1"}, "cost_to", "must not be below"),
    ],
)
def test_a_bad_amount_is_explained_and_ignored(
    alice_client: Client, priced: list[Image], query: dict, field: str, message: str
) -> None:
    response = alice_client.get(URL, query)
    assert response.status_code == 200
    filters = response.context["filters"]
    assert any(message in error for error in filters.errors[field])
    assert message in response.content.decode()
    assert filters[field].label not in {chip.label for chip in filters.chips()}


def test_most_expensive_first_leaves_out_images_without_a_cost(
    alice_client: Client, priced: list[Image]
) -> None:
    response = alice_client.get(URL, {"sort": "cost"})
    assert shown(response) == [priced[3].uuid, priced[2].uuid, priced[1].uuid, priced[0].uuid]


def test_most_expensive_first_pages_by_a_cost_and_id_cursor(
    alice_client: Client, priced: list[Image]
) -> None:
    after_tie = alice_client.get(URL, {"sort": "cost", "before": f"0.040000.{priced[2].pk}"})
    assert shown(after_tie) == [priced[1].uuid, priced[0].uuid]
    after_dearest = alice_client.get(URL, {"sort": "cost", "before": f"0.17.{priced[3].pk}"})
    assert shown(after_dearest) == [priced[2].uuid, priced[1].uuid, priced[0].uuid]
    for junk in ["0.04.", "x.1", "-1.2", "1e9.3", "0.0400001.5", "\u0661.2"]:
        response = alice_client.get(URL, {"sort": "cost", "before": junk})
        assert response.status_code == 200
        assert len(shown(response)) == 4  # not a cursor: the first page


def test_the_cursor_of_a_full_page_is_the_last_cost_and_id(
    alice: User, priced: list[Image], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gallery.paging.PAGE_SIZE", 2)
    page, cursor = page_of(Image.objects.for_user(alice), None, "cost")
    assert [image.id for image in page] == [priced[3].id, priced[2].id]
    assert cursor == f"0.040000.{priced[2].id}"
    page, cursor = page_of(Image.objects.for_user(alice), cursor, "cost")
    assert [image.id for image in page] == [priced[1].id, priced[0].id] and cursor is None


def test_the_image_page_steps_through_the_most_expensive_first(
    alice: User, priced: list[Image]
) -> None:
    mine = Image.objects.for_user(alice)
    assert neighbours(mine, priced[3], "cost") == (None, priced[2])
    assert neighbours(mine, priced[2], "cost") == (priced[3], priced[1])
    assert neighbours(mine, priced[0], "cost") == (priced[1], None)
    assert neighbours(mine, priced[4], "cost") == (None, priced[3])  # no cost: newest first


def test_the_filter_panel_draws_the_cost_fields(alice_client: Client) -> None:
    page = alice_client.get(URL).content.decode()
    assert 'name="cost_from"' in page and 'name="cost_to"' in page
    assert '<option value="cost">Most expensive first</option>' in page


def test_most_expensive_first_is_served_by_the_cost_index(alice: User, priced) -> None:
    filters = GalleryFilters({"sort": "cost", "versions": "all"}, user=alice)
    images = filters.apply(Image.objects.for_user(alice)).filter(cost__isnull=False)
    query = images.order_by("-cost", "-id").values_list("id")[:61]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a few test rows: force the choice
            plan = query.explain()
    else:
        plan = query.explain()
    assert "image_owner_kept_cost" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan.split("\n")[0], plan
