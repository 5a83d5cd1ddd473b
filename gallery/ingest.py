"""Keep one generated image: verify it, embed its metadata, store it with a thumbnail, record it.

The original is kept byte for byte as the endpoint returned it, plus the spliced-in metadata: it
is never re-encoded. Pillow decodes it once, and that one decode both proves the file whole and
feeds the thumbnail, which is the cost that dominates (see bench/ingest.py).
"""

import functools
import hashlib
import importlib.metadata
import io
import json
import logging
import struct
import tomllib
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext_noop
from PIL import Image as PILImage

from gallery.embedding import embed_metadata
from gallery.models import Image
from imagegen.job_messages import TOO_MANY_PIXELS
from imagegen.models import Generation

logger = logging.getLogger(__name__)

APP_NAME = "image-studio"
FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
# What Pillow raises on malformed or hostile input; anything else is a bug and propagates.
DECODE_ERRORS = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
    zlib.error,
)
# Request options that describe delivery rather than the picture, left out of the A1111 text.
DELIVERY_OPTIONS = {"n", "response_format", "stream", "partial_images", "size"}
THUMBNAIL_QUALITY = 80
# WebP method 0 encodes a 512 px thumbnail in about 5 ms against 21 ms for the default 4, for
# files about a third larger (13 KB against 10 KB).
THUMBNAIL_METHOD = 0
UNSUPPORTED = gettext_noop("The file is not a PNG, JPEG or WebP image.")


class InvalidImage(Exception):
    """The bytes are not an image we keep; `message` is safe to show the person.

    The message is English, stored on the job and translated when shown (imagegen.job_messages).
    """

    code = "bad_image"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class VerifiedImage:
    format: str
    width: int
    height: int
    thumbnail: bytes
    thumbnail_width: int
    thumbnail_height: int


class NotWanted(Exception):  # not an error: the job was cancelled meanwhile
    """Raised when `still_wanted` says no at the moment the row would be saved."""


def ingest_image(
    generation: Generation,
    index: int,
    data: bytes,
    *,
    revised_prompt: str = "",
    still_wanted: Callable[[], bool] | None = None,
) -> Image:
    """Save image `index` of `generation`, once: a second call returns the row already saved.

    Raises InvalidImage when `data` is not a whole PNG, JPEG or WebP within the size limits.
    A failure leaves no row and no file behind. `still_wanted` is called inside the transaction
    that saves the row (it may lock the generation); if it returns False nothing is kept and
    NotWanted is raised.
    """
    existing = Image.objects.filter(generation=generation, index=index).first()
    if existing is not None:
        return existing  # a retried job: nothing is written twice
    verified = verify_image(data)
    image = Image(
        owner_id=generation.owner_id,
        generation=generation,
        index=index,
        width=verified.width,
        height=verified.height,
        thumbnail_width=verified.thumbnail_width,
        thumbnail_height=verified.thumbnail_height,
        format=verified.format,
        model_name=generation.model_name,
        prompt=generation.prompt,
        revised_prompt=revised_prompt,
        created_at=timezone.now(),
    )
    try:
        stored = embed_metadata(
            data, verified.format, parameters_text(image), metadata_document(image)
        )
    except ValueError:
        # Pillow read the image but the container walk did not: keep the paid-for image
        # without embedded metadata (the row has it all) rather than lose it.
        logger.warning("kept image %s without embedded metadata", image.uuid, exc_info=True)
        stored = data
    image.bytes = len(stored)
    image.sha256 = hashlib.sha256(stored).hexdigest()
    return _store(image, stored, verified.thumbnail, still_wanted)


def verify_image(data: bytes) -> VerifiedImage:
    """Check `data` is a whole still PNG, JPEG or WebP within the limits, and thumbnail it."""
    if len(data) > settings.DOWNLOAD_MAX_BYTES:
        raise InvalidImage(gettext_noop("The image file is too large."))
    try:
        # The global filter list is shared between threads, so this guard is a second line:
        # the explicit pixel check below, made on the header alone, is what refuses a bomb.
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
                fmt, (width, height) = FORMATS.get(probe.format or ""), probe.size
                if fmt is None:  # e.g. MPO, which Pillow's JPEG opener can hand back
                    raise InvalidImage(UNSUPPORTED)
                if width * height > settings.IMAGE_MAX_PIXELS:
                    raise InvalidImage(TOO_MANY_PIXELS % {"width": width, "height": height})
                if getattr(probe, "n_frames", 1) > 1:
                    raise InvalidImage(gettext_noop("Animated images are not accepted."))
                probe.verify()  # chunk CRCs for PNG; cheap, and before any pixel is decoded
            with PILImage.open(io.BytesIO(data), formats=[probe.format or ""]) as im:
                return _thumbnail(im, fmt, width, height)
    except PILImage.UnidentifiedImageError:
        raise InvalidImage(UNSUPPORTED) from None
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise InvalidImage(gettext_noop("The image is too large.")) from None
    except DECODE_ERRORS as error:
        logger.info("refused an image: %r", error)
        raise InvalidImage(gettext_noop("The image is damaged or incomplete.")) from None


def _thumbnail(im: PILImage.Image, fmt: str, width: int, height: int) -> VerifiedImage:
    size = settings.THUMBNAIL_SIZE
    if fmt == "jpeg":
        im.draft(None, (size, size))  # let libjpeg scale down while decoding: far less work
    im.load()  # the full decode: truncated or corrupt data fails here
    icc_profile = im.info.get("icc_profile")
    if im.mode in ("I", "I;16"):  # 16-bit grey: scale to 8 bits, where convert() would clip
        im = im.point(lambda value: value / 256, "L")
    if im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGBA" if im.has_transparency_data else "RGB")
    # reducing_gap=1.0 does an exact 2x step (1024 -> 512) as one box reduce: 1 ms instead of
    # 10 ms for bicubic, and 48 dB PSNR against LANCZOS, which no one can see in a thumbnail.
    im.thumbnail((size, size), PILImage.Resampling.BICUBIC, reducing_gap=1.0)
    out = io.BytesIO()
    im.save(
        out,
        "WEBP",
        quality=THUMBNAIL_QUALITY,
        method=THUMBNAIL_METHOD,
        icc_profile=icc_profile,
    )
    return VerifiedImage(fmt, width, height, out.getvalue(), im.width, im.height)


def _store(
    image: Image, stored: bytes, thumbnail: bytes, still_wanted: Callable[[], bool] | None
) -> Image:
    """Write both files, then insert the row; on any failure delete what was written."""
    written: list[FieldFile] = []
    try:
        # Files first and outside the transaction: on SQLite, atomic() takes the write lock,
        # which must not be held while bytes go to disk or an object store.
        image.file.save("original", ContentFile(stored), save=False)
        written.append(image.file)
        image.thumbnail.save("thumbnail", ContentFile(thumbnail), save=False)
        written.append(image.thumbnail)
        with transaction.atomic():
            if still_wanted is not None and not still_wanted():
                raise NotWanted
            image.save(force_insert=True)
    except IntegrityError:
        _delete(written)
        # A concurrent retry of the same job got there first: theirs is the image.
        winner = Image.objects.filter(generation=image.generation, index=image.index).first()
        if winner is None:
            raise
        return winner
    except BaseException:
        _delete(written)
        raise
    return image


def _delete(files: list[FieldFile]) -> None:
    for field_file in files:
        try:
            field_file.storage.delete(field_file.name)
        except Exception:
            # Never hide the error being handled; sweep_orphan_files removes what is left.
            logger.exception("could not delete %s after a failed ingest", field_file.name)


def parameters_text(image: Image) -> str:
    """The AUTOMATIC1111-style text: the prompt, then one line of `Key: value` pairs."""
    generation = image.generation
    fields: dict[str, Any] = {"Model": image.model_name, "Size": image.size}
    for key, value in generation.parameters.items():
        if key not in DELIVERY_OPTIONS:
            fields[key.replace("_", " ").capitalize()] = value
    if image.revised_prompt:
        fields["Revised prompt"] = image.revised_prompt
    fields["Generation"] = str(generation.pk)
    return image.prompt + "\n" + ", ".join(f"{k}: {_quote(v)}" for k, v in fields.items())


def _quote(value: Any) -> str:
    # As A1111 does: a value that would break the `Key: value, ...` line goes in JSON quotes.
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if any(c in text for c in ",:\n\r") or text.startswith('"'):
        return json.dumps(text, ensure_ascii=False)
    return text


def metadata_document(image: Image) -> dict[str, Any]:
    """The JSON document embedded in the file: everything needed to know how it was made."""
    return {
        "app": {"name": APP_NAME, "version": app_version()},
        "generation": str(image.generation_id),
        "image": str(image.uuid),
        "index": image.index,
        "model": image.model_name,
        "prompt": image.prompt,
        "revised_prompt": image.revised_prompt,
        "parameters": image.generation.parameters,
        "width": image.width,
        "height": image.height,
        "created": image.created_at.isoformat(),
    }


@functools.cache
def app_version() -> str:
    try:
        return importlib.metadata.version(APP_NAME)
    except importlib.metadata.PackageNotFoundError:
        pass
    # A checkout run in place (the default set-up) is not installed: ask pyproject.toml.
    try:
        with open(settings.BASE_DIR / "pyproject.toml", "rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"
