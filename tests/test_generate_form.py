"""The generate form: which fields each model shows, and what it accepts and refuses."""

import pytest

from imagegen.forms import GenerateForm
from imagegen.models import ImageModel

pytestmark = pytest.mark.django_db

EXPECTED_FIELDS = {
    "dall-e-2": {"model", "prompt", "size", "n", "response_format"},
    "dall-e-3": {"model", "prompt", "size", "quality", "style", "response_format"},
    "gpt-image-1": {
        "model",
        "prompt",
        "size",
        "n",
        "quality",
        "output_format",
        "output_compression",
        "background",
        "moderation",
        "stream",
        "partial_images",
    },
    "gpt-image-2": {
        "model",
        "prompt",
        "size",
        "width",
        "height",
        "n",
        "quality",
        "output_format",
        "output_compression",
        "background",
        "moderation",
        "stream",
        "partial_images",
    },
    "qwen-image": {"model", "prompt", "size"},
}


def form_for(model: str, **values: object) -> GenerateForm:
    return GenerateForm({"model": model, "prompt": "a lighthouse at dusk", **values})


@pytest.mark.parametrize(("model", "fields"), EXPECTED_FIELDS.items())
def test_each_model_shows_exactly_its_own_fields(model: str, fields: set[str]) -> None:
    assert set(GenerateForm(initial={"model": model}).fields) == fields


def test_the_default_is_the_safe_first_request() -> None:
    form = GenerateForm()
    assert form.profile.name == "dall-e-3"
    assert form["size"].initial == "1024x1024"
    assert form["response_format"].initial == "url"


def test_every_field_has_a_visible_label() -> None:
    form = GenerateForm(initial={"model": "gpt-image-2"})
    labels = {name: str(field.label) for name, field in form.fields.items()}
    assert labels["model"] == "Model"
    assert labels["prompt"] == "Prompt"
    assert labels["size"] == "Size"
    assert labels["n"] == "Number of images"
    assert labels["quality"] == "Quality"
    assert all(labels.values())


def test_it_accepts_the_defaults_of_every_enabled_model() -> None:
    for model in ImageModel.objects.enabled():
        form = GenerateForm(initial={"model": model.name})
        data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
        data["prompt"] = "a red fox in snow"
        bound = GenerateForm(data)
        assert bound.is_valid(), (model.name, bound.errors)


def test_it_refuses_a_size_the_model_does_not_take() -> None:
    form = form_for(
        "dall-e-3", size="256x256", quality="standard", style="vivid", response_format="url"
    )
    assert not form.is_valid()
    assert "size" in form.errors


def test_it_refuses_more_than_ten_images_for_dall_e_2() -> None:
    form = form_for("dall-e-2", size="512x512", n=11, response_format="url")
    assert not form.is_valid()
    assert "n" in form.errors


def test_qwen_image_and_dall_e_3_never_ask_for_more_than_one_image() -> None:
    for model in ("qwen-image", "dall-e-3"):
        form = form_for(
            model,
            n=4,
            size="1328x1328" if model == "qwen-image" else "1024x1024",
            quality="standard",
            style="vivid",
            response_format="url",
        )
        form.is_valid()
        assert "n" not in form.fields
        if form.is_valid():
            assert form.options()["n"] == 1


def test_it_refuses_a_prompt_over_the_model_limit() -> None:
    form = GenerateForm(
        {
            "model": "dall-e-2",
            "prompt": "x" * 1001,
            "size": "256x256",
            "n": 1,
            "response_format": "url",
        }
    )
    assert not form.is_valid()
    assert "1,000" in form.errors["prompt"][0]


def test_it_refuses_an_empty_prompt() -> None:
    form = GenerateForm({"model": "qwen-image", "prompt": "   ", "size": "1328x1328"})
    assert not form.is_valid()
    assert "prompt" in form.errors


def gpt(**values: object) -> GenerateForm:
    defaults = {
        "size": "1024x1024",
        "n": 1,
        "quality": "auto",
        "output_format": "png",
        "background": "auto",
        "moderation": "auto",
    }
    return form_for("gpt-image-1", **{**defaults, **values})


def test_it_refuses_compression_with_png() -> None:
    form = gpt(output_compression=50)
    assert not form.is_valid()
    assert "JPEG and WebP" in form.errors["output_compression"][0]


def test_it_accepts_compression_with_jpeg() -> None:
    form = gpt(output_format="jpeg", output_compression=50)
    assert form.is_valid(), form.errors
    assert form.options()["output_compression"] == 50


def test_it_refuses_a_transparent_background_with_jpeg() -> None:
    form = gpt(output_format="jpeg", background="transparent")
    assert not form.is_valid()
    assert "PNG or WebP" in form.errors["background"][0]


def test_it_accepts_a_transparent_background_with_webp() -> None:
    assert gpt(output_format="webp", background="transparent").is_valid()


def test_streaming_needs_a_single_image() -> None:
    form = gpt(stream="on", n=2)
    assert not form.is_valid()
    assert "n" in form.errors


def test_streaming_options_carry_the_partial_image_count() -> None:
    form = gpt(stream="on", partial_images=3)
    assert form.is_valid(), form.errors
    assert form.options() | {} == {
        "n": 1,
        "size": "1024x1024",
        "quality": "auto",
        "output_format": "png",
        "background": "auto",
        "moderation": "auto",
        "stream": True,
        "partial_images": 3,
    }


def test_it_refuses_more_than_three_partial_images() -> None:
    assert "partial_images" in gpt(stream="on", partial_images=4).errors


def test_a_custom_size_becomes_the_size_sent() -> None:
    form = form_for(
        "gpt-image-2",
        size="custom",
        width=2048,
        height=1152,
        n=1,
        quality="auto",
        output_format="png",
        background="auto",
        moderation="auto",
    )
    assert form.is_valid(), form.errors
    assert form.options()["size"] == "2048x1152"


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [
        (1000, 1008, "multiples of 16"),
        (3840, 1008, "3 times"),
        (4096, 2048, "exceed"),
        (512, 512, "pixels"),
        (None, 1024, "width and a height"),
    ],
)
def test_it_refuses_a_custom_size_outside_the_rules(width, height, message) -> None:
    values = {
        "size": "custom",
        "height": height,
        "n": 1,
        "quality": "auto",
        "output_format": "png",
        "background": "auto",
        "moderation": "auto",
    }
    if width:
        values["width"] = width
    form = form_for("gpt-image-2", **values)
    assert not form.is_valid()
    assert message in " ".join(form.errors.get("width", []))


def test_a_model_with_fixed_sizes_refuses_custom() -> None:
    assert "size" in gpt(size="custom", width=1024, height=1024).errors


def test_a_disabled_model_cannot_be_chosen() -> None:
    ImageModel.objects.filter(name="dall-e-2").update(enabled=False)
    form = form_for("dall-e-2", size="512x512", n=1, response_format="url")
    assert "dall-e-2" not in dict(form.fields["model"].choices)
    assert not form.is_valid()


def test_switching_model_keeps_only_values_the_new_model_takes() -> None:
    form = GenerateForm(
        initial={"model": "gpt-image-1", "size": "1792x1024", "quality": "high", "prompt": "kept"}
    )
    assert "size" not in form.initial
    assert form.initial["quality"] == "high"
    assert form.initial["prompt"] == "kept"


def test_a_remixed_custom_size_selects_custom() -> None:
    form = GenerateForm(initial={"model": "gpt-image-2", "size": "2048x1152"})
    assert form.initial["size"] == "custom"
