"""Migration 0006: one column per parameter becomes one schema, and nobody's data is lost.

Run from the previous schema (0005) with real rows, including an administrator's edits, then
forward; and back again.
"""

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from imagegen.catalogue import resolve, schema_errors, shipped_model
from tests.migration_steps import migrate

# Each test ends by emptying every table: the shipped models are put back after the module.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shipped_models")]

AFTER = [("imagegen", "0006_model_schemas")]
LATEST = [("imagegen", "0008_presets_and_advanced_parameters")]


@pytest.fixture
def old_apps() -> Any:
    apps = migrate([("imagegen", "0005_verbose_names")])
    yield apps
    migrate(executor_leaf_nodes())


def executor_leaf_nodes() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_edited_rows_keep_every_edit_in_their_new_schema(old_apps: Any) -> None:
    ImageModel = old_apps.get_model("imagegen", "ImageModel")
    # An administrator narrowed Qwen's sizes, relabelled it and moved it to the top...
    ImageModel.objects.filter(name="qwen-image").update(
        label="Qwen (house style)", sizes=["1328x1328", "1664x928"], default_size="1664x928",
        position=1,
    )  # fmt: skip
    # ...took HD away from DALL·E 3, made natural the default style, and disabled DALL·E 2...
    ImageModel.objects.filter(name="dall-e-3").update(
        qualities=["standard"], default_quality="standard", default_style="natural"
    )
    ImageModel.objects.filter(name="dall-e-2").update(enabled=False)
    # ...turned streaming off for gpt-image-1 and added a model of their own.
    ImageModel.objects.filter(name="gpt-image-1").update(supports_streaming=False)
    ImageModel.objects.create(
        name="house-model", label="House", family="gpt-image", prompt_max_length=500,
        max_images=2, sizes=["512x512"], default_size="512x512", qualities=["low", "high"],
        default_quality="high", output_formats=["png", "jpeg"], default_output_format="png",
        backgrounds=["opaque", "transparent"], default_background="opaque",
        supports_compression=True, supports_streaming=True, max_partial_images=1,
    )  # fmt: skip

    new_apps = migrate(AFTER)
    ImageModel = new_apps.get_model("imagegen", "ImageModel")

    qwen = ImageModel.objects.get(name="qwen-image")
    assert (qwen.label, qwen.position) == ("Qwen (house style)", 1)
    size = qwen.schema["parameters"][0]
    assert (size["choices"], size["default"]) == (["1328x1328", "1664x928"], "1664x928")
    dalle = ImageModel.objects.get(name="dall-e-3")
    by_name = {p["name"]: p for p in dalle.schema["parameters"]}
    assert by_name["quality"]["choices"] == ["standard"]
    assert by_name["style"]["default"] == "natural"
    assert (dalle.retires_on.isoformat(), dalle.replacement) == ("2026-05-12", "gpt-image-2")
    assert not ImageModel.objects.get(name="dall-e-2").enabled
    gpt1 = ImageModel.objects.get(name="gpt-image-1")
    assert "stream" not in {p["name"] for p in gpt1.schema["parameters"]}
    house = ImageModel.objects.get(name="house-model")
    house_parameters = {p["name"]: p for p in house.schema["parameters"]}
    assert house_parameters["output_compression"]["only_when"] == {"output_format": ["jpeg"]}
    assert house_parameters["partial_images"]["maximum"] == 1
    assert house.schema["rules"][0] == {
        "if": {"background": ["transparent"]},
        "then": {"output_format": ["png"]},
    }
    for row in ImageModel.objects.all():
        assert schema_errors(row.schema) == [], row.name


def test_unedited_shipped_rows_come_out_equal_to_the_shipped_schemas(old_apps: Any) -> None:
    new_apps = migrate(LATEST)
    ImageModel = new_apps.get_model("imagegen", "ImageModel")

    for row in ImageModel.objects.all():
        shipped = shipped_model(row.name)
        assert row.schema == shipped["schema"], row.name
        assert row.position == shipped["position"], row.name
    assert ImageModel.objects.filter(name="doubao-seedream-5-0-260128").exists()


def test_old_generations_keep_their_parameters_and_can_still_be_sent(old_apps: Any) -> None:
    User = old_apps.get_model("auth", "User")
    Generation = old_apps.get_model("imagegen", "Generation")
    owner = User.objects.create(username="carol")
    sent_before = {
        "dall-e-3": {"n": 1, "size": "1792x1024", "quality": "hd", "style": "vivid",
                     "response_format": "url"},
        "gpt-image-1.5": {"n": 1, "size": "1024x1536", "quality": "low", "output_format": "webp",
                          "background": "auto", "moderation": "auto", "output_compression": 70,
                          "stream": True, "partial_images": 2},
        "qwen-image": {"n": 1, "size": "1664x928"},
    }  # fmt: skip
    for model_name, parameters in sent_before.items():
        Generation.objects.create(
            owner=owner, model_name=model_name, prompt="a lantern", parameters=parameters
        )

    new_apps = migrate(LATEST)
    from imagegen.models import Generation as LiveGeneration
    from imagegen.models import ImageModel as LiveImageModel

    # Only the columns as of 0008: later migrations add more.
    for generation in LiveGeneration.objects.only("model_name", "parameters"):
        assert generation.parameters == sent_before[generation.model_name]
        as_of_0008 = LiveImageModel.objects.defer(
            "price", "price_source", "price_updated_at", "price_note"
        )
        spec = as_of_0008.get(name=generation.model_name).spec()
        sent, problems = resolve(spec, generation.parameters)
        assert problems == []  # remix of the old settings passes the new schema unchanged
        assert sent == generation.parameters
    assert new_apps.get_model("imagegen", "Generation").objects.count() == 3


def test_going_back_rebuilds_the_columns_from_the_schema(old_apps: Any) -> None:
    migrate(AFTER)
    old = migrate([("imagegen", "0005_verbose_names")])
    ImageModel = old.get_model("imagegen", "ImageModel")

    gpt = ImageModel.objects.get(name="gpt-image-2")
    assert gpt.sizes == ["auto", "1024x1024", "1536x1024", "1024x1536"]
    assert gpt.custom_sizes and gpt.supports_streaming and gpt.supports_compression
    assert gpt.qualities == ["auto", "low", "medium", "high"]
    assert ImageModel.objects.get(name="dall-e-3").styles == ["vivid", "natural"]


def test_0007_adds_the_endpoints_and_keeps_every_edit(old_apps: Any) -> None:
    apps = migrate(AFTER)
    ImageModel = apps.get_model("imagegen", "ImageModel")
    gpt = ImageModel.objects.get(name="gpt-image-2")
    # An administrator relabelled moderation and limited Seedream to 4 references.
    schema = gpt.schema
    moderation = next(p for p in schema["parameters"] if p["name"] == "moderation")
    moderation["label"] = "Content filter"
    schema["parameters"] = [p for p in schema["parameters"] if p["name"] != "image"]
    gpt.save()
    seedream = ImageModel.objects.get(name="doubao-seedream-5-0-260128")
    for parameter in seedream.schema["parameters"]:
        if parameter["name"] == "image":
            parameter.pop("endpoints", None)
            parameter["maximum"] = 4
    seedream.save()
    flare = ImageModel.objects.get(name="gpt-image-2.6-flare")  # as 0006 left a 2.6 row
    flare.schema["parameters"] = [
        {k: v for k, v in p.items() if k != "endpoints"}
        for p in flare.schema["parameters"]
        if p.get("endpoints") != ["edits"]
    ]
    flare.save()
    old_fidelity = ImageModel.objects.get(name="gpt-image-1.5")
    old_fidelity.schema["parameters"] = [
        {k: v for k, v in p.items() if k != "endpoints"}
        for p in old_fidelity.schema["parameters"]
        if p["name"] not in {"input_fidelity", "image"}
    ]
    old_fidelity.save()

    new_apps = migrate(LATEST)
    ImageModel = new_apps.get_model("imagegen", "ImageModel")
    by_name = {
        row.name: {p["name"]: p for p in row.schema["parameters"]}
        for row in ImageModel.objects.all()
    }
    gpt_parameters = by_name["gpt-image-2"]
    assert gpt_parameters["moderation"]["label"] == "Content filter"  # the edit is kept
    assert gpt_parameters["moderation"]["endpoints"] == ["generations"]
    assert gpt_parameters["image"] == {
        "name": "image", "kind": "images", "label": "Reference images", "maximum": 16,
        "endpoints": ["edits"],
    }  # fmt: skip
    assert by_name["doubao-seedream-5-0-260128"]["image"]["maximum"] == 4
    assert by_name["doubao-seedream-5-0-260128"]["image"]["endpoints"] == ["generations"]
    assert by_name["doubao-seedream-5-0-260128"]["seed"]["new_on_vary"] is True
    flare = ImageModel.objects.get(name="gpt-image-2.6-flare")
    assert flare.schema == shipped_model("gpt-image-2.6-flare")["schema"]
    fidelity = by_name["gpt-image-1.5"]
    assert list(fidelity).index("input_fidelity") == list(fidelity).index("moderation") + 1
    assert fidelity["input_fidelity"]["endpoints"] == ["edits"]
    assert "input_fidelity" not in by_name["gpt-image-2"]
    for row in ImageModel.objects.all():
        assert schema_errors(row.schema) == [], row.name

    back = migrate(AFTER)
    ImageModel = back.get_model("imagegen", "ImageModel")
    gpt = ImageModel.objects.get(name="gpt-image-2")
    names = [p["name"] for p in gpt.schema["parameters"]]
    assert "image" not in names
    assert all("endpoints" not in p for p in gpt.schema["parameters"])
    assert next(p for p in gpt.schema["parameters"] if p["name"] == "moderation")["label"] == (
        "Content filter"
    )
