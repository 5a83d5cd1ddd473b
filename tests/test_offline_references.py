"""Seedream's reference images (`image`) on the offline provider's POST …/images/generations."""

import base64
import io
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from imagegen.offline import OfflineProvider

# The provider reads each model's schema from the catalogue's rows (else the shipped data).
pytestmark = pytest.mark.django_db

API = "https://api.cometapi.com/v1"
PROMPT = "A lighthouse on a cliff at dawn"
SEEDREAM = {
    "model": "doubao-seedream-5-0-260128",
    "prompt": PROMPT,
    "size": "1280x720",
    "response_format": "b64_json",
}
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
FRAME = (24, 24, 24)
PLACEHOLDER, PLACEHOLDER_CROSS = (160, 160, 160), (96, 96, 96)
# At 1280x720 the row keeps a gap of 720 // 64 = 11 px; up to five thumbnails are 1280 // 6 =
# 213 px squares (frame included), so the row's top is 720 - 11 - 213 = 496.
GAP, EDGE, TOP = 11, 213, 496
# Fourteen share the width: (1280 - 11) // 14 - 11 = 79 px each, the row's top at 630.
EDGE_OF_14, TOP_OF_14 = 79, 630


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(transport=OfflineProvider(latency=0), base_url=API) as client:
        yield client


def generate(client: httpx.Client, *references: str, **body: Any) -> httpx.Response:
    return client.post("/images/generations", json=SEEDREAM | {"image": list(references)} | body)


def data_uri(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def solid(colour: tuple[int, int, int], fmt: str = "PNG", **options: Any) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, fmt, **options)
    return buffer.getvalue()


def png_uri(colour: tuple[int, int, int]) -> str:
    return data_uri(solid(colour))


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels: enough for a decoder to read the size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + checksum

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def picture_of(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(base64.b64decode(response.json()["data"][0]["b64_json"])))
    image.load()
    return image.convert("RGB")


def centre(index: int, edge: int = EDGE, top: int = TOP) -> tuple[int, int]:
    """The middle of the `index`th thumbnail."""
    left = GAP + index * (edge + GAP)
    return left + edge // 2, top + edge // 2


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", "image")
    return error


def test_one_reference_shows_as_a_framed_thumbnail_at_the_bottom_left(
    client: httpx.Client,
) -> None:
    picture = picture_of(generate(client, png_uri(RED)))

    assert picture.size == (1280, 720)
    assert picture.getpixel(centre(0)) == RED
    inside = (GAP + 1, TOP + 1, GAP + EDGE - 1, TOP + EDGE - 1)
    assert picture.crop(inside).getcolors() == [((EDGE - 2) ** 2, RED)]
    assert picture.getpixel((GAP, TOP)) == FRAME
    assert picture.getpixel((GAP + EDGE - 1, TOP + EDGE - 1)) == FRAME
    assert picture.getpixel((GAP + EDGE + GAP + EDGE // 2, TOP + EDGE // 2)) != RED


def test_three_references_show_in_the_order_they_were_sent(client: httpx.Client) -> None:
    picture = picture_of(generate(client, png_uri(RED), png_uri(GREEN), png_uri(BLUE)))

    assert [picture.getpixel(centre(index)) for index in range(3)] == [RED, GREEN, BLUE]


def test_the_same_references_give_the_same_bytes(client: httpx.Client) -> None:
    first = generate(client, png_uri(RED), png_uri(BLUE))
    second = generate(client, png_uri(RED), png_uri(BLUE))

    assert first.json()["data"] == second.json()["data"]


def test_references_leave_the_picture_above_the_row_and_the_text_as_it_was(
    client: httpx.Client,
) -> None:
    plain = picture_of(client.post("/images/generations", json=SEEDREAM))
    with_one = picture_of(generate(client, png_uri(RED)))

    assert plain.crop((0, 0, 1280, 300)) == with_one.crop((0, 0, 1280, 300))
    assert plain.getpixel(centre(0)) != RED


def test_it_takes_a_jpeg_and_a_webp_reference(client: httpx.Client) -> None:
    jpeg = data_uri(solid(BLUE, "JPEG", quality=95), "image/jpeg")
    webp = data_uri(solid(GREEN, "WEBP", lossless=True), "image/webp")

    picture = picture_of(generate(client, jpeg, webp))

    red, green, blue = picture.getpixel(centre(0))
    assert red <= 8 and green <= 8 and blue >= 247  # JPEG keeps a solid colour to within a step
    assert picture.getpixel(centre(1)) == GREEN


def test_a_reference_with_transparency_shows_it_over_white(client: httpx.Client) -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (32, 32), (0, 0, 0, 0)).save(buffer, "PNG")

    picture = picture_of(generate(client, data_uri(buffer.getvalue())))

    assert picture.getpixel(centre(0)) == (255, 255, 255)


def test_it_takes_fourteen_references_and_shows_every_one_in_order(
    client: httpx.Client,
) -> None:
    colours = [(index * 18, 255 - index * 18, 40) for index in range(14)]

    picture = picture_of(generate(client, *(png_uri(colour) for colour in colours)))

    shown = [picture.getpixel(centre(i, EDGE_OF_14, TOP_OF_14)) for i in range(14)]
    assert shown == colours
    last_right = GAP + 13 * (EDGE_OF_14 + GAP) + EDGE_OF_14 - 1
    assert last_right < 1280
    assert picture.getpixel((last_right, TOP_OF_14)) == FRAME


def test_the_schema_refuses_fifteen_references(client: httpx.Client) -> None:
    response = generate(client, *[png_uri(RED)] * 15)

    # The schema's own refusal, before any entry is decoded.
    assert error_of(response)["message"].endswith("Expected <= 14.")


def test_references_and_outputs_may_add_up_to_at_most_fifteen(client: httpx.Client) -> None:
    response = generate(client, *[png_uri(RED)] * 14, n=2)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["code"]) == ("n", "invalid_value")
    assert "at most 15" in error["message"]
    assert "add up to 16" in error["message"]


def test_an_https_url_is_accepted_unfetched_and_shown_as_a_placeholder(
    client: httpx.Client,
) -> None:
    picture = picture_of(generate(client, png_uri(RED), "https://example.org/reference.png"))

    assert picture.getpixel(centre(0)) == RED
    assert picture.getpixel(centre(1)) == PLACEHOLDER_CROSS  # where the cross's arms meet
    x, y = centre(1)
    assert picture.getpixel((x, y - EDGE // 4)) == PLACEHOLDER  # between two arms


def test_a_url_result_shows_the_references_too(client: httpx.Client) -> None:
    references = [png_uri(RED), png_uri(GREEN)]
    inline = picture_of(generate(client, *references))

    response = generate(client, *references, response_format="url")

    assert response.status_code == 200
    fetched = client.get(response.json()["data"][0]["url"])
    assert fetched.status_code == 200
    picture = Image.open(io.BytesIO(fetched.content)).convert("RGB")
    assert [picture.getpixel(centre(index)) for index in range(2)] == [RED, GREEN]
    assert picture == inline


def test_a_url_result_whose_references_were_let_go_is_gone(client: httpx.Client) -> None:
    response = generate(client, png_uri(RED), response_format="url")
    url = response.json()["data"][0]["url"]
    for index in range(16):  # the provider keeps the references of sixteen requests
        generate(client, png_uri((index, 0, 0)), response_format="url")

    fetched = client.get(url)

    assert fetched.status_code == 404
    assert b"NoSuchKey" in fetched.content


@pytest.mark.parametrize(
    ("reference", "code", "message"),
    [
        (
            "data:image/png;base64,iVBOR%%%",
            "invalid_base64",
            "Invalid 'image[1]': not a valid base64 data URI.",
        ),
        (
            "data:image/png;base64,",
            "invalid_base64",
            "Invalid 'image[1]': not a valid base64 data URI.",
        ),
        (
            "data:image/png," + base64.b64encode(solid(RED)).decode(),
            "invalid_base64",
            "Invalid 'image[1]': not a valid base64 data URI.",
        ),
        (
            data_uri(b"<html>not a picture</html>"),
            "invalid_image_format",
            "Invalid 'image[1]': the data URI says image/png but its data is not a PNG image.",
        ),
        (
            data_uri(solid(RED, "JPEG")),
            "invalid_image_format",
            "Invalid 'image[1]': the data URI says image/png but its data is not a PNG image.",
        ),
        (
            data_uri(solid(RED, "GIF"), "image/gif"),
            "invalid_image_format",
            "Invalid 'image[1]': unsupported image type 'image/gif'. Supported types are "
            "'image/png', 'image/jpeg' and 'image/webp'.",
        ),
        (
            data_uri(solid(RED, "JPEG"), "image/jpg"),
            "invalid_image_format",
            "Invalid 'image[1]': unsupported image type 'image/jpg'. Supported types are "
            "'image/png', 'image/jpeg' and 'image/webp'.",
        ),
        (
            "http://example.org/reference.png",
            "invalid_value",
            "Invalid 'image[1]': the URL must use https.",
        ),
        (
            "ftp://example.org/reference.png",
            "invalid_value",
            "Invalid 'image[1]': expected an https URL or a data URI "
            "(data:image/<png|jpeg|webp>;base64,...).",
        ),
        (
            data_uri(b"\0" * (10 * 1024 * 1024 + 1)),
            "image_too_large",
            "Invalid 'image[1]': the image is larger than 10 MB.",
        ),
        (
            data_uri(png_header(50_000, 50_000)),
            "image_too_large",
            "Invalid file 'image[1]': the image has too many pixels.",
        ),
        (
            data_uri(solid(RED)[:60]),
            "invalid_image",
            "Invalid file 'image[1]': the image is damaged and could not be read.",
        ),
    ],
    ids=[
        "bad-base64",
        "empty",
        "not-base64",
        "not-an-image",
        "png-holding-jpeg",
        "gif",
        "image-jpg",
        "http",
        "ftp",
        "over-10-mb",
        "bomb",
        "damaged",
    ],
)
def test_it_refuses_a_bad_reference_and_names_its_index(
    client: httpx.Client, reference: str, code: str, message: str
) -> None:
    response = generate(client, png_uri(RED), reference, png_uri(BLUE))

    error = error_of(response)
    assert (error["code"], error["message"]) == (code, message)


def test_it_reports_the_first_bad_reference(client: httpx.Client) -> None:
    response = generate(client, png_uri(RED), png_uri(GREEN), "http://a.example/1.png", "nope")

    assert error_of(response)["message"] == "Invalid 'image[2]': the URL must use https."


def test_it_refuses_a_reference_with_more_pixels_than_the_studio_allows(
    client: httpx.Client, settings: Any
) -> None:
    settings.IMAGE_MAX_PIXELS = 1000

    response = generate(client, png_uri(RED))

    error = error_of(response)
    assert error["code"] == "image_too_large"
    assert error["message"] == "Invalid file 'image[0]': the image has too many pixels (64x48)."


def test_a_model_without_references_on_generations_refuses_the_parameter(
    client: httpx.Client,
) -> None:
    body = {"model": "gpt-image-2", "prompt": PROMPT, "image": [png_uri(RED)]}

    response = client.post("/images/generations", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["code"]) == ("image", "unknown_parameter")
