"""The offline provider, driven through a real httpx client as the service drives CometAPI."""

import base64
import binascii
import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from PIL import Image, UnidentifiedImageError

from imagegen.catalogue import ModelSpec
from imagegen.models import ImageModel
from imagegen.offline import FAULT_NAMES, RETIRED, OfflineProvider, parse_generation

# The provider reads each model's schema from the catalogue's rows (else the shipped data).
pytestmark = pytest.mark.django_db

API = "https://api.cometapi.com/v1"
PROMPT = "A lighthouse on a cliff at dawn"
GPT = {"model": "gpt-image-2", "prompt": PROMPT}
FLARE = {"model": "gpt-image-2.6-flare", "prompt": PROMPT}
SEEDREAM = {"model": "doubao-seedream-5-0-260128", "prompt": PROMPT}
QWEN = {"model": "qwen-image", "prompt": PROMPT}
# Small and quick: a base64 result at gpt-image-2's fewest pixels, and a URL result at Seedream's.
SMALL = GPT | {"size": "1024x640"}
SMALL_URL = SEEDREAM | {"size": "1280x720", "response_format": "url"}
REFERENCE = "https://example.org/reference.png"

# A model an administrator adds that rewrites prompts, as DALL·E 3 did (no current model does).
REVISING_MODEL: dict[str, Any] = {
    "name": "house-painter-1",
    "label": "House Painter",
    "family": "other",
    "prompt_max_length": 4000,
    "max_images": 1,
    "result_kind": "url",
    "returns_revised_prompt": True,
    "schema": {
        "parameters": [
            {"name": "size", "kind": "size", "label": "Size", "choices": ["1024x1024", "1792x1024"],
             "default": "1024x1024", "send_default": True},
            {"name": "style", "kind": "choice", "label": "Style", "choices": ["vivid", "natural"],
             "default": "vivid", "send_default": True},
            {"name": "response_format", "kind": "choice", "label": "Response format",
             "choices": ["url", "b64_json"], "default": "url", "send_default": True},
        ],
        "rules": [],
    },
}  # fmt: skip
REVISING = {"model": REVISING_MODEL["name"], "prompt": PROMPT}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def client_for(provider: OfflineProvider, base_url: str = API) -> httpx.Client:
    return httpx.Client(transport=provider, base_url=base_url)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with client_for(OfflineProvider(latency=0)) as client:
        yield client


@pytest.fixture
def revising_model() -> ImageModel:
    model = ImageModel(**REVISING_MODEL)
    model.full_clean()
    model.save()
    return model


def generate(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/images/generations", json=body)


def decode(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))
    image.load()
    return image


def error_of(response: httpx.Response) -> dict[str, Any]:
    return response.json()["error"]


def read_events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) pairs, checking that every block ends with a blank line."""
    text = response.read().decode()
    assert text.endswith("\n\n")
    events = []
    for block in text.strip("\n").split("\n\n"):
        name_line, data_line = block.split("\n")
        events.append(
            (name_line.removeprefix("event: "), json.loads(data_line.removeprefix("data: ")))
        )
    return events


# Success shapes


def test_a_model_that_revises_prompts_returns_a_url_and_a_revised_prompt_by_default(
    client: httpx.Client, revising_model: ImageModel
) -> None:
    response = generate(client, **REVISING)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"created", "data"}
    [item] = body["data"]
    assert item["url"].startswith(f"{API}/offline-files/")
    assert PROMPT in item["revised_prompt"]


def test_a_model_that_revises_prompts_returns_base64_when_asked(
    client: httpx.Client, revising_model: ImageModel
) -> None:
    body = generate(client, **REVISING, response_format="b64_json").json()

    [item] = body["data"]
    assert set(item) == {"b64_json", "revised_prompt"}
    assert decode(item["b64_json"]).size == (1024, 1024)


def test_the_revised_prompt_follows_the_chosen_style(
    client: httpx.Client, revising_model: ImageModel
) -> None:
    body = generate(client, **REVISING, style="natural", response_format="b64_json").json()

    assert "natural" in body["data"][0]["revised_prompt"]


def test_parse_generation_reads_a_model_from_the_finder_it_is_given() -> None:
    spec = ModelSpec.from_schema(
        REVISING_MODEL["schema"],
        name="sketch-1",
        label="Sketch",
        family="other",
        prompt_max_length=100,
        max_images=1,
        result_kind="url",
        returns_revised_prompt=True,
    )

    generation = parse_generation({"model": "sketch-1", "prompt": PROMPT}, {"sketch-1": spec}.get)

    assert generation.spec is spec
    assert (generation.width, generation.height, generation.response_format) == (1024, 1024, "url")
    assert PROMPT in generation.revised_prompt()
    assert "vivid" in generation.revised_prompt()


@pytest.mark.parametrize("model", ["doubao-seedream-5-0-260128", "doubao-seedream-4-5-251128"])
def test_seedream_returns_a_url_by_default_without_a_revised_prompt(
    client: httpx.Client, model: str
) -> None:
    body = generate(client, model=model, prompt=PROMPT, size="1280x720").json()

    [item] = body["data"]
    assert item["url"].startswith(f"{API}/offline-files/")
    assert "b64_json" not in item
    assert "revised_prompt" not in item
    assert Image.open(io.BytesIO(client.get(item["url"]).content)).size == (1280, 720)


def test_seedream_returns_base64_when_asked(client: httpx.Client) -> None:
    body = generate(client, **SMALL_URL | {"response_format": "b64_json"}).json()

    [item] = body["data"]
    assert set(item) == {"b64_json", "size"}
    assert decode(item["b64_json"]).size == (1280, 720)
    # As api.md §1 has it: each image's size, the images made in the usage, the model.
    assert item["size"] == "1280x720"
    assert body["usage"] == {"generated_images": 1, "output_tokens": 3600, "total_tokens": 3600}
    assert body["model"] == SMALL_URL["model"]


def test_seedream_draws_its_named_2k_size_at_2048_pixels_square(client: httpx.Client) -> None:
    body = generate(client, **SEEDREAM, size="2K", response_format="b64_json").json()

    assert decode(body["data"][0]["b64_json"]).size == (2048, 2048)


def test_seedream_takes_reference_images_and_several_outputs_up_to_fifteen_in_all(
    client: httpx.Client,
) -> None:
    body = SMALL_URL | {"response_format": "b64_json", "image": [REFERENCE] * 12, "n": 3}

    response = generate(client, **body)

    assert response.status_code == 200
    assert len(response.json()["data"]) == 3


def test_gpt_image_2_returns_several_different_images_without_a_revised_prompt(
    client: httpx.Client,
) -> None:
    body = generate(client, **SMALL, n=3).json()

    images = [item["b64_json"] for item in body["data"]]
    assert len(set(images)) == 3
    assert all(set(item) == {"b64_json"} for item in body["data"])
    assert all(decode(image).size == (1024, 640) for image in images)


def test_gpt_image_returns_base64_with_auto_settings_resolved_and_usage(
    client: httpx.Client,
) -> None:
    body = generate(client, **GPT).json()

    assert decode(body["data"][0]["b64_json"]).format == "PNG"
    assert body["background"] == "opaque"
    assert body["output_format"] == "png"
    assert body["quality"] == "medium"
    assert body["size"] == "1024x1024"
    usage = body["usage"]
    assert usage["output_tokens"] == 1056
    assert usage["input_tokens"] == usage["input_tokens_details"]["text_tokens"] > 0
    assert usage["input_tokens_details"]["image_tokens"] == 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


@pytest.mark.parametrize(
    ("fmt", "pillow_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")]
)
def test_gpt_image_draws_each_output_format_at_the_requested_size(
    client: httpx.Client, fmt: str, pillow_format: str
) -> None:
    body = generate(
        client, model="gpt-image-2.5-sunburst", prompt=PROMPT, size="1536x1024", output_format=fmt
    ).json()

    image = decode(body["data"][0]["b64_json"])
    assert (image.format, image.size) == (pillow_format, (1536, 1024))
    assert body["output_format"] == fmt


def test_gpt_image_2_accepts_a_custom_size(client: httpx.Client) -> None:
    body = generate(client, **GPT, size="1024x688").json()

    assert decode(body["data"][0]["b64_json"]).size == (1024, 688)
    assert body["size"] == "1024x688"


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_a_transparent_background_has_transparent_pixels(client: httpx.Client, fmt: str) -> None:
    body = generate(client, **GPT, background="transparent", output_format=fmt).json()

    image = decode(body["data"][0]["b64_json"])
    assert image.mode == "RGBA"
    assert image.getchannel("A").getextrema()[0] == 0
    assert body["background"] == "transparent"


def test_output_compression_sets_the_jpeg_quality(client: httpx.Client) -> None:
    def jpeg(compression: int) -> bytes:
        body = generate(client, **GPT, output_format="jpeg", output_compression=compression).json()
        return base64.b64decode(body["data"][0]["b64_json"])

    assert len(jpeg(10)) < len(jpeg(90))


@pytest.mark.parametrize(
    ("quality", "size", "tokens"),
    [("low", "1024x1024", 272), ("high", "1024x1024", 4160), ("high", "1536x1024", 6240)],
)
def test_output_tokens_follow_quality_and_area(
    client: httpx.Client, quality: str, size: str, tokens: int
) -> None:
    body = generate(client, model="gpt-image-2.5-flare", prompt=PROMPT, quality=quality, size=size)

    assert body.json()["usage"]["output_tokens"] == tokens


def test_qwen_image_returns_a_url_to_a_png_of_its_size(client: httpx.Client) -> None:
    body = generate(client, **QWEN, size="1664x928").json()

    file = client.get(body["data"][0]["url"])
    assert file.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(file.content)).size == (1664, 928)


@pytest.mark.parametrize("model", ["gpt-image-2-2026-04-21", "gpt-image-3"])
def test_an_unknown_gpt_image_model_follows_gpt_image_2_rules(
    client: httpx.Client, model: str
) -> None:
    accepted = generate(client, model=model, prompt=PROMPT, size="688x1024")
    refused = generate(client, model=model, prompt=PROMPT, output_format="gif")

    assert accepted.status_code == 200
    assert decode(accepted.json()["data"][0]["b64_json"]).size == (688, 1024)
    assert (refused.status_code, error_of(refused)["param"]) == (400, "output_format")


def test_the_same_prompt_gives_the_same_bytes_and_another_prompt_does_not(
    client: httpx.Client,
) -> None:
    first = generate(client, **SMALL).json()["data"][0]["b64_json"]
    again = generate(client, **SMALL).json()["data"][0]["b64_json"]
    other = generate(client, **SMALL | {"prompt": "A boat"}).json()["data"][0]["b64_json"]

    assert first == again
    assert first != other


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/images/generations", SMALL),
        ("POST", "/images/generations", {"model": "gpt-image-2"}),
        ("POST", "/images/generations", {"model": "dall-e-3", "prompt": PROMPT}),
        ("GET", "/models", None),
        ("GET", "/offline-files/forged.png", None),
    ],
)
def test_every_response_carries_a_request_id(
    client: httpx.Client, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = client.request(method, path, json=body)

    assert response.headers["x-request-id"].startswith("req_")


def test_request_ids_differ_between_requests(client: httpx.Client) -> None:
    assert (
        client.get("/models").headers["x-request-id"]
        != client.get("/models").headers["x-request-id"]
    )


# Refused requests


@pytest.mark.parametrize(
    ("body", "param", "code", "message"),
    [
        ({"model": "gpt-image-2"}, "prompt", "missing_required_parameter", "Missing required"),
        (GPT | {"prompt": " "}, "prompt", "empty_string", "empty string"),
        (QWEN | {"prompt": "x" * 801}, "prompt", "string_above_max_length", "800"),
        (SEEDREAM | {"prompt": "x" * 1001}, "prompt", "string_above_max_length", "1000"),
        (QWEN | {"n": 2}, "n", None, "does not support n > 1"),
        (GPT | {"n": 11}, "n", "integer_above_max_value", "<= 10"),
        (SEEDREAM | {"n": 16}, "n", "integer_above_max_value", "<= 15"),
        (GPT | {"n": 0}, "n", "integer_below_min_value", ">= 1"),
        (GPT | {"n": "2"}, "n", "invalid_type", "expected an integer"),
        (GPT | {"n": True}, "n", "invalid_type", "expected an integer"),
        (QWEN | {"size": "1024x1024"}, "size", "invalid_value", "1328x1328"),
        (GPT | {"size": "banana"}, "size", "invalid_value", "1024x1536"),
        (GPT | {"size": "1000x1000"}, "size", None, "multiples of 16"),
        (GPT | {"size": "4096x1024"}, "size", None, "exceed 3840"),
        (GPT | {"size": "2K"}, "size", "invalid_value", ""),
        (SEEDREAM | {"size": "8192x8192"}, "size", None, "exceed 4096"),
        (SEEDREAM | {"size": "1000x700"}, "size", None, "921,600"),
        (GPT | {"response_format": "url"}, "response_format", "unknown_parameter", ""),
        (GPT | {"style": "vivid"}, "style", "unknown_parameter", "Unknown parameter: 'style'."),
        (SEEDREAM | {"style": "vivid"}, "style", "unknown_parameter", ""),
        (GPT | {"output_compression": 50}, "output_compression", "invalid_value", "JPEG or WebP"),
        (GPT | {"output_format": "png", "output_compression": 50}, "output_compression", None, ""),
        (
            GPT | {"output_format": "jpeg", "output_compression": 101},
            "output_compression",
            "integer_above_max_value",
            "<= 100",
        ),
        (GPT | {"output_format": "jpeg", "background": "transparent"}, "background", None, "PNG"),
        (SEEDREAM | {"stream": True}, "stream", "unknown_parameter", ""),
        (QWEN | {"quality": "hd"}, "quality", "unknown_parameter", ""),
        (GPT | {"stream": True, "partial_images": 4}, "partial_images", None, "<= 3"),
        (GPT | {"stream": "yes"}, "stream", "invalid_type", "boolean"),
        # The schema's rule "stream needs n=1" blames the parameter that sets it off.
        (GPT | {"stream": True, "n": 2}, "stream", "invalid_value", "Number of images is 1"),
        (GPT | {"quality": "ultra"}, "quality", "invalid_value", "'ultra'"),
        (GPT | {"quality": "xhigh"}, "quality", "invalid_value", "'xhigh'"),
        (FLARE | {"complexity": "extreme"}, "complexity", "invalid_value", "'extreme'"),
        (GPT | {"moderation": "none"}, "moderation", "invalid_value", ""),
        (GPT | {"output_format": "gif"}, "output_format", "invalid_value", ""),
        (GPT | {"background": "clear"}, "background", "invalid_value", ""),
        (GPT | {"seed": 7}, "seed", "unknown_parameter", "Unknown parameter: 'seed'."),
        (GPT | {"complexity": "low"}, "complexity", "unknown_parameter", ""),
        ({"prompt": PROMPT}, "model", "missing_required_parameter", "'model'"),
        (FLARE | {"output_format": "gif", "stream": True}, "output_format", None, "Stream"),
        (FLARE | {"output_format": "svg", "n": 2}, "output_format", None, "Number of images is 1"),
        (FLARE | {"frame_count": 3}, "frame_count", "invalid_value", "GIF"),
        (FLARE | {"output_format": "gif", "frame_count": 17}, "frame_count", None, "<= 16"),
        (FLARE | {"output_format": "gif", "frame_count": 1}, "frame_count", None, ">= 2"),
        (
            FLARE | {"output_format": "gif", "frame_duration_ms": 10},
            "frame_duration_ms",
            "integer_below_min_value",
            ">= 20",
        ),
        (SEEDREAM | {"watermark": "yes"}, "watermark", "invalid_type", "boolean"),
        (SEEDREAM | {"guidance_scale": 11}, "guidance_scale", None, "<= 10"),
        (SEEDREAM | {"guidance_scale": "5"}, "guidance_scale", "invalid_type", ""),
        (SEEDREAM | {"seed": -1}, "seed", "integer_below_min_value", ">= 0"),
        (SEEDREAM | {"seed": 1.5}, "seed", "invalid_type", "expected an integer"),
        (SEEDREAM | {"image": REFERENCE}, "image", "invalid_type", "array"),
        (SEEDREAM | {"image": [REFERENCE] * 15}, "image", None, "14"),
        (SEEDREAM | {"image": [REFERENCE] * 10, "n": 6}, "n", "invalid_value", "15"),
        (SEEDREAM | {"response_format": "png"}, "response_format", "invalid_value", "'b64_json'"),
    ],
)
def test_it_refuses_what_the_real_endpoint_refuses(
    client: httpx.Client, body: dict[str, Any], param: str, code: str | None, message: str
) -> None:
    response = generate(client, **body)

    assert response.status_code == 400
    assert list(response.json()) == ["error"]
    error = error_of(response)
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    if code:
        assert error["code"] == code
    assert isinstance(error["code"], str)
    assert message in error["message"]


def test_it_refuses_n_above_one_for_qwen_image_with_comets_message(client: httpx.Client) -> None:
    response = generate(client, **QWEN, n=2)

    assert error_of(response)["message"] == "qwen-image does not support n > 1"


def test_it_asks_for_n_equal_to_one_from_another_model_that_makes_one_image(
    client: httpx.Client, revising_model: ImageModel
) -> None:
    response = generate(client, **REVISING, n=2)

    assert response.status_code == 400
    assert error_of(response) == {
        "message": "You must provide n=1 for this model.",
        "type": "invalid_request_error",
        "param": "n",
        "code": "invalid_value",
    }


def test_it_refuses_a_value_outside_the_choices_of_a_model_an_administrator_added(
    client: httpx.Client, revising_model: ImageModel
) -> None:
    response = generate(client, **REVISING, style="pastel")

    assert response.status_code == 400
    assert error_of(response) == {
        "message": "Invalid value: 'pastel'. Supported values are: 'vivid', 'natural'.",
        "type": "invalid_request_error",
        "param": "style",
        "code": "invalid_value",
    }


def test_it_answers_an_unknown_model_with_404_model_not_found(client: httpx.Client) -> None:
    response = generate(client, model="midjourney", prompt=PROMPT)

    assert response.status_code == 404
    assert error_of(response)["code"] == "model_not_found"


@pytest.mark.parametrize("model", sorted(RETIRED))
def test_it_answers_a_retired_model_with_openais_404_model_not_found(
    client: httpx.Client, model: str
) -> None:
    # The catalogue keeps the row (past jobs name it); the upstream no longer serves it.
    assert ImageModel.objects.filter(name=model).exists()

    response = generate(client, model=model, prompt=PROMPT)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"].startswith("req_")
    assert response.json() == {
        "error": {
            "message": f"The model `{model}` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }


def test_the_retired_models_are_the_five_openai_shut_down() -> None:
    names = ["dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"]

    assert sorted(RETIRED) == names


def test_a_retired_model_is_not_found_before_its_old_parameters_are_checked(
    client: httpx.Client,
) -> None:
    response = generate(client, model="dall-e-3", prompt=PROMPT, style="vivid", n=5)

    assert (response.status_code, error_of(response)["code"]) == (404, "model_not_found")


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"{not json", "application/json", "could not parse the JSON body"),
        (b"[1, 2]", "application/json", "must be a JSON object"),
        (b"model=gpt-image-2", "application/x-www-form-urlencoded", "Unsupported content type"),
    ],
)
def test_it_refuses_a_body_that_is_not_a_json_object(
    client: httpx.Client, content: bytes, content_type: str, message: str
) -> None:
    response = client.post(
        "/images/generations", content=content, headers={"content-type": content_type}
    )

    assert response.status_code == 400
    assert message in error_of(response)["message"]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/images/generations"), ("POST", "/images/generate")]
)
def test_a_wrong_path_gets_an_html_page_like_cometapi_sends(
    client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path, json=SMALL)

    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!doctype html>")


# What the newer models return


def test_a_gpt_image_2_6_model_returns_an_animated_gif_of_the_requested_frames(
    client: httpx.Client,
) -> None:
    body = {"model": "gpt-image-2.6-flare", "prompt": PROMPT, "output_format": "gif"}
    response = generate(client, **body, frame_count=4, frame_duration_ms=100)

    image = decode(response.json()["data"][0]["b64_json"])
    assert (image.format, image.n_frames, image.info["duration"]) == ("GIF", 4, 100)


def test_a_gpt_image_2_6_model_returns_an_svg_document(client: httpx.Client) -> None:
    body = {"model": "gpt-image-2.6-sunburst", "prompt": PROMPT, "output_format": "svg"}
    response = generate(client, **body)

    svg = base64.b64decode(response.json()["data"][0]["b64_json"])
    assert svg.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<svg ')


def test_a_seedream_url_result_is_redrawn_with_its_seed_and_watermark(
    client: httpx.Client,
) -> None:
    body = {"model": "doubao-seedream-5-0-260128", "prompt": PROMPT, "response_format": "url"}

    def fetched(**options: Any) -> bytes:
        return client.get(generate(client, **body | options).json()["data"][0]["url"]).content

    seeded = fetched(seed=5, watermark=True)
    assert seeded == fetched(seed=5, watermark=True)
    assert seeded != fetched(seed=6, watermark=True)
    assert seeded != fetched(seed=5, watermark=False)


# URL results


def test_a_url_result_serves_the_image_on_the_same_transport() -> None:
    with client_for(OfflineProvider(latency=0)) as client:
        url = generate(client, **SMALL_URL).json()["data"][0]["url"]
        file = client.get(url)
        again = client.get(url)

    assert file.status_code == 200
    assert file.headers["content-type"] == "image/png"
    assert file.headers["x-request-id"].startswith("req_")
    assert Image.open(io.BytesIO(file.content)).size == (1280, 720)
    assert file.content == again.content


def test_a_url_result_keeps_the_host_and_path_prefix_of_the_request() -> None:
    with client_for(OfflineProvider(latency=0), "http://localhost:9000/proxy/v1") as client:
        url = generate(client, **QWEN).json()["data"][0]["url"]

    assert url.startswith("http://localhost:9000/proxy/v1/offline-files/")
    assert url.endswith(".png")


def test_a_url_result_expires_after_its_lifetime_with_a_bucket_style_403() -> None:
    clock = Clock()
    with client_for(OfflineProvider(latency=0, url_lifetime=60, clock=clock)) as client:
        url = generate(client, **SMALL_URL).json()["data"][0]["url"]
        clock.now += 59
        fresh = client.get(url)
        clock.now += 1
        stale = client.get(url)

    assert fresh.status_code == 200
    assert stale.status_code == 403
    assert stale.headers["content-type"] == "application/xml"
    assert "<Code>AccessDenied</Code>" in stale.text


def test_a_forged_url_gets_a_403(client: httpx.Client) -> None:
    url = generate(client, **SMALL_URL).json()["data"][0]["url"]
    token, _, signature = url.rpartition(":")

    response = client.get(f"{token}:{'A' * len(signature)}")

    assert response.status_code == 403
    assert "SignatureDoesNotMatch" in response.text


def test_a_url_with_the_wrong_extension_gets_a_404(client: httpx.Client) -> None:
    url = generate(client, **SMALL_URL).json()["data"][0]["url"]

    assert client.get(url.removesuffix(".png") + ".jpeg").status_code == 404


# Streaming

STREAM = GPT | {"stream": True, "size": "1024x1024"}


def test_a_stream_sends_each_partial_then_the_completed_image(client: httpx.Client) -> None:
    with client.stream("POST", "/images/generations", json=STREAM | {"partial_images": 2}) as r:
        assert r.headers["content-type"] == "text/event-stream"
        events = read_events(r)

    names = [name for name, _ in events]
    assert names == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    partials = [data for _, data in events[:2]]
    assert [data["partial_image_index"] for data in partials] == [0, 1]
    for name, data in events:
        assert data["type"] == name
        assert {"b64_json", "created_at", "size", "quality", "background", "output_format"} <= set(
            data
        )
        assert decode(data["b64_json"]).size == (1024, 1024)
    completed = events[-1][1]
    assert completed["usage"]["output_tokens"] == 1056
    assert "partial_image_index" not in completed
    assert completed["b64_json"] not in {data["b64_json"] for data in partials}


def test_a_stream_without_partial_images_sends_only_the_completed_image(
    client: httpx.Client,
) -> None:
    with client.stream("POST", "/images/generations", json=STREAM) as response:
        events = read_events(response)

    assert [name for name, _ in events] == ["image_generation.completed"]


def test_a_stream_with_zero_partial_images_sends_only_the_completed_image(
    client: httpx.Client,
) -> None:
    with client.stream("POST", "/images/generations", json=STREAM | {"partial_images": 0}) as r:
        events = read_events(r)

    assert [name for name, _ in events] == ["image_generation.completed"]


def test_streamed_partials_reach_the_client_before_the_final_image_is_made() -> None:
    log: list[str] = []
    provider = OfflineProvider(latency=3, sleep=lambda seconds: log.append(f"sleep {seconds}"))
    with (
        client_for(provider) as client,
        client.stream("POST", "/images/generations", json=STREAM | {"partial_images": 2}) as r,
    ):
        for line in r.iter_lines():
            if line.startswith("event: "):
                log.append(line.removeprefix("event: image_generation."))

    assert log == [
        "sleep 1.0",
        "partial_image",
        "sleep 1.0",
        "partial_image",
        "sleep 1.0",
        "completed",
    ]


# Latency


def test_a_generation_sleeps_the_latency_once() -> None:
    sleeps: list[float] = []
    with client_for(OfflineProvider(latency=2.5, sleep=sleeps.append)) as client:
        url = generate(client, **SMALL_URL | {"n": 2}).json()["data"][0]["url"]
        client.get(url)

    assert sleeps == [2.5]


def test_latency_defaults_to_the_offline_latency_setting(settings: Any) -> None:
    settings.OFFLINE_LATENCY = 0.25
    sleeps: list[float] = []
    with client_for(OfflineProvider(sleep=sleeps.append)) as client:
        generate(client, **SMALL)

    assert sleeps == [0.25]


def test_zero_latency_does_not_sleep() -> None:
    sleeps: list[float] = []
    with client_for(OfflineProvider(latency=0, sleep=sleeps.append)) as client:
        generate(client, **SMALL)

    assert sleeps == []


# Faults


@pytest.mark.parametrize(
    ("fault", "status", "error_type", "code"),
    [
        ("moderation_blocked", 400, "image_generation_user_error", "moderation_blocked"),
        ("content_policy_violation", 400, "invalid_request_error", "content_policy_violation"),
        ("unauthorized", 401, "invalid_request_error", "invalid_api_key"),
        ("forbidden", 403, "request_forbidden", "unsupported_country_region_territory"),
        ("model_not_found", 404, "invalid_request_error", "model_not_found"),
        ("rate_limit", 429, "requests", "rate_limit_exceeded"),
        ("insufficient_quota", 429, "insufficient_quota", "insufficient_quota"),
        ("server_error", 500, "server_error", None),
        ("bad_gateway", 502, "cf_bad_gateway", 502),
        ("unavailable", 503, "server_error", "server_is_overloaded"),
        ("comet_invalid_request", 500, "comet_api_error", "invalid_request"),
    ],
)
def test_a_fault_answers_with_the_upstream_error(
    fault: str, status: int, error_type: str, code: str | int | None
) -> None:
    with client_for(OfflineProvider(latency=0, faults=[fault])) as client:
        response = generate(client, **SMALL)

    assert response.status_code == status
    assert response.headers["x-request-id"].startswith("req_")
    error = error_of(response)
    assert (error["type"], error["code"]) == (error_type, code)
    assert error["message"]


def test_moderation_blocked_lists_the_safety_violations() -> None:
    with client_for(OfflineProvider(latency=0, faults=["moderation_blocked"])) as client:
        error = error_of(generate(client, **GPT))

    assert error["message"].startswith("Your request was rejected by the safety system.")
    assert "safety_violations=[" in error["message"]
    assert error["param"] is None


def test_rate_limit_says_when_to_retry_and_insufficient_quota_does_not() -> None:
    with client_for(OfflineProvider(latency=0, faults=["rate_limit", "insufficient_quota"])) as c:
        limited = generate(c, **SMALL)
        broke = generate(c, **SMALL)

    assert limited.headers["retry-after"] == "1"
    assert limited.headers["retry-after-ms"] == "10"
    assert "retry-after" not in broke.headers


def test_comet_invalid_request_carries_its_request_id_in_the_message() -> None:
    with client_for(OfflineProvider(latency=0, faults=["comet_invalid_request"])) as client:
        error = error_of(generate(client, **SMALL))

    assert "(request id: 20" in error["message"]
    assert error["param"] == ""


@pytest.mark.parametrize(
    ("fault", "status", "content_type"),
    [
        ("gateway_timeout", 504, "text/html"),
        ("html", 200, "text/html"),
        ("not_json", 200, "text/plain"),
    ],
)
def test_a_fault_can_answer_with_a_body_that_is_not_json(
    fault: str, status: int, content_type: str
) -> None:
    with client_for(OfflineProvider(latency=0, faults=[fault])) as client:
        response = generate(client, **SMALL)

    assert response.status_code == status
    assert response.headers["content-type"].startswith(content_type)
    with pytest.raises(ValueError):
        response.json()


@pytest.mark.parametrize(
    ("fault", "exception"),
    [("timeout", httpx.ReadTimeout), ("connection_error", httpx.ConnectError)],
)
def test_a_transport_fault_raises_the_httpx_error(
    fault: str, exception: type[httpx.TransportError]
) -> None:
    with client_for(OfflineProvider(latency=0, faults=[fault])) as client, pytest.raises(exception):
        generate(client, **SMALL)


def test_no_data_answers_200_without_data() -> None:
    with client_for(OfflineProvider(latency=0, faults=["no_data"])) as client:
        response = generate(client, **SMALL)

    assert response.status_code == 200
    assert "data" not in response.json()


def test_bad_base64_sends_b64_json_that_does_not_decode_even_for_a_url_model() -> None:
    with client_for(OfflineProvider(latency=0, faults=["bad_base64"])) as client:
        [item] = generate(client, **QWEN).json()["data"]

    with pytest.raises(binascii.Error):
        base64.b64decode(item["b64_json"], validate=True)


def test_not_an_image_sends_base64_of_bytes_that_are_no_image() -> None:
    with client_for(OfflineProvider(latency=0, faults=["not_an_image"])) as client:
        [item] = generate(client, **GPT).json()["data"]

    with pytest.raises(UnidentifiedImageError):
        decode(item["b64_json"])


def test_not_an_image_behind_a_url_serves_bytes_that_are_no_image() -> None:
    with client_for(OfflineProvider(latency=0, faults=["not_an_image"])) as client:
        url = generate(client, **QWEN).json()["data"][0]["url"]
        file = client.get(url)

    assert file.headers["content-type"] == "image/png"
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(file.content))


def test_expired_url_gives_a_url_that_has_already_expired() -> None:
    with client_for(OfflineProvider(latency=0, faults=["expired_url"])) as client:
        url = generate(client, **QWEN).json()["data"][0]["url"]

        assert client.get(url).status_code == 403


def test_stream_cut_ends_the_stream_after_the_partials_without_completing() -> None:
    with (
        client_for(OfflineProvider(latency=0, faults=["stream_cut"])) as client,
        client.stream("POST", "/images/generations", json=STREAM | {"partial_images": 1}) as r,
    ):
        events = read_events(r)

    assert [name for name, _ in events] == ["image_generation.partial_image"]


def test_stream_error_sends_an_event_with_a_top_level_error() -> None:
    with (
        client_for(OfflineProvider(latency=0, faults=["stream_error"])) as client,
        client.stream("POST", "/images/generations", json=STREAM | {"partial_images": 1}) as r,
    ):
        events = read_events(r)

    assert [name for name, _ in events] == ["image_generation.partial_image", "error"]
    assert events[-1][1]["error"]["code"] == "server_error"


def test_queued_faults_are_used_one_per_request_in_order() -> None:
    with client_for(OfflineProvider(latency=0, faults=["rate_limit", "server_error"])) as client:
        statuses = [generate(client, **SMALL).status_code for _ in range(3)]

    assert statuses == [429, 500, 200]


def test_a_queued_fault_wins_over_a_refusal_the_request_would_get() -> None:
    with client_for(OfflineProvider(latency=0, faults=["unavailable"])) as client:
        assert generate(client, model="gpt-image-2").status_code == 503
        assert generate(client, model="gpt-image-2").status_code == 400


def test_a_queued_fault_wins_over_the_404_of_a_retired_model() -> None:
    with client_for(OfflineProvider(latency=0, faults=["rate_limit"])) as client:
        assert generate(client, model="gpt-image-1", prompt=PROMPT).status_code == 429
        assert generate(client, model="gpt-image-1", prompt=PROMPT).status_code == 404


def test_a_fault_in_the_prompt_triggers_on_every_request(client: httpx.Client) -> None:
    body = SMALL | {"prompt": "A boat [fault:unavailable]"}

    assert [generate(client, **body).status_code for _ in range(2)] == [503, 503]


# A request of each kind a fault can spoil, on models that are current (none will retire soon).
B64_RESULT = {"model": "gpt-image-2", "prompt": PROMPT, "output_format": "jpeg"}
URL_RESULT = QWEN
STREAMED = B64_RESULT | {"stream": True, "partial_images": 1}


def outcome(client: httpx.Client, body: dict[str, Any]) -> tuple[object, ...]:
    """What a caller can tell about a generation: status, type, events, and whether it decodes."""
    try:
        response = client.post("/images/generations", json=body)
    except httpx.TransportError as error:
        return (type(error).__name__,)
    content_type = response.headers["content-type"].split(";")[0]
    if content_type == "text/event-stream":
        events = tuple(name for name, _ in read_events(response))
        return (response.status_code, content_type, events)
    if content_type != "application/json":
        return (response.status_code, content_type)
    results: list[object] = []
    for item in response.json().get("data", []):
        if "url" in item:
            file = client.get(item["url"])
            results.append((file.status_code, file.content[:4]))
        else:
            try:
                results.append(decode(item["b64_json"]).size)
            except (ValueError, UnidentifiedImageError):
                results.append("undecodable")
    return (response.status_code, content_type, tuple(results))


@pytest.mark.parametrize("fault", sorted(FAULT_NAMES))
def test_every_fault_can_be_triggered_from_a_prompt(client: httpx.Client, fault: str) -> None:
    body = {"stream_cut": STREAMED, "stream_error": STREAMED, "expired_url": URL_RESULT}.get(
        fault, B64_RESULT
    )
    spoiled = body | {"prompt": f"{PROMPT} [fault:{fault}]"}

    assert outcome(client, body)[0] == 200
    assert outcome(client, spoiled) != outcome(client, body)


def test_an_unknown_fault_in_the_prompt_is_just_text(client: httpx.Client) -> None:
    assert generate(client, **SMALL | {"prompt": "A boat [fault:gremlins]"}).status_code == 200


def test_an_unknown_fault_in_the_constructor_is_refused() -> None:
    with pytest.raises(ValueError, match="gremlins"):
        OfflineProvider(faults=["rate_limit", "gremlins"])


def test_the_fault_queue_is_shared_safely_between_threads() -> None:
    provider = OfflineProvider(latency=0, faults=["rate_limit"] * 10)
    with client_for(provider) as client, ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: generate(client, **SMALL).status_code, range(24)))

    assert sorted(statuses) == [200] * 14 + [429] * 10
