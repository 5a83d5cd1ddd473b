"""Keep one generated image: verify it, embed its metadata, store it with its thumbnails, record it.

The original is kept byte for byte as the endpoint returned it, plus the spliced-in metadata: it
is never re-encoded (an animated GIF keeps every frame; an SVG is kept exactly as checked).
Verifying and thumbnailing are gallery.verify's job.
"""

import functools
import hashlib
import importlib.metadata
import json
import logging
import tomllib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from gallery.embedding import embed_metadata
from gallery.models import Image, ImageInput, PendingFile
from gallery.verify import InvalidImage, VerifiedImage, verify_image
from imagegen.costs import ledger
from imagegen.models import Generation

# What the rest of the code takes from here (imagegen.tasks, the tests): ingest and its errors.
__all__ = [
    "InvalidImage",
    "NotWanted",
    "VerifiedImage",
    "cost_of",
    "ingest_image",
    "metadata_document",
    "parameters_text",
    "verify_image",
]

logger = logging.getLogger(__name__)

APP_NAME = "image-studio"
# Request options that describe delivery rather than the picture, left out of the A1111 text.
DELIVERY_OPTIONS = {"n", "response_format", "stream", "partial_images", "size"}


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

    Raises InvalidImage when `data` is not an image we keep (gallery.verify), whole and within
    the size limits. A failure leaves no row and no file behind. `still_wanted` is called inside
    the transaction that saves the row (it may lock the generation); if it returns False nothing
    is kept and NotWanted is raised.
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
        grid_width=verified.grid_width,
        grid_height=verified.grid_height,
        format=verified.format,
        model_name=generation.model_name,
        prompt=generation.prompt,
        revised_prompt=revised_prompt,
        stack_root_id=_stack_root(generation),
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
    return store_image(image, stored, verified, still_wanted)


def store_image(
    image: Image,
    stored: bytes,
    verified: VerifiedImage,
    still_wanted: Callable[[], bool] | None,
) -> Image:
    """Write the original and both thumbnails, then insert the row; on any failure delete what
    was written.

    The three keys are chosen first and recorded (gallery.PendingFile, committed) before a byte
    is written; the row is inserted and the records dropped in one transaction. So a process
    killed at any instant leaves each file either under its row or under a record, which
    recovery of the job (or, for an upload, the orphan sweep) deletes with its file."""
    files = [
        (image.file, "original", stored),
        (image.thumbnail, "thumbnail", verified.thumbnail),
        (image.grid, "grid", verified.grid),
    ]
    for field_file, label, _content in files:
        field_file.name = field_file.field.generate_filename(image, label)
    keys = [field_file.name for field_file, _label, _content in files]
    PendingFile.objects.record(keys, image.generation_id)
    try:
        # Files outside the transaction: on SQLite, atomic() takes the write lock, which must
        # not be held while bytes go to disk or an object store.
        for field_file, _label, content in files:
            write_exactly(field_file.storage, field_file.name, content)
        with transaction.atomic():
            if still_wanted is not None and not still_wanted():
                raise NotWanted
            if not PendingFile.objects.settle(keys):
                raise NotWanted  # this run was given up and its files deleted: not ours to keep
            image.save(force_insert=True)
    except IntegrityError:
        PendingFile.objects.give_up(keys)
        if image.generation_id is None:
            raise
        # A concurrent retry of the same job got there first: theirs is the image.
        winner = Image.objects.filter(generation=image.generation, index=image.index).first()
        if winner is None:
            raise
        return winner
    except BaseException:
        # Every recorded key, a file half written when the error came included; a file that
        # cannot be deleted now keeps its record, for recovery or the orphan sweep.
        PendingFile.objects.give_up(keys)
        raise
    return image


def write_exactly(storage: Storage, key: str, content: bytes) -> None:
    """Write `content` under `key`, the name recorded, and under no other.

    A storage that does not overwrite (FileSystemStorage, or our S3 storage) saves under another
    name when the key is taken, and that name would be recorded nowhere. Keys are new UUIDs, so a
    clash means something is wrong: refuse rather than rename. The storage looks before it writes
    (one HEAD on S3); looking here as well would only ask twice."""
    saved = storage.save(key, ContentFile(content), max_length=Image.file.field.max_length)
    if saved != key:
        storage.delete(saved)  # taken: never leave a name nothing records
        raise FileExistsError(f"storage key {key} is taken (saved as {saved})")


def _stack_root(generation: Generation) -> int | None:
    """The first version of the image this job edited or varied: the stack it joins."""
    parent = (
        ImageInput.objects.filter(
            generation=generation,
            role__in=[ImageInput.Role.EDITED, ImageInput.Role.VARIED],
            image__isnull=False,
        )
        .values_list("image_id", "image__stack_root_id")
        .first()
    )
    return (parent[1] or parent[0]) if parent else None


def lineage(generation: Generation) -> dict[str, Any]:
    """Where a job's images came from, by image UUID, for the embedded metadata."""
    found: dict[str, Any] = {}
    for source in generation.inputs.all():
        uuid = str(source.image_uuid)
        if source.role == ImageInput.Role.REFERENCE:
            found.setdefault("references", []).append(uuid)
        else:
            found[f"{source.role}_from"] = uuid  # edited_from, varied_from
            if source.mask:
                found["masked"] = True
    return found


def parameters_text(image: Image) -> str:
    """The AUTOMATIC1111-style text: the prompt, then one line of `Key: value` pairs."""
    generation = image.generation
    fields: dict[str, Any] = {"Model": image.model_name, "Size": image.size}
    for key, value in generation.parameters.items():
        if key not in DELIVERY_OPTIONS:
            fields[key.replace("_", " ").capitalize()] = value
    if image.revised_prompt:
        fields["Revised prompt"] = image.revised_prompt
    sources = lineage(generation)
    for key, label in (("edited_from", "Edited from"), ("varied_from", "Varied from")):
        if key in sources:
            fields[label] = sources[key]
    if sources.get("references"):
        fields["References"] = " ".join(sources["references"])
    fields["Generation"] = str(generation.pk)
    if cost := cost_of(image):
        fields["Cost"] = f"{cost['amount']} {cost['currency']}"
        fields["Cost basis"] = cost["basis"]
    return image.prompt + "\n" + ", ".join(f"{k}: {_quote(v)}" for k, v in fields.items())


def _quote(value: Any) -> str:
    # As A1111 does: a value that would break the `Key: value, ...` line goes in JSON quotes.
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if any(c in text for c in ",:\n\r") or text.startswith('"'):
        return json.dumps(text, ensure_ascii=False)
    return text


def metadata_document(image: Image) -> dict[str, Any]:
    """The JSON document embedded in the file: everything needed to know how it was made. An
    upload (no job) says so, with the name it came under and what its file told of its making."""
    job = image.generation
    if job is None:
        made = {
            "origin": image.origin,
            "uploaded_name": image.original_name,
            **({"found_metadata": image.found_metadata} if image.found_metadata else {}),
        }
    else:
        made = {
            "generation": str(job.pk),
            "index": image.index,
            "parameters": job.parameters,
            **({"lineage": sources} if (sources := lineage(job)) else {}),
        }
    return {
        "app": {"name": APP_NAME, "version": app_version()},
        "image": str(image.uuid),
        "model": image.model_name,
        "prompt": image.prompt,
        "revised_prompt": image.revised_prompt,
        "width": image.width,
        "height": image.height,
        "created": image.created_at.isoformat(),
        **made,
        **({"cost": cost} if (cost := cost_of(image)) else {}),
    }


def cost_of(image: Image) -> dict[str, Any] | None:
    """The image's share of what its job cost, for the embedded metadata: the amount to a
    millionth, its currency, and how it is known (usage: the tokens the upstream counted; price:
    the model's price). None when the price is unknown. Ingest runs before the worker sets
    `Image.cost`, so the share is worked out from the job, which the ledger has already priced."""
    job = image.generation
    billed = (Generation.CostBasis.USAGE, Generation.CostBasis.PRICE)
    if job is None or job.cost_basis not in billed:
        return None
    amount = image.cost if image.cost is not None else ledger.image_share(job)
    if amount is None:
        return None
    cost = {"amount": f"{amount:.6f}", "currency": job.cost_currency, "basis": job.cost_basis}
    if (job.images_returned or 0) > 1 and job.cost is not None:
        cost |= {"job_amount": f"{job.cost:.6f}", "job_images": job.images_returned}
    return cost


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
