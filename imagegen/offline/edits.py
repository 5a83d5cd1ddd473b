"""Validating and drawing an edit, `POST …/images/edits`, as the real endpoint does (api.md §7).

The request is `multipart/form-data`: one `image` or several `image[]` files, an optional `mask`
(a PNG whose fully transparent pixels mark where to edit; it applies to the first image), and the
model's schema parameters as text fields. Text fields are typed by the schema (numbers arrive as
strings) and then validated by `parse_generation`, so an edit accepts exactly the parameters a
generation does. Uploads are decoded with Pillow within the studio's bounds.

Each result starts from the first image at the requested size; a new picture for the prompt is
painted where the mask is transparent (every other pixel is kept), or, without a mask, blended
half over the whole image. Input images cost 65 image tokens per 512x512 tile they cover, an
invented but plausible rule. GIF and SVG output is refused: the upstream documents only raster
edits. A JSON body (OpenAI's `images` references) is not imitated; it is refused like any body
that is not multipart.
"""

import dataclasses
import io
import math
import re
import warnings
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import httpx
from django.conf import settings
from PIL import Image

from imagegen.catalogue import EDITS, ModelSpec, N, check_value, parse_size
from imagegen.offline.drawing import draw_image, encode_picture
from imagegen.offline.requests import (
    Generation,
    Refused,
    catalogue_spec,
    parse_generation,
    served_spec,
)

MAX_IMAGES = 16
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_MASK_BYTES = 4 * 1024 * 1024
TOKENS_PER_TILE = 65
TILE_EDGE = 512
_INPUT_FORMATS = ("PNG", "JPEG", "WEBP")
_OUTPUT_FORMATS = ("png", "jpeg", "webp")
_FILE_FIELDS = ("image", "image[]", "mask")
# What Pillow raises for a file that starts like an image but is damaged.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError)
_INTEGER = re.compile(r"-?\d{1,12}")
_NUMBER = re.compile(r"-?\d{1,12}(\.\d{1,12})?")


@dataclass(frozen=True)
class Form:
    """A request body read as a form: text fields, and files in the order they came."""

    content_type: str
    multipart: bool
    fields: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass(frozen=True)
class Edit:
    """A valid edit: the generation it amounts to, the first image at the output size and the
    region to repaint (L: 255 where the mask was fully transparent; None without a mask)."""

    generation: Generation
    image: Image.Image
    region: Image.Image | None
    image_count: int
    image_tokens: int


def read_form(request: httpx.Request) -> Form:
    """The body's fields and files; `multipart` is False when the body is not a multipart form."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return Form(content_type, multipart=False)
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + request.read())
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        return Form(content_type, multipart=False)
    form = Form(content_type, multipart=True)
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            form.files.append((name, data))
        else:
            form.fields[name] = data.decode("utf-8", errors="replace")
    return form


def parse_edit(form: Form) -> Edit:
    """The request as an Edit, or raise Refused with the error the endpoint would send."""
    if not form.multipart:
        message = (
            f"Unsupported content type: '{form.content_type}'. This API method only accepts "
            "'multipart/form-data' requests."
        )
        raise Refused(message, None, None)
    fields = dict(form.fields)
    for name in _FILE_FIELDS:
        if name in fields:
            raise Refused(f"Invalid type for '{name}': expected a file.", name, "invalid_type")
    spec = _editing_spec(fields.get("model"))
    images = spec.references(EDITS)
    body = {name: _typed(spec, name, text) for name, text in fields.items()}
    uploads = [data for name, data in form.files if name in ("image", "image[]")]
    if images is not None:
        body[images.name] = [f"file {n}" for n in range(len(uploads))]  # counted by the schema
    generation = parse_generation(
        body, lambda name: spec if name == spec.name else None, endpoint=EDITS
    )
    if generation.output_format not in _OUTPUT_FORMATS:
        message = f"Invalid value: '{generation.output_format}'. Edits support png, jpeg and webp."
        raise Refused(message, "output_format", "invalid_value")
    if not uploads:
        raise Refused("Missing required parameter: 'image'.", "image", "missing_required_parameter")
    if len(uploads) > MAX_IMAGES:
        message = (
            f"Invalid 'image': too many images. Expected at most {MAX_IMAGES}, "
            f"but got {len(uploads)}."
        )
        raise Refused(message, "image", "array_above_max_length")
    images = [_open_image(data) for data in uploads]
    first = images[0]
    masks = [data for name, data in form.files if name == "mask"]
    alpha = _open_mask(masks[-1], first.size) if masks else None
    width, height = _output_size(spec, body.get("size"), first.size, generation)
    generation = dataclasses.replace(generation, width=width, height=height)
    region = None
    if alpha is not None:
        region = alpha.point(lambda a: 255 if a == 0 else 0)
        if region.size != (width, height):
            region = region.resize((width, height), Image.Resampling.NEAREST)
    base = first.convert("RGBA")
    if base.size != (width, height):
        base = base.resize((width, height), Image.Resampling.LANCZOS)
    tokens = sum(_tiles(*image.size) for image in images) * TOKENS_PER_TILE
    return Edit(generation, base, region, len(images), tokens)


def draw_edit(edit: Edit, index: int, detail: float = 1.0) -> bytes:
    """The `index`th result: new content where the mask allows it, the first image elsewhere."""
    generation = edit.generation
    drawn = draw_image(
        generation.prompt,
        generation.width,
        generation.height,
        transparent=generation.transparent,
        variant=index,
        detail=detail,
        seed=generation.seed,
    )
    with Image.open(io.BytesIO(drawn)) as opened:
        new = opened.convert("RGBA")
    if edit.region is None:
        result = Image.blend(edit.image, new, 0.5)
    else:
        result = Image.composite(new, edit.image, edit.region)
    return encode_picture(result, generation.output_format, generation.compression)


def _editing_spec(model: str | None) -> ModelSpec:
    spec = served_spec(model, catalogue_spec)  # 404 for an unknown or retired model
    if not spec.can_edit:
        message = f"Invalid value: '{spec.name}'. This model does not support image edits."
        raise Refused(message, "model", "invalid_value")
    return spec.for_endpoint(EDITS)


def _typed(spec: ModelSpec, name: str, text: str) -> Any:
    """A text field as the value its parameter's kind expects; left as text when it is not one,
    so that the schema check reports the wrong type."""
    parameter = spec.parameter(name)
    kind = "integer" if name == N else (parameter.kind if parameter else "text")
    if kind == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if kind == "number" and _NUMBER.fullmatch(text):
        return float(text)
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def _open_image(data: bytes) -> Image.Image:
    if len(data) > MAX_IMAGE_BYTES:
        message = f"Invalid 'image': file too large. Each image must be under {_megabytes()} MB."
        raise Refused(message, "image", "image_too_large")
    image = decode_image(data, _INPUT_FORMATS, "image")
    if image is None:
        message = (
            "Invalid file 'image': unsupported mimetype. Supported file formats are "
            "'image/jpeg', 'image/png', and 'image/webp'."
        )
        raise Refused(message, "image", "unsupported_file_mimetype")
    return image


def _open_mask(data: bytes, size: tuple[int, int]) -> Image.Image:
    """The mask's alpha channel, once the mask is known to be a PNG with one, at `size`."""
    if len(data) > MAX_MASK_BYTES:
        raise Refused("Invalid 'mask': file too large. Expected under 4 MB.", "mask", "too_large")
    mask = decode_image(data, ("PNG",), "mask")
    if mask is None:
        message = "Invalid file 'mask': the mask must be a PNG."
        raise Refused(message, "mask", "invalid_image_format")
    if "A" not in mask.getbands() and "transparency" not in mask.info:
        message = "Invalid 'mask': the mask must have an alpha channel."
        raise Refused(message, "mask", "invalid_image_format")
    if mask.size != size:
        message = (
            f"Invalid 'mask': its size {mask.width}x{mask.height} differs from the first "
            f"image's, {size[0]}x{size[1]}."
        )
        raise Refused(message, "mask", "invalid_value")
    return mask.convert("RGBA").getchannel("A")


def decode_image(data: bytes, formats: tuple[str, ...], param: str) -> Image.Image | None:
    """The decoded image, None when it is none of `formats`; refuses one too large to decode."""
    try:
        # The pixel check on the header is what refuses a bomb; the warning filter is a guard.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(formats)) as image:
                if image.width * image.height > settings.IMAGE_MAX_PIXELS:
                    raise _too_many_pixels(param, image.size)
                image.load()
                return image.copy()
    except Image.UnidentifiedImageError:
        return None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(param, None) from None
    except _DECODE_ERRORS:
        message = f"Invalid file '{param}': the image is damaged and could not be read."
        raise Refused(message, param, "invalid_image") from None


def _too_many_pixels(param: str, size: tuple[int, int] | None) -> Refused:
    shown = f" ({size[0]}x{size[1]})" if size else ""
    message = f"Invalid file '{param}': the image has too many pixels{shown}."
    return Refused(message, param, "image_too_large")


def _output_size(
    spec: ModelSpec, size: Any, own: tuple[int, int], generation: Generation
) -> tuple[int, int]:
    """The requested size; for `auto`, the first image's own size when the schema allows it, else
    the model's named size closest to its shape (as OpenAI picks one), else what `auto` draws."""
    parameter = spec.size
    if parameter is None:
        return own
    if (size if size is not None else parameter.default) != "auto":
        return generation.width, generation.height
    if check_value(parameter, f"{own[0]}x{own[1]}") is None:
        return own
    named = [pixels for choice in parameter.choices if (pixels := parse_size(choice))]
    if not named:
        return generation.width, generation.height
    shape = math.log(own[0] / own[1])
    return min(named, key=lambda pixels: abs(math.log(pixels[0] / pixels[1]) - shape))


def _tiles(width: int, height: int) -> int:
    return math.ceil(width / TILE_EDGE) * math.ceil(height / TILE_EDGE)


def _megabytes() -> int:
    return MAX_IMAGE_BYTES // (1024 * 1024)
