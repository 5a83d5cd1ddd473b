"""imagegen migration 0010 and gallery migration 0013 (what things cost), from the state before
them with real rows: shipped models get their prices and keep every edit an administrator made;
a model of the administrator's own stays unpriced; jobs already run get what they cost (from
their usage, or the price; not billed when the upstream made nothing) and their images a
share; and back again, everything as it was."""

from decimal import Decimal
from typing import Any

import pytest

from imagegen.costs.rules import actual_cost
from tests.migration_steps import migrate, migrate_to_latest
from tests.test_gallery_migration_0007 import (
    image_row,
)

# Each test ends by emptying every table: the shipped models are put back after the module.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shipped_models")]

BEFORE = [("imagegen", "0009_people_time_zones"), ("gallery", "0012_smart_collections")]
AFTER = [("imagegen", "0010_costs_budgets_and_keys"), ("gallery", "0013_image_costs")]
USAGE = {
    "input_tokens": 20,
    "input_tokens_details": {"text_tokens": 20, "image_tokens": 0},
    "output_tokens": 1056,
    "total_tokens": 1076,
}


@pytest.fixture
def old_apps() -> Any:
    apps = migrate(BEFORE)
    yield apps
    migrate_to_latest()


def test_prices_arrive_and_past_jobs_get_their_costs(old_apps: Any) -> None:
    ImageModel = old_apps.get_model("imagegen", "ImageModel")
    # An administrator's edits before the migration: a label, a disabled model, a house model.
    ImageModel.objects.filter(name="qwen-image").update(label="Qwen (house)", enabled=False)
    ImageModel.objects.create(
        name="house-model", label="House", family="other", schema={"parameters": [], "rules": []}
    )
    frank = old_apps.get_model("auth", "User").objects.create(username="frank")
    Generation = old_apps.get_model("imagegen", "Generation")
    gpt = Generation.objects.create(
        owner=frank, model_name="gpt-image-2", prompt="a fox", status="succeeded", usage=USAGE,
        parameters={"n": 2, "size": "1024x1024", "quality": "medium"},
    )  # fmt: skip
    refused = Generation.objects.create(
        owner=frank, model_name="qwen-image", prompt="x", status="failed", parameters={"n": 1},
        error_code="moderation_blocked",
    )  # fmt: skip
    unsaved = Generation.objects.create(
        owner=frank, model_name="qwen-image", prompt="y", status="failed", parameters={"n": 1},
        images_failed=1, error_code="not_an_image",
    )  # fmt: skip
    house = Generation.objects.create(
        owner=frank, model_name="house-model", prompt="z", status="succeeded", parameters={"n": 1}
    )
    waiting = Generation.objects.create(
        owner=frank, model_name="qwen-image", prompt="w", status="queued", parameters={"n": 1}
    )
    dalle_image = image_row(old_apps, frank, "a harbour")  # dall-e-3, succeeded, n=1
    Image = old_apps.get_model("gallery", "Image")
    gpt_images = []
    for index in range(2):
        image = image_row(old_apps, frank, f"a fox {index}")
        Image.objects.filter(pk=image.pk).update(generation=gpt, index=index)
        gpt_images.append(image.pk)

    new_apps = migrate(AFTER)
    Model = new_apps.get_model("imagegen", "ImageModel")
    qwen = Model.objects.get(name="qwen-image")
    assert (qwen.label, qwen.enabled) == ("Qwen (house)", False)  # the edits kept
    assert qwen.price == {"currency": "USD", "per_image": "0.02"}
    assert (qwen.price_source, qwen.price_updated_at is not None) == ("shipped", True)
    assert Model.objects.get(name="house-model").price == {}
    Job = new_apps.get_model("imagegen", "Generation")
    gpt_rule = Model.objects.get(name="gpt-image-2").price
    expected = actual_cost(gpt_rule, gpt.parameters, usage=USAGE, images_returned=2)
    assert expected is not None
    assert Job.objects.filter(pk=gpt.pk).values_list(
        "cost", "cost_basis", "images_returned", "cost_currency"
    ).get() == (expected.amount, "usage", 2, "USD")
    assert Job.objects.filter(pk=refused.pk).values_list("cost", "cost_basis").get() == (
        Decimal(0), "not_billed",
    )  # fmt: skip
    assert Job.objects.filter(pk=unsaved.pk).values_list("cost", "cost_basis").get() == (
        Decimal("0.02"), "price",
    )  # fmt: skip
    assert Job.objects.filter(pk=house.pk).values_list("cost", "cost_basis").get() == (
        None, "unknown",
    )  # fmt: skip
    assert Job.objects.filter(pk=waiting.pk).values_list("cost", "cost_basis").get() == (None, "")
    NewImage = new_apps.get_model("gallery", "Image")
    assert NewImage.objects.get(pk=dalle_image.pk).cost == Decimal("0.04")
    shares = set(NewImage.objects.filter(pk__in=gpt_images).values_list("cost", flat=True))
    assert shares == {(expected.amount / 2).quantize(Decimal("1e-6"))}
    assert new_apps.get_model("imagegen", "Allowance").objects.count() == 0

    back = migrate(BEFORE)
    assert back.get_model("imagegen", "Generation").objects.count() == 8  # 5 + 3 of image_row
    assert back.get_model("gallery", "Image").objects.count() == 3
    assert back.get_model("imagegen", "ImageModel").objects.get(name="qwen-image").label == (
        "Qwen (house)"
    )


def test_every_job_before_0011_went_on_the_sites_key(old_apps: Any) -> None:
    grace = old_apps.get_model("auth", "User").objects.create(username="grace")
    old_apps.get_model("imagegen", "Generation").objects.create(
        owner=grace, model_name="qwen-image", prompt="x", parameters={"n": 1}
    )
    new_apps = migrate([("imagegen", "0011_jobs_on_own_keys")])
    assert new_apps.get_model("imagegen", "Generation").objects.get().on_own_key is False
    back = migrate(BEFORE)
    assert back.get_model("imagegen", "Generation").objects.get().prompt == "x"
