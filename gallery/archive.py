"""Zip archives of originals, streamed while they are written, with a metadata JSON per image.

Each original is read from storage a chunk at a time as the zip is sent (from object storage
too: gallery.media.open_stored), so an archive of any size holds about one chunk in memory; a
copy without the prompt is the exception, made whole in memory (bounded by the file's size)."""

import json
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from gallery import embedding
from gallery.ingest import metadata_document
from gallery.media import open_stored
from gallery.models import Image

CHUNK = 256 * 1024


class _Spool:
    """A write-only, unseekable target: zipfile then writes data descriptors, so the archive
    can be sent while it is made, without holding more than one chunk in memory."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def stream_archive(
    images: Iterable[Image], *, shared: bool = False, hide_prompt: bool = False
) -> Iterator[bytes]:
    """A zip of the images' originals, each with a metadata JSON. `shared`: for a share link's
    visitor, so nothing private (favourites, the cost) is written; `hide_prompt`: the link hides the
    prompt, so the files go without their embedded metadata, under neutral names, and without
    the JSON."""
    spool = _Spool()
    used: set[str] = set()
    # Images are already compressed: storing them is as small and far faster than deflating.
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
        for number, image in enumerate(images, start=1):
            if hide_prompt:
                name = _unique(f"image-{number}.{image.format}", used)
                with open_stored(image.file) as source:
                    data = _stripped(source.read(), image.format)
                archive.writestr(name, data)
                yield spool.drain()
                continue
            name = _unique(image.download_name(), used)
            with (
                open_stored(image.file) as source,
                archive.open(name, "w", force_zip64=True) as entry,
            ):
                while chunk := source.read(CHUNK):
                    entry.write(chunk)
                    yield spool.drain()
            stem = name.rsplit(".", 1)[0]
            described = _metadata(image, shared=shared)
            archive.writestr(f"{stem}.json", json.dumps(described, indent=2, ensure_ascii=False))
            yield spool.drain()
    yield spool.drain()


def _stripped(data: bytes, fmt: str) -> bytes:
    try:
        return embedding.strip_metadata(data, fmt)
    except ValueError:  # kept without embedded metadata (see gallery.media): nothing to take out
        return data


def _metadata(image: Image, *, shared: bool) -> dict[str, Any]:
    described = metadata_document(image) | {
        "format": image.format,
        "bytes": image.bytes,
        "sha256": image.sha256,
    }
    if shared:
        # What the owner spent on an image (its cost) is theirs, like their favourites: a share
        # link's visitor gets how it was made, never what it cost.
        described.pop("cost", None)
        return described
    return described | {"favourite": image.favourite}


def _unique(name: str, used: set[str]) -> str:
    stem, dot, extension = name.rpartition(".")
    candidate, number = name, 2
    while candidate in used:
        candidate, number = f"{stem}-{number}{dot}{extension}", number + 1
    used.add(candidate)
    return candidate
