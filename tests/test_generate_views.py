"""The generate page and the generation page, end to end through the offline provider."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from gallery.models import Image
from imagegen.models import Generation, ImageModel, UpstreamModel

URL = reverse("generate")
HTMX = {"HX-Request": "true"}
MODEL_FIELDS = {"HX-Request": "true", "HX-Target": "model-fields"}
NO_MODEL = "No image model is available right now."


def gpt_image_2(**values: Any) -> dict[str, Any]:
    """The gpt-image-2 form as first shown, with `values` changed."""
    return {
        "model": "gpt-image-2",
        "prompt": "a lighthouse at dusk",
        "size": "auto",
        "n": 1,
        "quality": "auto",
        "output_format": "png",
        "background": "auto",
        "moderation": "auto",
        **values,
    }


def test_signed_out_people_are_sent_to_sign_in(client: Client, db) -> None:
    for response in (client.get(URL), client.post(URL, gpt_image_2())):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not Generation.objects.exists()


def test_the_page_shows_the_default_model_and_its_fields(alice_client: Client) -> None:
    page = alice_client.get(URL).content.decode()
    assert '<option value="gpt-image-2" selected>' in page
    assert "Options for GPT Image 2" in page
    assert "<legend>Size</legend>" in page  # a radio group of ratio tiles
    for label in (
        "Model",
        "Prompt",
        "Width",
        "Height",
        "Number of images",
        "Quality",
        "Output format",
        "Compression",
        "Background",
        "Moderation",
        "Stream partial previews",
        "Partial previews",
    ):
        assert f">{label}</label>" in page
    assert ">Style</label>" not in page and ">Response format</label>" not in page
    assert "Up to 10 images per request." in page
    assert "Offline provider" in page
    assert "has retired" not in page and "shuts down" not in page


def test_retired_models_are_not_offered_on_the_page(alice_client: Client) -> None:
    page = alice_client.get(URL).content.decode()
    for model in ("dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"):
        assert f'<option value="{model}"' not in page
    for model in ("gpt-image-2.6-sunburst", "doubao-seedream-5-0-260128", "qwen-image"):
        assert f'<option value="{model}">' in page


def test_the_page_defaults_to_dall_e_3_while_the_key_offers_it(alice_client: Client) -> None:
    UpstreamModel.objects.create(name="dall-e-3", offered=True)
    page = alice_client.get(URL).content.decode()
    assert '<option value="dall-e-3" selected>' in page
    assert "<legend>Size</legend>" in page
    for label in ("Quality", "Style", "Response format"):
        assert f">{label}</label>" in page
    assert ">Number of images</label>" not in page
    assert "One image per request." in page


def test_changing_the_model_swaps_in_only_that_models_fields(alice_client: Client) -> None:
    response = alice_client.get(URL, {"model": "doubao-seedream-5-0-260128"}, headers=MODEL_FIELDS)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<fieldset id="model-fields"')
    assert "<html" not in page
    assert "Options for Seedream 5.0" in page
    assert "<legend>Size</legend>" in page
    for label in (
        "Width",
        "Height",
        "Number of images",
        "Response format",
        "Watermark",
        "Guidance scale",
        "Seed",
    ):
        assert f">{label}</label>" in page
    for label in ("Quality", "Output format", "Compression", "Style", "Reference images"):
        assert f">{label}</label>" not in page


def test_changing_to_gpt_image_2_6_shows_its_gif_options(alice_client: Client) -> None:
    page = alice_client.get(
        URL, {"model": "gpt-image-2.6-sunburst"}, headers=MODEL_FIELDS
    ).content.decode()
    for label in ("Complexity", "Frames", "Frame duration (ms)"):
        assert f">{label}</label>" in page
    assert '<option value="gif">GIF</option>' in page
    assert '<option value="svg">SVG</option>' in page


def test_changing_to_a_retired_model_opens_its_replacement(alice_client: Client) -> None:
    page = alice_client.get(URL, {"model": "gpt-image-1"}, headers=MODEL_FIELDS).content.decode()
    assert "GPT Image 1 has retired; these settings now use GPT Image 2." in page
    assert "Options for GPT Image 2" in page


def test_without_javascript_the_change_model_button_rerenders_the_form(
    alice_client: Client,
) -> None:
    response = alice_client.post(
        URL, {"model": "qwen-image", "prompt": "kept text", "switch_model": "1"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "kept text" in page
    assert "Options for Qwen Image" in page
    assert '<option value="qwen-image" selected>' in page
    assert not Generation.objects.exists()


def test_a_valid_request_generates_and_saves_the_image(alice, alice_client: Client) -> None:
    response = alice_client.post(
        URL,
        gpt_image_2(
            size="1024x1536",
            quality="high",
            output_format="webp",
            output_compression=80,
            background="opaque",
        ),
    )
    generation = Generation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("generation", args=[generation.pk])
    assert generation.owner == alice
    assert generation.model_name == "gpt-image-2"
    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    assert generation.parameters == {
        "n": 1,
        "size": "1024x1536",
        "quality": "high",
        "output_format": "webp",
        "output_compression": 80,
        "background": "opaque",
        "moderation": "auto",
    }
    assert generation.request_id
    assert generation.usage["total_tokens"] > 0
    image = Image.objects.get()
    assert (image.owner, image.width, image.height, image.format) == (alice, 1024, 1536, "webp")
    page = alice_client.get(response["Location"]).content.decode()
    assert reverse("image_thumbnail", args=[image.uuid]) in page


def test_a_revised_prompt_from_the_upstream_is_kept_with_the_image(alice_client: Client) -> None:
    # No current shipped model revises prompts; a model row that says it does is served so.
    ImageModel.objects.filter(name="qwen-image").update(returns_revised_prompt=True)
    alice_client.post(URL, {"model": "qwen-image", "prompt": "a paper crane", "size": "1328x1328"})
    image = Image.objects.get()
    assert image.revised_prompt
    assert image.revised_prompt != "a paper crane"


def test_an_htmx_request_returns_the_panel_with_the_result(alice_client: Client) -> None:
    response = alice_client.post(
        URL,
        {"model": "qwen-image", "prompt": "a paper crane", "size": "1328x1328"},
        headers=HTMX,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="generate-panel"')
    generation = Generation.objects.get()
    assert f'id="generation-{generation.pk}"' in page
    assert "a paper crane" in page
    assert Image.objects.get().model_name == "qwen-image"
    assert generation.parameters == {"n": 1, "size": "1328x1328"}  # one image only


def test_invalid_input_shows_inline_errors_and_sends_nothing(alice_client: Client) -> None:
    response = alice_client.post(
        URL, gpt_image_2(prompt="a glass bird", output_format="jpeg", background="transparent")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="field field-background has-error"' in page
    assert "When Background is Transparent, Output format is PNG or WebP." in page
    assert "a glass bird" in page  # nothing typed is lost
    assert not Generation.objects.exists()


def test_invalid_input_with_htmx_returns_the_panel_with_the_errors(alice_client: Client) -> None:
    response = alice_client.post(URL, gpt_image_2(output_compression=50), headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="generate-panel"')
    assert "Compression applies only when Output format is JPEG or WebP." in page
    assert not Generation.objects.exists()


def test_a_retired_model_in_post_data_is_refused_and_nothing_is_sent(
    alice_client: Client,
) -> None:
    response = alice_client.post(
        URL,
        {
            "model": "dall-e-3",
            "prompt": "an old favourite",
            "size": "1024x1024",
            "quality": "hd",
            "style": "vivid",
            "response_format": "url",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "DALL·E 3 has retired; these settings now use GPT Image 2." in page
    assert '<option value="gpt-image-2" selected>' in page
    assert '<option value="dall-e-3"' not in page
    assert "an old favourite" in page
    assert not Generation.objects.exists()


def test_a_job_for_a_model_the_upstream_no_longer_has_fails_and_names_the_replacement(
    alice_client: Client,
) -> None:
    UpstreamModel.objects.create(name="dall-e-3", offered=True)  # the live list is stale
    alice_client.post(
        URL,
        {
            "model": "dall-e-3",
            "prompt": "an old favourite",
            "size": "1024x1024",
            "quality": "standard",
            "style": "vivid",
            "response_format": "url",
        },
    )
    generation = Generation.objects.get()
    assert generation.status == Generation.Status.FAILED
    assert generation.error_code == "model_not_found"
    assert "use GPT Image 2 instead" in generation.error_message
    assert not Image.objects.exists()
    assert UpstreamModel.objects.get(name="dall-e-3").offered is False
    page = alice_client.get(reverse("generation", args=[generation.pk])).content.decode()
    assert "use GPT Image 2 instead" in page
    # New jobs no longer offer it: the default is back to the first current model.
    assert '<option value="gpt-image-2" selected>' in alice_client.get(URL).content.decode()


def test_an_upstream_refusal_is_shown_with_its_specific_message(alice_client: Client) -> None:
    alice_client.post(
        URL,
        {
            "model": "qwen-image",
            "prompt": "[fault:moderation_blocked] a cat",
            "size": "1328x1328",
        },
    )
    generation = Generation.objects.get()
    assert generation.status == Generation.Status.FAILED
    assert generation.error_code == "moderation_blocked"
    page = alice_client.get(reverse("generation", args=[generation.pk])).content.decode()
    assert "safety system" in page
    assert not Image.objects.exists()


def test_the_page_refuses_other_methods(alice_client: Client) -> None:
    assert alice_client.put(URL).status_code == 405
    assert alice_client.delete(URL).status_code == 405
    assert not Generation.objects.exists()


def test_remix_prefills_the_form_from_a_generation(alice, alice_client: Client) -> None:
    generation = Generation.objects.create(
        owner=alice,
        model_name="gpt-image-2",
        prompt="a tin robot",
        parameters={"n": 3, "size": "1536x1024", "quality": "high", "output_format": "webp"},
    )
    page = alice_client.get(URL, {"remix": generation.pk}).content.decode()
    assert '<option value="gpt-image-2" selected>' in page
    assert "a tin robot" in page
    assert 'value="1536x1024" checked>' in page
    assert '<option value="high" selected>' in page
    assert '<option value="webp" selected>' in page
    assert 'value="3"' in page
    assert "has retired" not in page


def test_remix_of_a_retired_models_generation_opens_its_replacement(
    alice, alice_client: Client
) -> None:
    generation = Generation.objects.create(
        owner=alice,
        model_name="dall-e-3",
        prompt="a tin robot",
        parameters={
            "n": 1,
            "size": "1024x1024",
            "quality": "hd",
            "style": "natural",
            "response_format": "b64_json",
        },
    )
    page = alice_client.get(URL, {"remix": generation.pk}).content.decode()
    assert "DALL·E 3 has retired; these settings now use GPT Image 2." in page
    assert '<option value="gpt-image-2" selected>' in page
    picker = page[page.index('<select name="model"') :]
    assert '<option value="dall-e-3"' not in picker[: picker.index("</select>")]
    assert "a tin robot" in page
    assert 'value="1024x1024" checked>' in page
    assert '<option value="auto" selected>Automatic</option>' in page  # "hd" is not kept
    assert ">Style</label>" not in page and ">Response format</label>" not in page


def test_remix_of_another_persons_generation_is_not_found(bob, alice_client: Client) -> None:
    generation = Generation.objects.create(owner=bob, model_name="gpt-image-2", prompt="secret")
    response = alice_client.get(URL, {"remix": generation.pk})
    assert response.status_code == 404
    assert b"secret" not in response.content
    assert alice_client.get(URL, {"remix": "not-a-uuid"}).status_code == 404


def test_the_page_warns_when_the_chosen_model_shuts_down_within_30_days(
    alice_client: Client,
) -> None:
    day = timezone.localdate() + timedelta(days=12)
    UpstreamModel.objects.create(name="gpt-image-1.5", offered=True, shutdown_on=day)
    page = alice_client.get(URL, {"model": "gpt-image-1.5"}, headers=MODEL_FIELDS)
    text = page.content.decode()
    assert (
        f"GPT Image 1.5 shuts down on {date_format(day)}; GPT Image 2.6 Sunburst replaces it."
        in text
    )


def test_a_shutdown_40_days_away_shows_no_warning(alice_client: Client) -> None:
    day = timezone.localdate() + timedelta(days=40)
    UpstreamModel.objects.create(name="gpt-image-1.5", offered=True, shutdown_on=day)
    page = alice_client.get(URL, {"model": "gpt-image-1.5"}).content.decode()
    assert '<option value="gpt-image-1.5" selected>' in page
    assert "shuts down" not in page


def test_with_every_model_disabled_the_page_says_so(alice_client: Client) -> None:
    ImageModel.objects.update(enabled=False)
    response = alice_client.get(URL)
    assert response.status_code == 200
    assert NO_MODEL in response.content.decode()
    assert b'<form method="post" action="/generate/"' not in response.content


def test_with_every_model_disabled_a_post_sends_nothing_and_says_so(alice_client: Client) -> None:
    ImageModel.objects.update(enabled=False)
    response = alice_client.post(URL, gpt_image_2())
    assert response.status_code == 200
    assert NO_MODEL in response.content.decode()
    assert not Generation.objects.exists()
    response = alice_client.post(URL, gpt_image_2(), headers=HTMX)
    assert response.content.decode().lstrip().startswith('<section id="generate-panel"')
    assert NO_MODEL in response.content.decode()


def test_with_every_model_disabled_a_model_switch_does_not_crash(alice_client: Client) -> None:
    ImageModel.objects.update(enabled=False)
    response = alice_client.get(URL, {"model": "qwen-image"}, headers=MODEL_FIELDS)
    assert response.status_code == 200
    assert NO_MODEL in response.content.decode()


def test_a_generation_page_is_private_to_its_owner(bob, alice_client: Client) -> None:
    generation = Generation.objects.create(owner=bob, model_name="gpt-image-2", prompt="secret")
    url = reverse("generation", args=[generation.pk])
    assert alice_client.get(url).status_code == 404
    assert alice_client.get(url, headers=HTMX).status_code == 404


def test_a_generation_page_refuses_post(alice, alice_client: Client) -> None:
    generation = Generation.objects.create(owner=alice, model_name="gpt-image-2", prompt="mine")
    assert alice_client.post(reverse("generation", args=[generation.pk])).status_code == 405


@pytest.mark.parametrize(
    ("model", "values", "image_format"),
    [
        (
            "gpt-image-2",
            {"quality": "low", "output_format": "webp", "output_compression": 80},
            "webp",
        ),
        ("doubao-seedream-5-0-260128", {"response_format": "b64_json", "watermark": "on"}, None),
        ("doubao-seedream-4-5-251128", {"response_format": "url", "size": "2K"}, None),
    ],
)
def test_several_images_are_all_saved(
    model: str, values: dict[str, Any], image_format: str | None, alice_client: Client
) -> None:
    data = {"model": model, "prompt": "three small boats", "n": 3, **values}
    data.setdefault("size", "1024x1024" if model.startswith("gpt") else "2048x2048")
    if model.startswith("gpt"):
        data |= {"background": "auto", "moderation": "auto"}
    alice_client.post(URL, data)
    generation = Generation.objects.get()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    assert generation.parameters["n"] == 3
    assert sorted(generation.images.values_list("index", flat=True)) == [0, 1, 2]
    if image_format:
        assert generation.usage["total_tokens"] > 0
        assert set(generation.images.values_list("format", flat=True)) == {image_format}


def test_people_see_only_their_own_recent_generations(
    alice: User, bob: User, alice_client: Client
) -> None:
    Generation.objects.create(owner=bob, model_name="gpt-image-2", prompt="bob's secret")
    Generation.objects.create(owner=alice, model_name="gpt-image-2", prompt="alice's own")
    page = alice_client.get(URL).content.decode()
    assert "alice&#x27;s own" in page
    assert "bob&#x27;s secret" not in page
