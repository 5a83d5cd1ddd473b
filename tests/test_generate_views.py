"""The generate page and the generation page, end to end through the offline provider."""

import pytest
from django.test import Client
from django.urls import reverse

from gallery.models import Image
from imagegen.models import Generation

URL = reverse("generate")


def test_signed_out_people_are_sent_to_sign_in(client: Client, db) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_page_shows_the_default_model_and_its_fields(alice_client: Client) -> None:
    page = alice_client.get(URL).content.decode()
    assert '<option value="dall-e-3" selected>' in page
    for label in ("Model", "Prompt", "Size", "Quality", "Style", "Response format"):
        assert f">{label}</label>" in page
    assert "Number of images" not in page
    assert "Offline provider" in page


def test_changing_the_model_swaps_in_only_that_models_fields(alice_client: Client) -> None:
    response = alice_client.get(
        URL, {"model": "gpt-image-1"}, headers={"HX-Request": "true", "HX-Target": "model-fields"}
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<fieldset id="model-fields"')
    assert "<html" not in page
    for label in (
        "Size",
        "Number of images",
        "Quality",
        "Output format",
        "Compression",
        "Background",
        "Moderation",
        "Stream partial previews",
    ):
        assert f">{label}</label>" in page
    assert "Style" not in page and "Response format" not in page


def test_without_javascript_the_change_model_button_rerenders_the_form(alice_client) -> None:
    response = alice_client.post(
        URL, {"model": "qwen-image", "prompt": "kept text", "switch_model": "1"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "kept text" in page
    assert "Options for Qwen Image" in page
    assert not Generation.objects.exists()


def test_a_valid_request_generates_and_saves_the_image(alice, alice_client: Client) -> None:
    response = alice_client.post(
        URL,
        {
            "model": "dall-e-3",
            "prompt": "a lighthouse at dusk",
            "size": "1024x1024",
            "quality": "hd",
            "style": "natural",
            "response_format": "url",
        },
    )
    generation = Generation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("generation", args=[generation.pk])
    assert generation.owner == alice
    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    assert generation.parameters == {
        "n": 1,
        "size": "1024x1024",
        "quality": "hd",
        "style": "natural",
        "response_format": "url",
    }
    assert generation.request_id
    image = Image.objects.get()
    assert (image.owner, image.width, image.height) == (alice, 1024, 1024)
    assert image.revised_prompt
    page = alice_client.get(response["Location"]).content.decode()
    assert reverse("image_thumbnail", args=[image.uuid]) in page


def test_an_htmx_request_returns_the_panel_with_the_result(alice_client: Client) -> None:
    response = alice_client.post(
        URL,
        {"model": "qwen-image", "prompt": "a paper crane", "size": "1328x1328"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="generate-layout"')
    generation = Generation.objects.get()
    assert f'id="generation-{generation.pk}"' in page
    assert "a paper crane" in page
    assert Image.objects.get().model_name == "qwen-image"


def test_invalid_input_shows_inline_errors_and_sends_nothing(alice_client: Client) -> None:
    response = alice_client.post(
        URL,
        {
            "model": "gpt-image-1",
            "prompt": "a glass bird",
            "size": "1024x1024",
            "n": 1,
            "quality": "auto",
            "output_format": "jpeg",
            "background": "transparent",
            "moderation": "auto",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "A transparent background needs PNG or WebP output." in page
    assert "a glass bird" in page  # nothing typed is lost
    assert not Generation.objects.exists()


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


def test_remix_prefills_the_form_from_a_generation(alice, alice_client: Client) -> None:
    generation = Generation.objects.create(
        owner=alice,
        model_name="dall-e-2",
        prompt="a tin robot",
        parameters={"n": 3, "size": "512x512", "response_format": "b64_json"},
    )
    page = alice_client.get(URL, {"remix": generation.pk}).content.decode()
    assert '<option value="dall-e-2" selected>' in page
    assert "a tin robot" in page
    assert '<option value="512x512" selected>' in page
    assert 'value="3"' in page


def test_remix_of_another_persons_generation_is_not_found(bob, alice_client: Client) -> None:
    generation = Generation.objects.create(owner=bob, model_name="dall-e-2", prompt="secret")
    assert alice_client.get(URL, {"remix": generation.pk}).status_code == 404
    assert alice_client.get(URL, {"remix": "not-a-uuid"}).status_code == 404


def test_a_generation_page_is_private_to_its_owner(bob, alice_client: Client) -> None:
    generation = Generation.objects.create(owner=bob, model_name="dall-e-2", prompt="secret")
    url = reverse("generation", args=[generation.pk])
    assert alice_client.get(url).status_code == 404


def test_a_generation_page_refuses_post(alice, alice_client: Client) -> None:
    generation = Generation.objects.create(owner=alice, model_name="dall-e-2", prompt="mine")
    assert alice_client.post(reverse("generation", args=[generation.pk])).status_code == 405


@pytest.mark.parametrize("model", ["dall-e-2", "gpt-image-1-mini", "gpt-image-1.5"])
def test_several_images_are_all_saved(model: str, alice_client: Client) -> None:
    data = {"model": model, "prompt": "three small boats", "size": "1024x1024", "n": 3}
    if model == "dall-e-2":
        data["response_format"] = "b64_json"
    else:
        data |= {
            "quality": "low",
            "output_format": "webp",
            "background": "auto",
            "moderation": "auto",
            "output_compression": 80,
        }
    alice_client.post(URL, data)
    generation = Generation.objects.get()
    assert generation.status == Generation.Status.SUCCEEDED, generation.error_message
    assert sorted(generation.images.values_list("index", flat=True)) == [0, 1, 2]
    if model != "dall-e-2":
        assert generation.usage["total_tokens"] > 0
        assert set(generation.images.values_list("format", flat=True)) == {"webp"}
