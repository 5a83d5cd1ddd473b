"""The model catalogue: shipped models as rows, schemas that are checked before they are saved."""

import copy
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from imagegen.catalogue import (
    SHIPPED_MODELS,
    ModelSpec,
    SizeRange,
    resolve,
    schema_errors,
    shipped_model,
    shipped_spec,
)
from imagegen.models import ImageModel, UpstreamModel

pytestmark = pytest.mark.django_db

REQUIRED = {
    "dall-e-2",
    "dall-e-3",
    "gpt-image-1",
    "gpt-image-1-mini",
    "gpt-image-1.5",
    "gpt-image-2",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-sunburst",
    "gpt-image-2.6-flare",
    "gpt-image-2.6-sunburst",
    "qwen-image",
    "doubao-seedream-4-5-251128",
    "doubao-seedream-5-0-260128",
}
GUIDANCE = {"name": "guidance_scale", "kind": "number", "label": "Guidance", "minimum": 1,
            "maximum": 10, "default": 2.5, "send_default": True}  # fmt: skip


def qwen_schema(**size_changes: Any) -> dict[str, Any]:
    schema = copy.deepcopy(shipped_model("qwen-image")["schema"])
    schema["parameters"][0].update(size_changes)
    return schema


def test_every_shipped_model_is_installed_by_the_migrations() -> None:
    assert set(ImageModel.objects.values_list("name", flat=True)) == REQUIRED


def test_a_rows_spec_matches_the_shipped_spec() -> None:
    for values in SHIPPED_MODELS:
        row = ImageModel.objects.get(name=values["name"])
        assert row.spec() == shipped_spec(values["name"])


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_shipped_schema_passes_its_own_checks(name: str) -> None:
    assert schema_errors(shipped_model(name)["schema"]) == []
    ImageModel.objects.get(name=name).full_clean()


def test_retired_models_know_their_end_and_their_replacement() -> None:
    for name in ["dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"]:
        model = ImageModel.objects.get(name=name)
        assert model.retires_on is not None and model.retires_on <= date(2026, 12, 1)
        assert ImageModel.objects.filter(name=model.replacement).exists()


def test_new_jobs_get_the_current_models_in_position_order_until_a_sync_says_more() -> None:
    names = [m.name for m in ImageModel.objects.for_new_jobs(date(2026, 12, 4))]

    assert names[0] == "gpt-image-2"
    assert not {"dall-e-3", "dall-e-2", "gpt-image-1", "gpt-image-1.5"} & set(names)
    assert "doubao-seedream-5-0-260128" in names


def test_the_live_list_can_keep_a_retired_model_or_withdraw_a_current_one() -> None:
    UpstreamModel.objects.create(name="dall-e-3", offered=True)
    UpstreamModel.objects.create(name="gpt-image-2", offered=False)

    names = [m.name for m in ImageModel.objects.for_new_jobs(date(2026, 12, 4))]

    assert names[0] == "dall-e-3"  # the seed's safe first request, while the key can use it
    assert "gpt-image-2" not in names


def test_a_live_shutdown_date_in_the_past_ends_an_offered_model() -> None:
    UpstreamModel.objects.create(name="qwen-image", offered=True, shutdown_on=date(2026, 12, 1))

    names = [m.name for m in ImageModel.objects.for_new_jobs(date(2026, 12, 4))]

    assert "qwen-image" not in names


def test_an_administrator_can_add_a_model_with_a_parameter_no_code_knows() -> None:
    model = ImageModel(
        name="acme-paint-1",
        label="Acme Paint",
        family="other",
        prompt_max_length=2000,
        max_images=4,
        schema={"parameters": [qwen_schema()["parameters"][0], GUIDANCE], "rules": []},
    )
    model.full_clean()
    model.save()

    sent, problems = resolve(model.spec(), {})

    assert problems == []
    assert sent == {"n": 1, "size": "1328x1328", "guidance_scale": 2.5}


@pytest.mark.parametrize(
    ("schema", "where", "words"),
    [
        (qwen_schema(choices=["1328x1328", "banana"]), "parameters[0] “size” > choices[1]",
         "“banana” is not a size"),
        (qwen_schema(default="1024x1024"), "parameters[0] “size” > default", "not allowed"),
        ({"parameters": [{**GUIDANCE, "default": 12}]}, "parameters[0] “guidance_scale” > default",
         "from 1 to 10"),
        ({"parameters": [{**GUIDANCE, "minimum": 20}]}, "> minimum", "above the maximum"),
        ({"parameters": [{**GUIDANCE, "only_when": {"style": ["vivid"]}}]}, "> only_when",
         "no parameter is called “style”"),
        ({"parameters": [GUIDANCE], "rules": [{"if": {"seed": [1]}, "then": {"n": [1]}}]},
         "rules[0] > if", "no parameter is called “seed”"),
        ({"parameters": [GUIDANCE], "rules": [{"at_most": 3, "total": ["image", "n"]}]},
         "rules[0] > total", "no parameter is called “image”"),
        ({"parameters": [{"name": "quality", "kind": "choice", "choices": ["a"], "default": "b"}]},
         "> default", "not one of"),
        ({"parameters": [{"name": "prompt", "kind": "text"}]}, "> name", "reserved"),
        ({"parameters": [GUIDANCE, GUIDANCE]}, "parameters[1]", "already has this name"),
        ({"parameters": [{"name": "Bad Name", "kind": "text"}]}, "parameters[0] “Bad Name” > name",
         "does not match"),
        ({"parameters": [{"name": "x", "kind": "colour"}]}, "“x” > kind", "is not one of"),
        ({"parameters": [{"name": "x", "kind": "text", "colour": "red"}]}, "parameters[0]",
         "Additional properties"),
        ({"parameters": [{"name": "flag", "kind": "boolean", "send_default": True}]},
         "> send_default", "needs a default"),
        ({"parameters": [{"name": "image", "kind": "images"}]}, "> maximum", "how many"),
        ({}, "the schema", "'parameters' is a required property"),
    ],
)  # fmt: skip
def test_a_broken_schema_is_refused_with_the_exact_entry_named(
    schema: dict[str, Any], where: str, words: str
) -> None:
    with translation.override("en"):
        errors = schema_errors(schema)

    assert errors, schema
    assert any(where in error and words in error for error in errors), errors


def test_admin_validation_refuses_banana_as_a_size_on_the_schema_field() -> None:
    model = ImageModel.objects.get(name="qwen-image")
    model.schema = qwen_schema(choices=["1328x1328", "banana"])

    with translation.override("en"), pytest.raises(ValidationError) as error:
        model.full_clean()

    assert "banana" in " ".join(error.value.message_dict["schema"])


@pytest.mark.parametrize(
    ("width", "height", "fragment"),
    [
        (1000, 1000, "multiples of 16"),
        (4096, 1024, "may exceed"),
        (3072, 768, "times the short edge"),
        (512, 512, "between"),
    ],
)
def test_the_size_range_explains_what_is_wrong(width: int, height: int, fragment: str) -> None:
    with translation.override("en"):
        assert fragment in (SizeRange().problem_with(width, height) or "")


def test_the_size_range_accepts_a_wide_size_within_every_limit() -> None:
    assert SizeRange().problem_with(3840, 2160) is None


def test_a_rule_between_parameters_names_both_in_its_message() -> None:
    spec = shipped_spec("gpt-image-2")
    assert isinstance(spec, ModelSpec)

    with translation.override("en"):
        _sent, problems = resolve(spec, {"background": "transparent", "output_format": "jpeg"})

    assert [p.param for p in problems] == ["background"]
    assert "Background is Transparent" in problems[0].message
    assert "Output format is PNG or WebP" in problems[0].message


def test_seedream_counts_references_and_outputs_together() -> None:
    spec = shipped_spec("doubao-seedream-5-0-260128")
    assert spec is not None
    references = ["data:image/png;base64,AAAA"] * 10

    assert resolve(spec, {"n": 5, "image": references})[1] == []
    problems = resolve(spec, {"n": 6, "image": references})[1]
    assert [p.param for p in problems] == ["n"]
