"""Everything a person keeps, as one zip streamed while it is made ("Download everything" on their
settings page).

The archive holds:

- `index.json`: the account, their collections, comparisons and share links, and one line per
  image (its UUID, its files in the archive, whether it is in the Trash);
- `jobs.json`: every job they ran, failed and cancelled ones too (prompt, model, parameters,
  status, cost);
- `images/<prompt words>-<UUID>.<format>`: each image's original as stored, generated or
  uploaded, in the Trash or not (it is still theirs until the Trash is emptied), with
  `images/<prompt words>-<UUID>.json` beside it: everything known about it (see
  image_document);
- `masks/<job>-<position>.png`: each mask they painted for an edit, named in the JSON of the
  images that edit made.

Names are unique by the image's full UUID and safe (letters, digits and dashes only), and do not
depend on the order or on the moment, so the index, written first, names the same files the
archive then holds. Nothing is held whole in memory or on disk: rows are read in chunks, files
in CHUNK-sized pieces (from object storage too: gallery.media.open_stored), and the zip leaves
as it is written (gallery.archive's unseekable spool, ZIP_STORED with data descriptors). Images
made after the export began are left out; one whose original is missing from storage keeps its
metadata JSON.
"""

import json
import logging
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Max, Prefetch, QuerySet
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone

from gallery.archive import CHUNK, _Spool
from gallery.ingest import APP_NAME, app_version, cost_of
from gallery.media import open_stored
from gallery.models import Collection, Comparison, Image, ImageInput, ShareLink
from imagegen.models import Generation

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
ROWS = 200  # rows read per query: bounded memory however many images there are


def stream_export(user: User, site: str) -> Iterator[bytes]:
    """The person's whole archive, as bytes to send while it is made. `site`: the studio's
    address (https://host), for the share links' full URLs."""
    started = timezone.now()
    newest = Image.objects.filter(owner=user).aggregate(newest=Max("id"))["newest"] or 0
    images = Image.objects.filter(owner=user, id__lte=newest).order_by("id")
    spool = _Spool()
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
        head = _account(user, site) | {"image_count": images.count()}
        yield from _write_list(archive, spool, "index.json", head, "images", _index_rows(images))
        jobs = Generation.objects.filter(owner=user).defer("preview").order_by("created_at")
        rows = (_job_document(job) for job in jobs.iterator(chunk_size=ROWS))
        yield from _write_list(archive, spool, "jobs.json", {}, "jobs", rows)
        for image in _with_details(images).iterator(chunk_size=ROWS):
            try:
                yield from _write_file(archive, spool, file_name(image), image)
            except FileNotFoundError:  # lost from storage: its metadata is still theirs
                logger.warning("export: the original of image %s is missing", image.uuid)
            document = json.dumps(image_document(image, site), indent=2, ensure_ascii=False)
            archive.writestr(metadata_name(image), document)
            yield spool.drain()
        for source in _masks(user, started):
            if name := _mask_name(source):
                archive.writestr(name, bytes(source.mask))
                yield spool.drain()
    yield spool.drain()


def _masks(user: User, started: datetime) -> Iterator[ImageInput]:
    """The masks painted for their edits, one at a time (each up to 4 MB)."""
    edits = ImageInput.objects.filter(
        generation__owner=user, generation__created_at__lte=started, mask__isnull=False
    )
    yield from edits.annotate(mask_bytes=Length("mask")).order_by("id").iterator(chunk_size=1)


def _mask_name(source: ImageInput) -> str | None:
    """masks/<job>-<position>.png for an input with a mask (annotated with `mask_bytes`)."""
    if source.role != ImageInput.Role.EDITED or not source.mask_bytes:
        return None
    return f"masks/{source.generation_id}-{source.position}.png"


def file_name(image: Image) -> str:
    return f"images/{_stem(image)}.{image.format}"


def metadata_name(image: Image) -> str:
    return f"images/{_stem(image)}.json"


def _stem(image: Image) -> str:
    # download_name() is "<prompt words>-<first 8 of the UUID>.<format>", its words made only of
    # letters, digits and dashes; the full UUID makes the name unique.
    words = image.download_name().rsplit("-", 1)[0]
    return f"{words}-{image.uuid}"


def _write_file(
    archive: zipfile.ZipFile, spool: _Spool, name: str, image: Image
) -> Iterator[bytes]:
    with open_stored(image.file) as source, archive.open(name, "w", force_zip64=True) as entry:
        while chunk := source.read(CHUNK):
            entry.write(chunk)
            yield spool.drain()


def _write_list(
    archive: zipfile.ZipFile,
    spool: _Spool,
    name: str,
    head: dict[str, Any],
    key: str,
    rows: Iterable[dict[str, Any]],
) -> Iterator[bytes]:
    """A JSON object: `head`'s keys, then `key`: the list of `rows`, written row by row."""
    text = json.dumps(head, indent=2, ensure_ascii=False)  # "{\n  ...\n}", or "{}"
    opening = (text[:-2] + ",") if head else "{"
    opening += f"\n  {json.dumps(key)}: ["
    with archive.open(name, "w", force_zip64=True) as entry:
        entry.write(opening.encode())
        for number, row in enumerate(rows):
            line = ("," if number else "") + "\n    " + json.dumps(row, ensure_ascii=False)
            entry.write(line.encode())
            if spool.tell() and number % ROWS == 0:
                yield spool.drain()
        entry.write(b"\n  ]\n}\n")
    yield spool.drain()


def _index_rows(images: QuerySet[Image]) -> Iterator[dict[str, Any]]:
    rows = images.select_related(None).only("uuid", "prompt", "format", "trashed_at")
    for image in rows.iterator(chunk_size=ROWS):
        yield {
            "uuid": str(image.uuid),
            "file": file_name(image),
            "metadata": metadata_name(image),
            "in_trash": image.trashed_at is not None,
        }


def _with_details(images: QuerySet[Image]) -> QuerySet[Image]:
    # Never the binary columns (a running job's preview, a mask of up to 4 MB) ROWS at a time.
    inputs = ImageInput.objects.defer("mask").annotate(mask_bytes=Length("mask"))
    return (
        images.select_related("generation", "stack_root")
        .defer("generation__preview")
        .prefetch_related(
            Prefetch("collections", queryset=Collection.objects.order_by("name")),
            Prefetch("share_links", queryset=ShareLink.objects.order_by("created_at")),
            Prefetch("generation__inputs", queryset=inputs),
        )
    )


def image_document(image: Image, site: str) -> dict[str, Any]:
    """Everything known about one image, for the JSON beside its file."""
    job = image.generation
    document: dict[str, Any] = {
        "uuid": str(image.uuid),
        "file": file_name(image),
        "origin": image.origin,
        "prompt": image.prompt,
        "revised_prompt": image.revised_prompt,
        "model": image.model_name,
        "format": image.format,
        "width": image.width,
        "height": image.height,
        "bytes": image.bytes,
        "sha256": image.sha256,
        "created": _when(image.created_at),
        "rating": image.rating,
        "favourite": image.favourite,
        "in_trash": image.trashed_at is not None,
        "moved_to_trash": _when(image.trashed_at),
        "collections": [{"uuid": str(c.uuid), "name": c.name} for c in image.collections.all()],
        "first_version": str(image.stack_root.uuid) if image.stack_root else None,
        "cost": cost_of(image),
        "share_links": [_link_document(link, site) for link in image.share_links.all()],
    }
    if job is None:  # uploaded
        return document | {
            "uploaded_file_name": image.original_name,
            "metadata_found_in_file": image.found_metadata,
        }
    started_from = [  # the mask's length is read, never the mask (see _with_details)
        {"role": i.role, "image": str(i.image_uuid), "mask": _mask_name(i)}
        for i in job.inputs.all()
    ]
    return document | {
        "job": str(job.pk),
        "index": image.index,
        "endpoint": job.endpoint,
        "parameters": job.parameters,
        "settings_returned": job.returned_settings,
        "started_from": started_from,
    }


def _account(user: User, site: str) -> dict[str, Any]:
    collections = Collection.objects.filter(owner=user).order_by("name")
    comparisons = Comparison.objects.filter(owner=user).order_by("created_at")
    links = ShareLink.objects.filter(owner=user).select_related("image", "collection", "comparison")
    return {
        "format": {"name": "image studio export", "version": FORMAT_VERSION},
        "app": {"name": APP_NAME, "version": app_version()},
        "exported": _when(timezone.now()),
        "account": {
            "username": user.get_username(),
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "joined": _when(user.date_joined),
        },
        "collections": [
            {
                "uuid": str(c.uuid),
                "name": c.name,
                "search": c.query or None,
                "created": _when(c.created_at),
            }
            for c in collections
        ],
        "comparisons": [
            {"uuid": str(c.uuid), "title": c.title, "created": _when(c.created_at)}
            for c in comparisons
        ],
        "share_links": [_link_document(link, site) for link in links.order_by("created_at")],
    }


def _link_document(link: ShareLink, site: str) -> dict[str, Any]:
    thing = link.shared_thing
    kind = "image" if link.image_id else "collection" if link.collection_id else "comparison"
    return {
        "url": site + reverse("shared_page", args=[link.token]),
        "shares": {"kind": kind, "uuid": str(thing.uuid) if thing else None},
        "hides_prompt": link.hide_prompt,
        "created": _when(link.created_at),
        "expires": _when(link.expires_at),
        "revoked": _when(link.revoked_at),
        "views": link.view_count,
    }


def _job_document(job: Generation) -> dict[str, Any]:
    return {
        "id": str(job.pk),
        "created": _when(job.created_at),
        "finished": _when(job.finished_at),
        "status": job.status,
        "model": job.model_name,
        "endpoint": job.endpoint,
        "prompt": job.prompt,
        "parameters": job.parameters,
        "error": job.error_message or None,
        "cost": None if job.cost is None else f"{job.cost:.6f}",
        "estimated_cost": None if job.estimated_cost is None else f"{job.estimated_cost:.6f}",
        "currency": job.cost_currency or None,
        "cost_basis": job.cost_basis or None,
        "images_returned": job.images_returned,
    }


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
