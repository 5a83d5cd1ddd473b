"""What things cost: the price of each shipped model for its parameter combinations, the actual
cost from recorded `usage` bodies, the ledger a real job leaves (offline provider), prices kept
current by the catalogue sync and never over an administrator's, and the estimate partial."""

import copy
import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from gallery.models import Image
from imagegen.catalogue import SHIPPED_MODELS, shipped_model
from imagegen.catalogue.sync import sync_models
from imagegen.costs.catalogue_prices import rule_from_catalogue
from imagegen.costs.money import format_money, price_summary
from imagegen.costs.rules import actual_cost, estimate_cost, price_errors
from imagegen.models import Generation, ImageModel
from imagegen.tasks import run_generation

M = Decimal(1_000_000)


def rule(name: str) -> dict[str, Any]:
    return shipped_model(name)["price"]


def tokens(text_in: int, image_in: int, image_out: int, rates: tuple[str, str, str]) -> Decimal:
    text, image, out = (Decimal(rate) for rate in rates)
    return ((text_in * text + image_in * image + image_out * out) / M).quantize(Decimal("1e-6"))


PROMPT = "a lighthouse on a cliff at dusk, oil pai"  # 40 characters: 10 text tokens
# (model, parameters, input images, expected amount, approximate)
PRICES: list[tuple[str, dict[str, Any], int, Decimal, bool]] = [
    ("dall-e-3", {"size": "1024x1024", "quality": "standard"}, 0, Decimal("0.04"), False),
    ("dall-e-3", {"size": "1792x1024", "quality": "standard"}, 0, Decimal("0.08"), False),
    ("dall-e-3", {"size": "1024x1024", "quality": "hd"}, 0, Decimal("0.08"), False),
    ("dall-e-3", {"size": "1024x1792", "quality": "hd"}, 0, Decimal("0.12"), False),
    ("dall-e-2", {"size": "256x256", "n": 3}, 0, Decimal("0.048"), False),
    ("dall-e-2", {"size": "512x512"}, 0, Decimal("0.018"), False),
    ("dall-e-2", {"size": "1024x1024", "n": 10}, 0, Decimal("0.2"), False),
    # GPT Image 2: $4 in, $24 out per million; 272 tokens a low 1024x1024 image.
    ("gpt-image-2", {"size": "1024x1024", "quality": "low"}, 0,
     tokens(10, 0, 272, ("4", "4", "24")), True),
    ("gpt-image-2", {"size": "1024x1536", "quality": "high", "n": 4}, 0,
     tokens(10, 0, 4 * 6240, ("4", "4", "24")), True),
    # "auto" quality and size: the most the model may choose (high, 1536x1024).
    ("gpt-image-2", {"size": "auto", "quality": "auto"}, 0,
     tokens(10, 0, 6240, ("4", "4", "24")), True),
    ("gpt-image-2", {"size": "2048x1152", "quality": "medium"}, 0,
     tokens(10, 0, 2376, ("4", "4", "24")), True),
    # 2.5 and 2.6: $5 text in, $8 image in, $30 image out; an input image counts 765 tokens.
    ("gpt-image-2.5-flare", {"size": "1024x1024", "quality": "xhigh"}, 0,
     tokens(10, 0, 8320, ("5", "8", "30")), True),
    ("gpt-image-2.5-sunburst", {"size": "1024x1024", "quality": "max", "n": 2}, 0,
     tokens(10, 0, 2 * 16640, ("5", "8", "30")), True),
    ("gpt-image-2.6-flare", {"size": "1024x1024", "quality": "medium"}, 2,
     tokens(10, 1530, 1056, ("5", "8", "30")), True),
    ("gpt-image-2.6-sunburst", {"size": "1536x1024", "quality": "low", "n": 3}, 1,
     tokens(10, 765, 3 * 408, ("5", "8", "30")), True),
    ("gpt-image-1", {"size": "1024x1024", "quality": "high"}, 0,
     tokens(10, 0, 4160, ("5", "10", "40")), True),
    # Priced per 1024x1024 image by quality, more with the area.
    ("gpt-image-1.5", {"size": "1024x1024", "quality": "low"}, 0, Decimal("0.009"), False),
    ("gpt-image-1.5", {"size": "1024x1536", "quality": "medium"}, 0, Decimal("0.051"), False),
    ("gpt-image-1.5", {"size": "auto", "quality": "auto"}, 0, Decimal("0.1995"), True),
    ("gpt-image-1-mini", {"size": "1536x1024", "quality": "high", "n": 2}, 0,
     Decimal("0.108"), False),
    ("gpt-image-1-mini", {"size": "1024x1024", "quality": "medium"}, 0, Decimal("0.011"), False),
    # Seedream and Qwen: one price an image, whatever its size.
    ("doubao-seedream-5-0-260128", {"size": "4K", "n": 4}, 0, Decimal("0.16"), False),
    ("doubao-seedream-5-0-260128", {"size": "1280x720"}, 3, Decimal("0.04"), False),
    ("doubao-seedream-4-5-251128", {"size": "2K", "n": 2}, 0, Decimal("0.06"), False),
    ("qwen-image", {"size": "1328x1328"}, 0, Decimal("0.02"), False),
]  # fmt: skip


@pytest.mark.parametrize(("name", "parameters", "inputs", "amount", "approximate"), PRICES)
def test_each_shipped_model_is_priced_for_its_parameters(
    name: str, parameters: dict[str, Any], inputs: int, amount: Decimal, approximate: bool
) -> None:
    estimate = estimate_cost(rule(name), parameters, PROMPT, inputs)
    assert estimate is not None
    assert (estimate.amount, estimate.currency, estimate.approximate) == (
        amount.quantize(Decimal("1e-6")),
        "USD",
        approximate,
    )


def test_every_shipped_model_has_a_valid_price_and_its_source() -> None:
    assert {name for name, *_ in PRICES} == {values["name"] for values in SHIPPED_MODELS}
    for values in SHIPPED_MODELS:
        assert price_errors(values["price"]) == [], values["name"]
        assert values["price_note"], values["name"]


def test_the_catalogue_rows_carry_the_shipped_prices(db: None) -> None:
    for values in SHIPPED_MODELS:
        row = ImageModel.objects.get(name=values["name"])
        assert row.price == values["price"]
        assert row.price_source == ImageModel.PriceSource.SHIPPED
        assert row.price_updated_at is not None


# Usage bodies as the upstream records them (api.md §1): GPT image models and Seedream.
GPT_USAGE = {
    "input_tokens": 1560,
    "input_tokens_details": {"text_tokens": 30, "image_tokens": 1530},
    "output_tokens": 4160,
    "total_tokens": 5720,
}
GPT_USAGE_SPLIT_OUTPUT = GPT_USAGE | {
    "output_tokens": 4200,
    "output_tokens_details": {"image_tokens": 4160, "text_tokens": 40},
}
SEEDREAM_USAGE = {"generated_images": 3, "output_tokens": 48672, "total_tokens": 48672}


def test_actual_cost_comes_from_the_tokens_the_upstream_counted() -> None:
    cost = actual_cost(rule("gpt-image-2.6-flare"), {"n": 1}, usage=GPT_USAGE, images_returned=1)
    assert cost is not None and cost.basis == "usage"
    assert cost.amount == tokens(30, 1530, 4160, ("5", "8", "30"))
    # Text tokens in the output are priced as output (no text_output price in the rule).
    split = actual_cost(
        rule("gpt-image-2.6-flare"), {}, usage=GPT_USAGE_SPLIT_OUTPUT, images_returned=1
    )
    assert split is not None
    assert split.amount == tokens(30, 1530, 4200, ("5", "8", "30"))
    # With no split of the input, all of it is text.
    bare = {"input_tokens": 12, "output_tokens": 272, "total_tokens": 284}
    plain = actual_cost(rule("gpt-image-2"), {}, usage=bare, images_returned=1)
    assert plain is not None and plain.amount == tokens(12, 0, 272, ("4", "4", "24"))


def test_a_per_image_model_is_billed_for_the_images_it_made() -> None:
    seedream = rule("doubao-seedream-5-0-260128")
    counted = actual_cost(seedream, {"n": 4}, usage=SEEDREAM_USAGE, images_returned=2)
    assert counted is not None
    assert (counted.amount, counted.basis) == (Decimal("0.12"), "price")  # generated_images: 3
    returned = actual_cost(seedream, {"n": 4}, usage=None, images_returned=2)
    assert returned is not None and returned.amount == Decimal("0.08")
    dalle = actual_cost(
        rule("dall-e-3"), {"size": "1792x1024", "quality": "hd"}, usage=None, images_returned=1
    )
    assert dalle is not None and dalle.amount == Decimal("0.12")


def test_a_token_priced_model_without_usage_falls_back_to_the_estimate_per_image() -> None:
    parameters = {"size": "1024x1024", "quality": "low", "n": 3}
    cost = actual_cost(rule("gpt-image-2"), parameters, usage={}, images_returned=2)
    assert cost is not None and cost.basis == "price"
    assert cost.amount == tokens(0, 0, 2 * 272, ("4", "4", "24"))


def test_no_price_means_no_estimate_and_no_cost() -> None:
    assert estimate_cost({}, {"n": 2}, "x", 0) is None
    assert actual_cost({}, {}, usage=GPT_USAGE, images_returned=1) is None


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ([], "JSON object"),
        ({"per_image": "0.04"}, "currency"),
        ({"currency": "USD"}, "either per_image"),
        ({"currency": "USD", "per_image": "0.04", "per_million_tokens": {}}, "either"),
        ({"currency": "USD", "per_image": "-1"}, "per_image"),
        ({"currency": "USD", "per_image": "cheap"}, "per_image"),
        ({"currency": "USD", "per_image": True}, "per_image"),
        ({"currency": "USD", "per_image": "0.04", "cases": [{"when": {}}]}, "cases[1]"),
        ({"currency": "USD", "per_image": "0.04", "per_pixels": 0}, "per_pixels"),
        ({"currency": "USD", "per_million_tokens": {"video": "1"}}, "video"),
        ({"currency": "USD", "per_million_tokens": {"text_input": "NaN"}}, "text_input"),
        (
            {"currency": "USD", "per_million_tokens": {"text_input": "1"},
             "output_tokens": {"low": -3}},
            "output_tokens",
        ),
    ],
)  # fmt: skip
def test_a_bad_price_rule_is_refused_with_where(bad: Any, words: str) -> None:
    errors = price_errors(bad)
    assert errors and any(words in error for error in errors), errors


def test_amounts_read_as_people_read_them() -> None:
    assert format_money(Decimal("0.034"), "USD") == "$0.034"
    assert format_money(Decimal("12.5"), "USD") == "$12.50"
    assert format_money(Decimal("0"), "USD") == "$0.00"
    assert format_money(Decimal("0.0004"), "USD") == "less than $0.001"
    assert format_money(Decimal("3"), "CHF") == "3.00\N{NO-BREAK SPACE}CHF"
    assert price_summary(rule("dall-e-3")) == "$0.04\N{EN DASH}$0.12 per image"
    assert "per million tokens" in price_summary(rule("gpt-image-2"))


# The ledger a real job leaves (the offline provider answers as the upstream does).


def test_a_gpt_job_costs_what_its_usage_says_and_each_image_carries_its_share(
    alice: User,
) -> None:
    job = Generation.objects.create(
        owner=alice, model_name="gpt-image-2", prompt="a kite over dunes",
        parameters={"n": 3, "size": "1024x1024", "quality": "low", "output_format": "png"},
    )  # fmt: skip
    assert run_generation.call(str(job.pk)) == "succeeded"
    job.refresh_from_db()
    usage = job.usage
    expected = actual_cost(rule("gpt-image-2"), job.parameters, usage=usage, images_returned=3)
    assert expected is not None and expected.amount > 0
    assert (job.cost, job.cost_currency, job.cost_basis, job.images_returned) == (
        expected.amount, "USD", "usage", 3,
    )  # fmt: skip
    shares = set(Image.objects.filter(generation=job).values_list("cost", "cost_currency"))
    assert shares == {((expected.amount / 3).quantize(Decimal("1e-6")), "USD")}


def test_a_per_image_job_costs_its_price(alice: User) -> None:
    job = Generation.objects.create(
        owner=alice, model_name="qwen-image", prompt="a lantern",
        parameters={"n": 1, "size": "1328x1328"},
    )  # fmt: skip
    run_generation.call(str(job.pk))
    job.refresh_from_db()
    assert (job.cost, job.cost_basis) == (Decimal("0.02"), "price")


@pytest.mark.parametrize("fault", ["moderation_blocked", "server_error", "unauthorized"])
def test_a_job_the_upstream_refused_is_not_billed(alice: User, fault: str) -> None:
    job = Generation.objects.create(
        owner=alice, model_name="qwen-image", prompt=f"[fault:{fault}] a lantern",
        parameters={"n": 1, "size": "1328x1328"},
    )  # fmt: skip
    assert run_generation.call(str(job.pk)) == "failed"
    job.refresh_from_db()
    assert (job.cost, job.cost_basis, job.images_returned) == (Decimal(0), "not_billed", 0)


def test_a_job_whose_images_could_not_be_kept_was_still_billed(alice: User) -> None:
    job = Generation.objects.create(
        owner=alice, model_name="qwen-image", prompt="[fault:not_an_image] a lantern",
        parameters={"n": 1, "size": "1328x1328"},
    )  # fmt: skip
    assert run_generation.call(str(job.pk)) == "failed"
    job.refresh_from_db()
    assert (job.cost, job.cost_basis, job.images_returned) == (Decimal("0.02"), "price", 1)


def test_a_job_keeps_its_estimate_from_submit(alice_client: Client) -> None:
    response = alice_client.post(
        "/generate/",
        {"model": "doubao-seedream-5-0-260128", "prompt": "dunes", "n": "2", "size": "2K",
         "response_format": "b64_json", "watermark": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    job = Generation.objects.get()
    assert (job.estimated_cost, job.cost_currency) == (Decimal("0.08"), "USD")


# Prices kept current by the catalogue sync, never over an administrator's.


def test_the_catalogue_sync_updates_prices_but_never_an_administrators(db: None) -> None:
    seedream = ImageModel.objects.get(name="doubao-seedream-4-5-251128")
    seedream.price = {"currency": "USD", "per_image": "0.02"}
    seedream.save()  # an older price, as shipped in an earlier release
    mine = ImageModel.objects.get(name="qwen-image")
    mine.price = {"currency": "USD", "per_image": "0.5"}
    mine.price_source = ImageModel.PriceSource.ADMIN
    mine.save()
    report = sync_models()
    assert "doubao-seedream-4-5-251128" in report.repriced
    seedream.refresh_from_db()
    assert seedream.price == {"currency": "USD", "per_image": "0.03"}  # the offline catalogue's
    assert seedream.price_source == ImageModel.PriceSource.CATALOGUE
    assert seedream.price_updated_at is not None
    mine.refresh_from_db()
    assert (mine.price, mine.price_source) == (
        {"currency": "USD", "per_image": "0.5"}, ImageModel.PriceSource.ADMIN,
    )  # fmt: skip
    # A token-priced model keeps its own split of input prices and its token counts.
    flare = ImageModel.objects.get(name="gpt-image-2.5-flare")
    assert flare.price["per_million_tokens"] == {
        "text_input": "5", "image_input": "8", "image_output": "30",
    }  # fmt: skip
    assert flare.price["output_tokens"]["xhigh"] == 8320


def test_a_catalogue_price_moves_every_case_of_a_per_image_rule_by_the_same_ratio() -> None:
    dalle = rule("dall-e-3")
    moved = rule_from_catalogue(dalle, {"currency": "USD", "per_request": 0.02})
    assert moved["per_image"] == "0.02"
    assert [case["per_image"] for case in moved["cases"]] == ["0.06", "0.04", "0.04"]
    assert rule_from_catalogue(dalle, {"per_request": None, "input": "x"}) == dalle
    assert rule_from_catalogue({}, {"currency": "usd", "input": 2, "output": 8})[
        "per_million_tokens"
    ] == {"image_output": "8", "text_input": "2", "image_input": "2"}


# The estimate partial, for each shipped model that takes new jobs.


def offered_names() -> list[str]:
    return [model.name for model in ImageModel.objects.for_new_jobs()]


def form_values(client: Client, model: str) -> dict[str, Any]:
    """What the generate page's form sends for `model` as drawn (its defaults)."""
    page = client.get("/generate/", {"model": model}).content.decode()
    values: dict[str, Any] = {}
    for tag in re.findall(r"<(?:input|select)\b[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name[1] in ("csrfmiddlewaretoken", "compare_with", "reference"):
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind[1] in ("radio", "checkbox") and "checked" not in tag:
            continue
        if tag.startswith("<select"):
            continue
        values[name[1]] = value[1] if value else ""
    for select, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        values[select] = chosen[1] if chosen else re.search(r'value="([^"]*)"', body)[1]
    return values


def test_the_estimate_partial_prices_the_form_for_every_offered_model(
    alice_client: Client,
) -> None:
    names = offered_names()
    assert len(names) >= 6
    for name in names:
        values = form_values(alice_client, name) | {"model": name, "prompt": "a small red kite"}
        response = alice_client.post("/generate/estimate/", values)
        page = response.content.decode()
        shown = re.search(r"<strong data-estimate>([^<]+)</strong>", page)
        assert shown, (name, page)
        model = ImageModel.objects.get(name=name)
        expected = estimate_cost(model.price, {**values, "n": values.get("n", 1)}, "", 0)
        assert expected is not None
        assert format_money(expected.amount, "USD") in shown[1], (name, shown[1])
        assert shown[1].startswith("about ") == expected.approximate
        assert "This month" not in page and "Today" not in page  # no cap: nothing to count


def test_the_estimate_of_a_comparison_shows_each_model_and_the_total(
    alice_client: Client,
) -> None:
    values = form_values(alice_client, "doubao-seedream-5-0-260128") | {
        "model": "doubao-seedream-5-0-260128", "prompt": "", "n": "3",
        "compare_with": ["qwen-image"],
    }  # fmt: skip
    page = alice_client.post("/generate/estimate/", values).content.decode()
    assert "Seedream 5.0" in page and "Qwen Image" in page
    total = re.search(r"<strong data-estimate-total>([^<]+)</strong>", page)
    assert total and total[1] == "$0.14"  # 3 x $0.04 + 1 x $0.02


def test_an_invalid_form_gets_no_estimate_but_a_word_why(alice_client: Client) -> None:
    values = form_values(alice_client, "gpt-image-2") | {"model": "gpt-image-2", "n": "99"}
    page = alice_client.post("/generate/estimate/", values).content.decode()
    assert "appears once the options are valid" in page
    assert "data-estimate" not in page


def test_the_estimate_is_for_signed_in_people_and_posts_only(
    client: Client, alice_client: Client
) -> None:
    assert client.post("/generate/estimate/", {}).status_code == 302  # to sign in
    assert alice_client.get("/generate/estimate/").status_code == 405


def test_an_edit_is_estimated_with_its_input_image(
    alice_client: Client, alice: User, bob: User, make_image: Any
) -> None:
    image = make_image(alice)
    values = form_values(alice_client, "gpt-image-2")
    values |= {"model": "gpt-image-2", "prompt": "make it night"}
    values.pop("moderation", None)
    page = alice_client.post(f"/images/{image.uuid}/edit/estimate/", values).content.decode()
    shown = re.search(r"<strong data-estimate>([^<]+)</strong>", page)
    assert shown, page
    expected = estimate_cost(rule("gpt-image-2"), values, "make it night", 1)
    assert expected is not None and format_money(expected.amount, "USD") in shown[1]
    someone_elses = make_image(bob)
    url = f"/images/{someone_elses.uuid}/edit/estimate/"
    assert alice_client.post(url, copy.deepcopy(values)).status_code == 404


def test_a_seedream_job_is_billed_for_the_images_its_usage_counts(alice: User) -> None:
    job = Generation.objects.create(
        owner=alice, model_name="doubao-seedream-5-0-260128", prompt="dunes at noon",
        parameters={"n": 2, "size": "1280x720", "response_format": "b64_json",
                    "watermark": False},
    )  # fmt: skip
    assert run_generation.call(str(job.pk)) == "succeeded"
    job.refresh_from_db()
    assert job.usage == {
        "generated_images": 2, "output_tokens": 7200, "total_tokens": 7200,
    }  # fmt: skip
    assert (job.cost, job.cost_basis, job.images_returned) == (Decimal("0.08"), "price", 2)


def test_an_automatic_quality_or_size_is_an_estimate_at_most(alice_client: Client) -> None:
    def at_most(name: str, **parameters: Any) -> bool:
        estimate = estimate_cost(rule(name), parameters, "x", 0)
        assert estimate is not None
        return estimate.at_most

    assert at_most("gpt-image-2", size="auto", quality="low")
    assert at_most("gpt-image-2", size="1024x1024", quality="auto")
    assert not at_most("gpt-image-2", size="1024x1024", quality="low")
    assert at_most("gpt-image-1.5", size="1024x1024", quality="auto")
    assert not at_most("gpt-image-1.5", size="1024x1024", quality="high")
    assert not at_most("dall-e-3", size="1024x1024", quality="standard")
    values = form_values(alice_client, "gpt-image-2") | {"model": "gpt-image-2", "prompt": "x"}
    automatic = alice_client.post("/generate/estimate/", values | {"quality": "auto"})
    assert "counted at the most the model may choose" in automatic.content.decode()
    chosen = alice_client.post(
        "/generate/estimate/", values | {"quality": "low", "size": "1024x1024"}
    )
    assert "counted at the most" not in chosen.content.decode()
