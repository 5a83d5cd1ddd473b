"""Parameters a schema marks `advanced` (transport details such as response_format) wait under
the form's closed "Advanced"; the flag is read, checked and kept like any other schema fact."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from imagegen.catalogue import Parameter, schema_errors, shipped_model, shipped_spec
from imagegen.forms import GenerateForm
from imagegen.models import ImageModel, UpstreamModel

pytestmark = pytest.mark.django_db

URL = reverse("generate")
MODEL_FIELDS = {"HX-Request": "true", "HX-Target": "model-fields"}
SIZE = {"name": "size", "kind": "size", "label": "Size", "choices": ["1024x1024"],
        "default": "1024x1024", "send_default": True}  # fmt: skip


def advanced_section(page: str) -> str:
    start = page.index('<details class="advanced-options"')
    return page[start : page.index("</details>", start)]


def test_a_parameter_is_not_advanced_unless_its_schema_says_so() -> None:
    plain = Parameter.from_json({"name": "seed", "kind": "integer"})
    marked = Parameter.from_json({"name": "response_format", "kind": "choice",
                                  "choices": ["url"], "advanced": True})  # fmt: skip
    assert plain.advanced is False
    assert marked.advanced is True


def test_response_format_is_advanced_wherever_it_is_shipped_and_streaming_is_not() -> None:
    for model in ("dall-e-3", "dall-e-2", "doubao-seedream-5-0-260128"):
        spec = shipped_spec(model)
        assert spec.parameter("response_format").advanced, model
        assert [p.name for p in spec.parameters if p.advanced] == ["response_format"], model
    gpt = shipped_spec("gpt-image-2")
    # Streaming changes what the person sees (previews), so it stays in plain view.
    assert not gpt.parameter("stream").advanced
    assert not gpt.parameter("partial_images").advanced


def test_base64_is_the_shipped_default_for_results() -> None:
    spec = shipped_spec("doubao-seedream-5-0-260128")
    assert spec.parameter("response_format").default == "b64_json"


def test_the_checks_accept_the_flag_and_refuse_it_on_reference_images_or_as_text() -> None:
    assert schema_errors(shipped_model("dall-e-3")["schema"]) == []
    images = {"name": "image", "kind": "images", "maximum": 4, "advanced": True}
    assert any("cannot be advanced" in e for e in schema_errors({"parameters": [SIZE, images]}))
    wrong = {**SIZE, "advanced": "yes"}
    assert any("advanced" in e for e in schema_errors({"parameters": [wrong]}))


def test_advanced_controls_are_apart_and_the_rest_are_not() -> None:
    form = GenerateForm(initial={"model": "doubao-seedream-5-0-260128"})
    controls = form.model_controls()
    assert [c.field.name for c in controls.advanced] == ["response_format"]
    assert "response_format" not in [c.field.name for c in controls.basic]
    assert not controls.advanced_open


def test_the_page_draws_them_in_a_closed_details_named_advanced(alice_client: Client) -> None:
    response = alice_client.get(URL, {"model": "doubao-seedream-5-0-260128"}, headers=MODEL_FIELDS)
    page = response.content.decode()
    section = advanced_section(page)
    assert section.startswith('<details class="advanced-options">')  # closed
    assert "<summary>Advanced</summary>" in section
    assert ">Response format</label>" in section
    assert '<option value="b64_json" selected>Base64</option>' in section
    assert ">Watermark</label>" not in section and ">Watermark</label>" in page


def test_a_model_with_nothing_advanced_draws_no_details(alice_client: Client) -> None:
    page = alice_client.get(URL, {"model": "gpt-image-2"}).content.decode()
    assert "advanced-options" not in page


def test_an_error_on_an_advanced_field_opens_it(alice_client: Client) -> None:
    data = {"model": "doubao-seedream-5-0-260128", "prompt": "a fox", "size": "2K",
            "response_format": "png"}  # fmt: skip
    page = alice_client.post(URL, data).content.decode()
    section = advanced_section(page)
    assert section.startswith('<details class="advanced-options" open>')
    assert 'aria-invalid="true"' in section
    assert 'class="error" id="id_response_format_error_1"' in section


def test_only_when_still_reads_an_advanced_field(alice_client: Client) -> None:
    """A field that applies only with a chosen response format keeps its condition inside."""
    model = ImageModel.objects.create(
        name="house-model", label="House", family="other", position=1,
        schema={"parameters": [
            SIZE,
            {"name": "response_format", "kind": "choice", "label": "Response format",
             "choices": ["url", "b64_json"], "default": "url", "advanced": True},
            {"name": "link_hours", "kind": "integer", "label": "Link lifetime",
             "minimum": 1, "maximum": 24, "advanced": True,
             "only_when": {"response_format": ["url"]}},
        ], "rules": []},
    )  # fmt: skip
    model.full_clean()
    UpstreamModel.objects.create(name="house-model", offered=True)
    page = alice_client.get(URL, {"model": "house-model"}).content.decode()
    section = advanced_section(page)
    assert 'data-only-when="{&quot;response_format&quot;: [&quot;url&quot;]}"' in section


def test_a_chosen_advanced_value_is_sent(alice_client: Client) -> None:
    from imagegen.models import Generation

    data: dict[str, Any] = {"model": "doubao-seedream-5-0-260128", "prompt": "a fox",
                            "size": "2K", "response_format": "url", "watermark": "on",
                            "n": 1}  # fmt: skip
    alice_client.post(URL, data)
    assert Generation.objects.get().parameters["response_format"] == "url"
