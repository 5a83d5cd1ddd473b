"""service.edit against httpx.MockTransport: the multipart form it sends for every editing model,
held to OpenAI's spec of POST /images/edits (shared/reference/openai-images-edits-openapi.yaml);
what it refuses before anything is sent; streaming and retries; and the files an edit sends
(imagegen.edit_inputs)."""

import base64
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from PIL import Image

from imagegen.catalogue import EDITS, SHIPPED_MODELS, ModelSpec, shipped_spec
from imagegen.edit_inputs import InputFile, data_uri, sendable
from imagegen.service import GenerationResult, PartialImage, ReturnedImage, UpstreamError, edit
from tests.conftest import gif_bytes, png_bytes, svg_bytes

BASE_URL = "https://api.cometapi.com/v1"
PROMPT = "Put a red kite in the sky"
# OpenAI's spec of the endpoint, kept beside the checkout in the shared reference folder.
SPEC_FILE = (
    Path(__file__).resolve().parents[2] / "shared/reference/openai-images-edits-openapi.yaml"
)
RESULT = b"\x89PNG\r\n\x1a\n" + bytes(24)
PARTIALS = [b"\x89PNG\r\n\x1a\n" + bytes([index + 1]) * 8 for index in range(2)]
USAGE = {
    "input_tokens": 269,
    "input_tokens_details": {"text_tokens": 9, "image_tokens": 260},
    "output_tokens": 272,
    "total_tokens": 541,
}
ECHOED = {"size": "1024x1024", "quality": "low", "background": "opaque", "output_format": "png"}
# Every shipped model that edits, the retired ones too (a job submitted before their end).
EDITING = [values["name"] for values in SHIPPED_MODELS if values.get("can_edit")]
WITH_FIDELITY = ("gpt-image-1.5", "gpt-image-1")
SEEDREAM = "doubao-seedream-5-0-260128"
SIZE = (64, 48)  # the input images' size, and so the mask's


def load_edit_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The multipart request schema of POST /images/edits, and every schema it may refer to."""
    document = yaml.safe_load(SPEC_FILE.read_text())
    schemas = document["components"]["schemas"]
    multipart = document["paths"]["/images/edits"]["post"]["requestBody"]["content"]
    ref = multipart["multipart/form-data"]["schema"]["$ref"]
    assert ref == "#/components/schemas/CreateImageEditRequest"
    return schemas["CreateImageEditRequest"], schemas


EDIT_REQUEST, SCHEMAS = load_edit_schema()
PROPERTIES: dict[str, Any] = EDIT_REQUEST["properties"]


def resolved(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return SCHEMAS[ref.rsplit("/", 1)[1]] if ref else schema


def branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives a property allows, `$ref`s followed and `anyOf`s flattened."""
    schema = resolved(schema)
    if "anyOf" in schema:
        return [branch for option in schema["anyOf"] for branch in branches(option)]
    return [schema]


def accepts(schema: dict[str, Any], text: str) -> bool:
    """Whether a multipart text field of `text` fits one of the property's alternatives."""
    for branch in branches(schema):
        kind = branch.get("type")
        if branch.get("format") == "binary" or kind == "null":
            continue  # a file, or JSON's null: never what a text field carries
        if kind == "string" and ("enum" not in branch or text in branch["enum"]):
            return True
        if kind == "boolean" and text in ("true", "false"):
            return True
        if kind == "integer" and text.lstrip("-").isdigit():
            number = int(text)
            low, high = branch.get("minimum", number), branch.get("maximum", number)
            if low <= number <= high:
                return True
    return False


def declared_enum(name: str) -> set[str] | None:
    """The values the spec lists for a property, when one of its alternatives lists them."""
    enums = [set(branch["enum"]) for branch in branches(PROPERTIES[name]) if "enum" in branch]
    return set().union(*enums) if enums else None


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None  # as the part's own header says; None for a text field
    data: bytes


def parts_of(request: httpx.Request) -> list[Part]:
    """The multipart body as sent, part by part, read with the standard library's parser."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + request.content)
    assert message.is_multipart()
    found = []
    for part in message.iter_parts():
        assert part.get_content_disposition() == "form-data"
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        header = part["content-type"]
        found.append(
            Part(
                part.get_param("name", header="content-disposition"),
                part.get_filename(),
                str(header) if header is not None else None,
                payload,
            )
        )
    return found


def text_fields(request: httpx.Request) -> dict[str, str]:
    fields = {}
    for part in parts_of(request):
        if part.filename is None:
            assert part.name not in fields, f"{part.name} sent twice"
            assert part.content_type is None
            fields[part.name] = part.data.decode()
    return fields


def file_parts(request: httpx.Request) -> list[Part]:
    return [part for part in parts_of(request) if part.filename is not None]


class Upstream:
    """A scripted endpoint: answers in turn (the last one repeats) and records each request."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(self.handle))


def success() -> httpx.Response:
    body = {
        "created": 1_790_000_000,
        "data": [{"b64_json": base64.b64encode(RESULT).decode()}],
        "usage": USAGE,
        **ECHOED,
    }
    return httpx.Response(200, json=body, headers={"x-request-id": "req_edit"})


def spec(name: str) -> ModelSpec:
    found = shipped_spec(name)
    assert found is not None, name
    return found


def picture(size: tuple[int, int] = SIZE, fmt: str = "PNG", colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


def png_input(size: tuple[int, int] = SIZE, colour: str = "teal") -> InputFile:
    return InputFile(picture(size, colour=colour), "png", size)


def mask(
    size: tuple[int, int] = SIZE, *, mode: str = "RGBA", hole: bool = True, fmt: str = "PNG"
) -> bytes:
    """Opaque black, with a fully transparent rectangle (where to edit) when `hole`."""
    image = Image.new(mode, size, (0, 0, 0, 255) if mode == "RGBA" else (0, 0, 0))
    if hole and mode == "RGBA":
        image.paste((0, 0, 0, 0), (8, 8, 40, 32))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def send_edit(
    model: str = "gpt-image-2",
    options: dict[str, Any] | None = None,
    images: list[InputFile] | None = None,
    *,
    upstream: Upstream | None = None,
    **kwargs: Any,
) -> tuple[GenerationResult, httpx.Request]:
    upstream = upstream or Upstream(success())
    result = edit(
        spec(model),
        PROMPT,
        options or {},
        [png_input()] if images is None else images,
        client=upstream.client(),
        sleep=lambda seconds: None,
        **kwargs,
    )
    return result, upstream.requests[-1]


# --- the form sent, model by model -----------------------------------------------------------


def test_the_models_checked_are_every_shipped_model_that_edits() -> None:
    assert EDITING == [
        "gpt-image-2",
        "gpt-image-2.6-sunburst",
        "gpt-image-2.6-flare",
        "gpt-image-2.5-sunburst",
        "gpt-image-2.5-flare",
        "gpt-image-1.5",
        "gpt-image-1",
        "gpt-image-1-mini",
    ]


@pytest.mark.parametrize("model", EDITING)
def test_an_edit_is_one_multipart_post_with_the_models_defaults_as_text(model: str) -> None:
    result, request = send_edit(model)

    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/images/edits"
    assert text_fields(request) == {
        "model": model,
        "prompt": PROMPT,
        "n": "1",
        "size": "auto",
        "quality": "auto",
        "output_format": "png",
        "background": "auto",
    }
    assert result.images == [ReturnedImage(0, RESULT, None)]
    assert result.usage == USAGE
    assert result.request_id == "req_edit"
    assert result.attempts == 1


CHOSEN = {
    "n": 3,
    "size": "1536x1024",
    "quality": "high",
    "output_format": "jpeg",
    "output_compression": 55,
    "background": "opaque",
}
STREAMED = {
    "size": "1024x1536",
    "quality": "low",
    "output_format": "webp",
    "background": "transparent",
    "stream": True,
    "partial_images": 2,
}


@pytest.mark.parametrize("model", EDITING)
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            CHOSEN,
            {
                "n": "3",
                "size": "1536x1024",
                "quality": "high",
                "output_format": "jpeg",
                "output_compression": "55",
                "background": "opaque",
            },
        ),
        (
            STREAMED,
            {
                "n": "1",
                "size": "1024x1536",
                "quality": "low",
                "output_format": "webp",
                "background": "transparent",
                "stream": "true",
                "partial_images": "2",
            },
        ),
    ],
    ids=["chosen", "streamed"],
)
def test_chosen_options_are_sent_as_text_the_multipart_spec_accepts(
    model: str, options: dict[str, Any], expected: dict[str, str]
) -> None:
    # A JSON answer to stream=true is read in one piece, so one answer serves both cases.
    _result, request = send_edit(model, options)

    fields = text_fields(request)
    assert fields == {"model": model, "prompt": PROMPT, **expected}
    for name, value in fields.items():
        assert name in PROPERTIES, f"{name} is not a field of CreateImageEditRequest"
        assert accepts(PROPERTIES[name], value), f"{name}={value!r} is outside the spec"


@pytest.mark.parametrize("model", EDITING)
def test_the_default_fields_fit_the_spec_too(model: str) -> None:
    _result, request = send_edit(model)

    for name, value in text_fields(request).items():
        assert accepts(PROPERTIES[name], value), f"{name}={value!r} is outside the spec"


# What the extracted spec predates (api.md §6 item 5): the 2.5 and 2.6 additions.
NOT_IN_SPEC = {
    "gpt-image-2.6-sunburst": {"complexity"},
    "gpt-image-2.6-flare": {"complexity"},
}
BEYOND_ENUMS = {
    # GIF and SVG are generations-only: the edits endpoint has a raster output format of its own.
    "gpt-image-2.6-sunburst": {"quality": {"xhigh", "max"}},
    "gpt-image-2.6-flare": {"quality": {"xhigh", "max"}},
    "gpt-image-2.5-sunburst": {"quality": {"xhigh", "max"}},
    "gpt-image-2.5-flare": {"quality": {"xhigh", "max"}},
}


@pytest.mark.parametrize("model", EDITING)
def test_every_edit_parameter_and_choice_is_in_the_spec_but_the_known_later_additions(
    model: str,
) -> None:
    parameters = spec(model).for_endpoint(EDITS).parameters
    names = {p.name for p in parameters} - {"image"}  # the images go as files

    assert names - set(PROPERTIES) == NOT_IN_SPEC.get(model, set())
    beyond = {}
    for parameter in parameters:
        listed = declared_enum(parameter.name) if parameter.name in PROPERTIES else None
        extra = set(parameter.choices) - listed if listed is not None else set()
        if parameter.kind in ("choice", "size") and extra:
            beyond[parameter.name] = extra
    assert beyond == BEYOND_ENUMS.get(model, {})


@pytest.mark.parametrize("model", EDITING)
@pytest.mark.parametrize("moderation", ["auto", "low"])
def test_moderation_is_never_sent_on_an_edit(model: str, moderation: str) -> None:
    _result, request = send_edit(model, {"moderation": moderation})

    assert "moderation" not in PROPERTIES  # the multipart schema has no such field
    assert spec(model).parameter("moderation").endpoints == ("generations",)
    assert "moderation" not in text_fields(request)


@pytest.mark.parametrize("model", EDITING)
def test_input_fidelity_is_sent_only_for_gpt_image_1_and_1_5_and_only_when_chosen(
    model: str,
) -> None:
    _result, chosen = send_edit(model, {"input_fidelity": "high"})
    _result, default = send_edit(model, {"input_fidelity": "low"})
    _result, unset = send_edit(model)

    if model in WITH_FIDELITY:
        assert text_fields(chosen)["input_fidelity"] == "high"
        assert accepts(PROPERTIES["input_fidelity"], "high")
        assert declared_enum("input_fidelity") == {"high", "low"}
    else:
        assert spec(model).parameter("input_fidelity") is None
        assert "input_fidelity" not in text_fields(chosen)
    # "low" is the upstream's own default: choosing it sends nothing.
    assert "input_fidelity" not in text_fields(default)
    assert "input_fidelity" not in text_fields(unset)


def test_input_fidelity_is_an_edits_only_parameter_of_gpt_image_1_and_1_5() -> None:
    for model in WITH_FIDELITY:
        assert spec(model).parameter("input_fidelity").endpoints == ("edits",)
        assert spec(model).for_endpoint("generations").parameter("input_fidelity") is None


# --- the files sent ---------------------------------------------------------------------------


def test_one_image_is_sent_as_image_with_its_name_and_type() -> None:
    image = png_input()

    _result, request = send_edit(images=[image])

    assert file_parts(request) == [Part("image", "image-0.png", "image/png", image.data)]


def test_several_images_are_sent_as_image_brackets_in_order_each_with_its_own_type() -> None:
    images = [
        png_input(colour="red"),
        InputFile(picture(fmt="JPEG"), "jpeg", SIZE),
        InputFile(picture(fmt="WEBP"), "webp", SIZE),
    ]

    _result, request = send_edit(images=images)

    assert file_parts(request) == [
        Part("image[]", "image-0.png", "image/png", images[0].data),
        Part("image[]", "image-1.jpeg", "image/jpeg", images[1].data),
        Part("image[]", "image-2.webp", "image/webp", images[2].data),
    ]
    assert "image" not in text_fields(request) and "image[]" not in text_fields(request)


def test_sixteen_images_are_the_most_a_gpt_image_edit_sends() -> None:
    images = [png_input() for _ in range(16)]

    _result, request = send_edit(images=images)

    assert [part.name for part in file_parts(request)] == ["image[]"] * 16
    assert PROPERTIES["image"]["anyOf"][1]["maxItems"] == 16


def test_the_mask_goes_after_the_images_as_a_png_named_mask() -> None:
    painted = mask()

    _result, request = send_edit(images=[png_input(), png_input()], mask=painted)

    assert [(p.name, p.filename, p.content_type) for p in file_parts(request)] == [
        ("image[]", "image-0.png", "image/png"),
        ("image[]", "image-1.png", "image/png"),
        ("mask", "mask.png", "image/png"),
    ]
    assert file_parts(request)[-1].data == painted
    assert PROPERTIES["mask"]["format"] == "binary"


# --- refused before anything is sent ----------------------------------------------------------

REFUSALS: list[tuple[str, str, dict[str, Any], Callable[[], list[InputFile]], bytes | None, str]]
REFUSALS = [
    ("17 images", "gpt-image-2", {}, lambda: [png_input()] * 17, None, "cannot edit 17 images"),
    ("no image", "gpt-image-2", {}, list, None, "cannot edit 0 images"),
    ("seedream", SEEDREAM, {}, lambda: [png_input()], None, "does not edit images"),
    ("qwen", "qwen-image", {}, lambda: [png_input()], None, "does not edit images"),
    (
        "mask of another size",
        "gpt-image-2",
        {},
        lambda: [png_input()],
        mask((48, 64)),
        "The mask is 48x64 pixels; it must be the image's own size, 64x48.",
    ),
    (
        "mask sized to the second image",
        "gpt-image-2",
        {},
        lambda: [png_input((32, 32)), png_input()],
        mask(),
        "it must be the image's own size, 32x32",
    ),
    (
        "mask without alpha",
        "gpt-image-2",
        {},
        lambda: [png_input()],
        mask(mode="RGB"),
        "The mask needs an alpha channel",
    ),
    (
        "opaque mask",
        "gpt-image-2",
        {},
        lambda: [png_input()],
        mask(hole=False),
        "The mask marks nothing to change",
    ),
    (
        "jpeg mask",
        "gpt-image-2",
        {},
        lambda: [png_input()],
        mask(mode="RGB", fmt="JPEG"),
        "The mask must be a PNG image.",
    ),
    (
        "quality it lacks",
        "gpt-image-2",
        {"quality": "xhigh"},
        lambda: [png_input()],
        None,
        "quality",
    ),
    (
        "compression for png",
        "gpt-image-2",
        {"output_compression": 50},
        lambda: [png_input()],
        None,
        "output_compression",
    ),
    (
        "transparent jpeg",
        "gpt-image-2",
        {"background": "transparent", "output_format": "jpeg"},
        lambda: [png_input()],
        None,
        "background",
    ),
    (
        "streaming two",
        "gpt-image-2",
        {"stream": True, "n": 2},
        lambda: [png_input()],
        None,
        "stream",
    ),
    (
        "four partials",
        "gpt-image-2",
        {"stream": True, "partial_images": 4},
        lambda: [png_input()],
        None,
        "partial_images",
    ),
    ("eleven images out", "gpt-image-2", {"n": 11}, lambda: [png_input()], None, "n:"),
    (
        "size too large",
        "gpt-image-2",
        {"size": "4096x4096"},
        lambda: [png_input()],
        None,
        "size",
    ),
    (
        "fidelity not a choice",
        "gpt-image-1",
        {"input_fidelity": "medium"},
        lambda: [png_input()],
        None,
        "input_fidelity",
    ),
]


@pytest.mark.parametrize(
    ("model", "options", "images", "painted", "message"),
    [refusal[1:] for refusal in REFUSALS],
    ids=[refusal[0] for refusal in REFUSALS],
)
def test_it_refuses_before_sending_anything(
    model: str,
    options: dict[str, Any],
    images: Callable[[], list[InputFile]],
    painted: bytes | None,
    message: str,
) -> None:
    upstream = Upstream(success())

    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        edit(spec(model), PROMPT, options, images(), mask=painted, client=upstream.client())

    assert upstream.requests == []


@pytest.mark.parametrize(
    ("prompt", "message"), [("  ", "The prompt is empty."), ("x" * 32001, "longer than 32000")]
)
def test_it_refuses_an_empty_or_overlong_prompt_before_sending(prompt: str, message: str) -> None:
    upstream = Upstream(success())

    with pytest.raises(ValueError, match=message):
        edit(spec("gpt-image-2"), prompt, {}, [png_input()], client=upstream.client())

    assert upstream.requests == []


# --- streaming, errors and retries ------------------------------------------------------------


def sse(payload: dict[str, Any]) -> bytes:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


def test_a_streamed_edit_delivers_each_partial_and_returns_the_final_image() -> None:
    events = [
        sse(
            {
                "type": "image_edit.partial_image",
                "b64_json": base64.b64encode(data).decode(),
                "created_at": 1_790_000_000,
                "partial_image_index": index,
                **ECHOED,
            }
        )
        for index, data in enumerate(PARTIALS)
    ]
    events.append(
        sse(
            {
                "type": "image_edit.completed",
                "b64_json": base64.b64encode(RESULT).decode(),
                "created_at": 1_790_000_001,
                "usage": USAGE,
                **ECHOED,
            }
        )
    )
    answer = httpx.Response(
        200,
        content=b"".join(events),
        headers={"content-type": "text/event-stream", "x-request-id": "req_stream"},
    )
    partials: list[PartialImage] = []

    result, request = send_edit(
        options={"stream": True, "partial_images": 2},
        upstream=Upstream(answer),
        on_partial=partials.append,
    )

    assert text_fields(request)["stream"] == "true"
    assert text_fields(request)["partial_images"] == "2"
    assert partials == [PartialImage(0, PARTIALS[0]), PartialImage(1, PARTIALS[1])]
    assert result.images == [ReturnedImage(0, RESULT, None)]
    assert result.usage == USAGE
    assert result.created == 1_790_000_001
    assert result.returned_settings == ECHOED
    assert result.request_id == "req_stream"


def test_a_server_error_is_retried_with_the_same_form() -> None:
    failure = httpx.Response(500, json={"error": {"message": "boom", "type": "server_error"}})
    upstream = Upstream(failure, success())
    sleeps: list[float] = []

    result = edit(
        spec("gpt-image-2"),
        PROMPT,
        {"quality": "low"},
        [png_input(), png_input(colour="red")],
        mask=mask(),
        client=upstream.client(),
        sleep=sleeps.append,
        max_retries=2,
    )

    assert result.attempts == 2
    assert len(sleeps) == 1
    first, second = upstream.requests
    assert parts_of(first) == parts_of(second)
    assert len(parts_of(first)) == 10  # 7 text fields, 2 images, the mask
    # Byte for byte the same body, but for the boundary httpx draws for each request.
    boundaries = [r.headers["content-type"].split("boundary=")[1] for r in (first, second)]
    assert first.content.replace(boundaries[0].encode(), boundaries[1].encode()) == second.content


def test_a_refusal_from_the_upstream_is_not_retried() -> None:
    refusal = httpx.Response(
        400,
        json={
            "error": {
                "message": "Invalid 'mask'.",
                "type": "invalid_request_error",
                "param": "mask",
                "code": "invalid_value",
            }
        },
    )
    upstream = Upstream(refusal)

    with pytest.raises(UpstreamError) as caught:
        edit(spec("gpt-image-2"), PROMPT, {}, [png_input()], client=upstream.client())

    assert len(upstream.requests) == 1
    assert (caught.value.status, caught.value.param, caught.value.retryable) == (400, "mask", False)


# --- edit_inputs: the files as the endpoint takes them ----------------------------------------


def pixel(data: bytes, at: tuple[int, int] = (5, 5)) -> tuple[int, ...]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.convert("RGBA").getpixel(at)


def test_png_jpeg_and_webp_are_sent_as_they_are() -> None:
    for fmt, content_type in (("png", "image/png"), ("jpeg", "image/jpeg"), ("webp", "image/webp")):
        data = picture(fmt=fmt.upper())
        sent = sendable(data, fmt, SIZE)
        assert sent == InputFile(data, fmt, SIZE)
        assert sent.content_type == content_type


def test_a_gif_is_sent_as_its_first_frame_in_png() -> None:
    sent = sendable(gif_bytes(("red", "green", "blue"), (80, 60)), "gif", (80, 60))

    assert (sent.format, sent.size, sent.content_type) == ("png", (80, 60), "image/png")
    assert sent.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert pixel(sent.data) == (255, 0, 0, 255)


def test_an_svg_is_sent_as_its_rendering_in_png_at_its_own_size() -> None:
    sent = sendable(svg_bytes("blue", 300, 200), "svg", (300, 200))

    assert (sent.format, sent.size, sent.content_type) == ("png", (300, 200), "image/png")
    with Image.open(io.BytesIO(sent.data)) as image:
        assert image.size == (300, 200)
    assert pixel(sent.data, (150, 100)) == (0, 0, 255, 255)


@pytest.mark.parametrize(("fmt", "media_type"), [("png", "image/png"), ("jpeg", "image/jpeg")])
def test_a_data_uri_names_the_type_and_round_trips_the_bytes(fmt: str, media_type: str) -> None:
    data = png_bytes() if fmt == "png" else picture(fmt="JPEG")

    uri = data_uri(InputFile(data, fmt, SIZE))

    head, payload = uri.split(",", 1)
    assert head == f"data:{media_type};base64"
    assert base64.b64decode(payload, validate=True) == data


def test_the_spec_check_refuses_what_the_spec_does_not_allow() -> None:
    # The checks above would pass vacuously if `accepts` took anything: it does not.
    assert not accepts(PROPERTIES["quality"], "xhigh")
    assert not accepts(PROPERTIES["output_format"], "gif")
    assert not accepts(PROPERTIES["n"], "11")
    assert not accepts(PROPERTIES["partial_images"], "4")
    assert not accepts(PROPERTIES["stream"], "True")
    assert not accepts(PROPERTIES["input_fidelity"], "medium")
    assert not accepts(PROPERTIES["mask"], "mask.png")  # a file, never a text field
    assert accepts(PROPERTIES["size"], "1536x864")  # free WxH for gpt-image-2
    assert accepts(PROPERTIES["model"], "gpt-image-2.6-flare")  # any string is allowed
    assert declared_enum("background") == {"transparent", "opaque", "auto"}
