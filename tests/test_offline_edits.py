"""The offline provider's POST …/images/edits, driven with httpx's own multipart uploads."""

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops

from imagegen.offline import OfflineProvider, edits

# The provider reads each model's schema from the catalogue's rows (else the shipped data).
pytestmark = pytest.mark.django_db

API = "https://api.cometapi.com/v1"
PROMPT = "A red kite over the harbour"
GPT = {"model": "gpt-image-2", "prompt": PROMPT}
# gpt-image-2's fewest pixels, so `size=auto` keeps the input's own size.
WIDTH, HEIGHT = 1024, 640
HOLE = (100, 100, 400, 300)  # where the mask is fully transparent

type Files = list[tuple[str, tuple[str, bytes, str]]]


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(transport=OfflineProvider(latency=0), base_url=API) as client:
        yield client


def picture(size: tuple[int, int] = (WIDTH, HEIGHT), fmt: str = "PNG") -> bytes:
    """A striped picture, so a resize or a stray write would show."""
    image = Image.new("RGB", size, (30, 90, 160))
    for x in range(0, size[0], 40):
        image.paste((220, 200, 40), (x, 0, x + 20, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def mask_png(size: tuple[int, int] = (WIDTH, HEIGHT), mode: str = "RGBA") -> bytes:
    mask = Image.new(mode, size, (0, 0, 0, 255) if mode == "RGBA" else (0, 0, 0))
    if mode == "RGBA":
        mask.paste((0, 0, 0, 0), HOLE)
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    return buffer.getvalue()


def image_files(*pictures: bytes, field: str = "image[]") -> Files:
    return [(field, (f"in{index}.png", data, "image/png")) for index, data in enumerate(pictures)]


def with_mask(data: bytes) -> Files:
    return [("mask", ("mask.png", data, "image/png"))]


def edit(client: httpx.Client, files: Files | None = None, **fields: Any) -> httpx.Response:
    data = {name: str(value) for name, value in (GPT | fields).items()}
    return client.post("/images/edits", data=data, files=image_files(picture()) + (files or []))


def decode(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))
    image.load()
    return image.convert("RGBA")


def changed(first: Image.Image, second: Image.Image) -> Image.Image:
    """L: 255 wherever two pictures differ in any channel."""
    bands = ImageChops.difference(first.convert("RGBA"), second.convert("RGBA")).split()
    difference = bands[0]
    for band in bands[1:]:
        difference = ImageChops.lighter(difference, band)
    return difference.point(lambda value: 255 if value else 0)


def share_changed(difference: Image.Image, box: tuple[int, int, int, int] | None = None) -> float:
    region = difference.crop(box) if box else difference
    return region.histogram()[255] / (region.width * region.height)


def error_of(response: httpx.Response) -> dict[str, Any]:
    return response.json()["error"]


def test_a_masked_edit_keeps_every_pixel_outside_the_mask_and_repaints_inside(
    client: httpx.Client,
) -> None:
    response = edit(client, with_mask(mask_png()))

    assert response.status_code == 200
    result = decode(response.json()["data"][0]["b64_json"])
    assert result.size == (WIDTH, HEIGHT)
    difference = changed(result, Image.open(io.BytesIO(picture())))
    outside = Image.new("L", (WIDTH, HEIGHT), 255)
    outside.paste(0, HOLE)
    assert ImageChops.multiply(difference, outside).getbbox() is None
    assert share_changed(difference, HOLE) > 0.9


def test_without_a_mask_the_new_picture_is_blended_over_the_whole_image(
    client: httpx.Client,
) -> None:
    response = edit(client)

    result = decode(response.json()["data"][0]["b64_json"])
    assert share_changed(changed(result, Image.open(io.BytesIO(picture())))) > 0.95


def test_it_answers_like_a_generation_and_counts_the_input_images_as_tokens(
    client: httpx.Client,
) -> None:
    body = edit(client, quality="low").json()

    assert set(body) == {
        "created",
        "data",
        "background",
        "output_format",
        "quality",
        "size",
        "usage",
    }
    assert set(body["data"][0]) == {"b64_json"}
    assert (body["size"], body["quality"], body["output_format"]) == ("1024x640", "low", "png")
    details = body["usage"]["input_tokens_details"]
    # 1024x640 covers 2x2 tiles of 512x512.
    assert details["image_tokens"] == 4 * edits.TOKENS_PER_TILE
    assert body["usage"]["input_tokens"] == details["text_tokens"] + details["image_tokens"]


def test_several_images_are_all_counted_and_the_first_is_edited(client: httpx.Client) -> None:
    files = image_files(picture(), picture((512, 512)), picture((600, 600), "WEBP"))
    response = client.post("/images/edits", data=GPT, files=files)

    assert response.status_code == 200
    body = response.json()
    assert body["size"] == "1024x640"
    assert body["usage"]["input_tokens_details"]["image_tokens"] == (4 + 1 + 4) * 65


def test_a_single_image_field_and_a_jpeg_input_are_accepted(client: httpx.Client) -> None:
    files = [("image", ("in.jpg", picture(fmt="JPEG"), "image/jpeg"))]
    response = client.post("/images/edits", data=GPT | {"output_format": "jpeg"}, files=files)

    assert response.status_code == 200
    assert response.json()["output_format"] == "jpeg"


def test_n_gives_that_many_different_results(client: httpx.Client) -> None:
    body = edit(client, n=2).json()

    first, second = (decode(item["b64_json"]) for item in body["data"])
    assert changed(first, second).getbbox() is not None


def test_a_requested_size_resizes_the_first_image(client: httpx.Client) -> None:
    body = edit(client, with_mask(mask_png()), size="1536x1024").json()

    assert body["size"] == "1536x1024"
    assert decode(body["data"][0]["b64_json"]).size == (1536, 1024)


def test_size_auto_takes_the_closest_named_size_when_the_images_own_is_not_allowed(
    client: httpx.Client,
) -> None:
    files = image_files(picture((300, 200)))
    body = client.post("/images/edits", data=GPT | {"size": "auto"}, files=files).json()

    assert body["size"] == "1536x1024"


def test_a_streamed_edit_sends_image_edit_events(client: httpx.Client) -> None:
    data = GPT | {"stream": "true", "partial_images": "2"}
    with client.stream("POST", "/images/edits", data=data, files=image_files(picture())) as r:
        assert r.headers["content-type"] == "text/event-stream"
        blocks = r.read().decode().strip("\n").split("\n\n")

    events = [block.split("\n") for block in blocks]
    names = [name.removeprefix("event: ") for name, _ in events]
    assert names == ["image_edit.partial_image"] * 2 + ["image_edit.completed"]
    final = json.loads(events[-1][1].removeprefix("data: "))
    assert final["type"] == "image_edit.completed"
    assert final["size"] == "1024x640"
    assert final["usage"]["input_tokens_details"]["image_tokens"] == 4 * 65


def test_a_fault_directive_in_the_prompt_works_on_edits(client: httpx.Client) -> None:
    response = edit(client, prompt=f"{PROMPT} [fault:rate_limit]")

    assert response.status_code == 429


def test_a_queued_fault_is_taken_by_an_edit() -> None:
    with httpx.Client(
        transport=OfflineProvider(latency=0, faults=["server_error"]), base_url=API
    ) as c:
        assert edit(c).status_code == 500
        assert edit(c).status_code == 200


@pytest.mark.parametrize("model", ["qwen-image", "doubao-seedream-5-0-260128"])
def test_it_refuses_a_model_that_cannot_edit(client: httpx.Client, model: str) -> None:
    response = edit(client, model=model)

    assert response.status_code == 400
    assert (error_of(response)["param"], error_of(response)["code"]) == ("model", "invalid_value")


@pytest.mark.parametrize("model", ["no-such-model", "gpt-image-1"])
def test_an_unknown_or_retired_model_is_not_found(client: httpx.Client, model: str) -> None:
    response = edit(client, model=model)

    assert response.status_code == 404
    assert error_of(response)["code"] == "model_not_found"


def test_a_json_body_gets_the_wrong_content_type_error(client: httpx.Client) -> None:
    response = client.post("/images/edits", json=GPT)

    assert response.status_code == 400
    assert error_of(response)["type"] == "invalid_request_error"
    assert "multipart/form-data" in error_of(response)["message"]


def test_it_refuses_an_edit_without_an_image(client: httpx.Client) -> None:
    response = client.post("/images/edits", data=GPT, files=with_mask(mask_png()))

    assert response.status_code == 400
    assert error_of(response)["param"] == "image"
    assert error_of(response)["code"] == "missing_required_parameter"


def test_it_refuses_more_than_sixteen_images(client: httpx.Client) -> None:
    small = picture((64, 64))
    response = client.post("/images/edits", data=GPT, files=image_files(*[small] * 17))

    assert response.status_code == 400
    assert error_of(response)["param"] == "image"


def test_it_refuses_an_image_that_is_not_png_jpeg_or_webp(client: httpx.Client) -> None:
    files = [("image", ("in.gif", picture(fmt="GIF"), "image/gif"))]
    response = client.post("/images/edits", data=GPT, files=files)

    assert response.status_code == 400
    assert error_of(response)["param"] == "image"
    assert error_of(response)["code"] == "unsupported_file_mimetype"


def test_it_refuses_an_image_that_is_not_an_image(client: httpx.Client) -> None:
    files = [("image", ("in.png", b"<html>nope</html>", "image/png"))]
    response = client.post("/images/edits", data=GPT, files=files)

    assert (response.status_code, error_of(response)["param"]) == (400, "image")


def test_it_refuses_a_file_over_the_size_limit(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(edits, "MAX_IMAGE_BYTES", 1000)
    response = edit(client)

    assert (response.status_code, error_of(response)["param"]) == (400, "image")
    assert error_of(response)["code"] == "image_too_large"


def test_it_refuses_an_image_over_the_pixel_limit(client: httpx.Client, settings: Any) -> None:
    settings.IMAGE_MAX_PIXELS = 1000
    response = edit(client)

    assert (response.status_code, error_of(response)["param"]) == (400, "image")
    assert error_of(response)["code"] == "image_too_large"


def test_it_refuses_a_mask_that_is_not_a_png(client: httpx.Client) -> None:
    files = [("mask", ("mask.jpg", picture(fmt="JPEG"), "image/jpeg"))]
    response = edit(client, files)

    assert (response.status_code, error_of(response)["param"]) == (400, "mask")


def test_it_refuses_a_mask_without_an_alpha_channel(client: httpx.Client) -> None:
    response = edit(client, with_mask(mask_png(mode="RGB")))

    assert (response.status_code, error_of(response)["param"]) == (400, "mask")


def test_it_refuses_a_mask_of_another_size_than_the_first_image(client: httpx.Client) -> None:
    files = image_files(picture(), picture((512, 512))) + with_mask(mask_png((512, 512)))
    response = client.post("/images/edits", data=GPT, files=files)

    assert (response.status_code, error_of(response)["param"]) == (400, "mask")


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"quality": "ultra"}, "quality", "invalid_value"),
        (
            {"output_compression": "lots", "output_format": "jpeg"},
            "output_compression",
            "invalid_type",
        ),
        ({"output_compression": "101", "output_format": "jpeg"}, "output_compression", None),
        ({"stream": "yes"}, "stream", "invalid_type"),
        ({"n": "11"}, "n", None),
        ({"size": "1000x1000"}, "size", "invalid_value"),
        ({"response_format": "url"}, "response_format", "unknown_parameter"),
        # gpt-image-2 keeps every input's details; only gpt-image-1 and 1.5 took this.
        ({"input_fidelity": "high"}, "input_fidelity", "unknown_parameter"),
        # OpenAI's multipart edit has no moderation field (api.md §7).
        ({"moderation": "low"}, "moderation", "unknown_parameter"),
        ({"prompt": " "}, "prompt", "empty_string"),
    ],
)
def test_it_refuses_parameters_outside_the_models_schema(
    client: httpx.Client, fields: dict[str, str], param: str, code: str | None
) -> None:
    response = edit(client, **fields)

    assert response.status_code == 400
    assert error_of(response)["param"] == param
    if code:
        assert error_of(response)["code"] == code


def test_typed_fields_within_the_schema_are_accepted(client: httpx.Client) -> None:
    response = edit(client, output_format="webp", output_compression="50", quality="low", n="2")

    assert response.status_code == 200
    assert len(response.json()["data"]) == 2
