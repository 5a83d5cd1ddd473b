"""Keep images a person uploads: verified like generated ones, stored privately, their metadata
read (gallery.found_metadata) and kept, never re-encoded.

A zip is opened member by member, each bounded before it is read (a member's declared size can
lie, so the read itself is capped), with limits on the number of files and on the bytes they
expand to. Only PNG, JPEG, WebP and GIF are taken: an SVG is markup the studio only accepts from
its own models. The same file uploaded twice by the same person is the same image.
"""

import hashlib
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext_noop

from gallery.found_metadata import read_found_metadata
from gallery.ingest import store_image
from gallery.models import Image
from gallery.verify import UNSUPPORTED, InvalidImage, verify_image
from imagegen.job_messages import shown_message

UPLOADED_FORMATS = {"png", "jpeg", "webp", "gif"}
ZIP_SIGNATURE = b"PK\x03\x04"
TOO_LARGE = gettext_noop("The file is larger than the upload limit.")
NOT_RASTER = gettext_noop("Only PNG, JPEG, WebP and GIF images can be uploaded.")
TOO_MANY = gettext_noop("Too many files at once: the rest were not read.")
ZIP_TOO_LARGE = gettext_noop(
    "The zip expands to more than the upload limit: the rest were not read."
)
ENCRYPTED = gettext_noop("The file is encrypted.")
BAD_ZIP = gettext_noop("The zip file is damaged.")


@dataclass(frozen=True)
class Refusal:
    name: str
    message: str  # English, marked for translation

    @property
    def shown_message(self) -> str:
        """In the reader's language, details (a size) included."""
        return shown_message(self.message)


@dataclass
class UploadReport:
    kept: list[Image] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def upload_files(owner: Any, files: list[Any]) -> UploadReport:
    """Keep every image among `files` (Django UploadedFiles; zips are opened), and say why each
    one that was not kept was refused."""
    report = UploadReport()
    budget = _Budget(settings.UPLOAD_MAX_FILES, settings.UPLOAD_ZIP_MAX_BYTES)
    for upload in files:
        for name, data, problem in _expand(upload, budget):
            if problem:
                report.refused.append(Refusal(name, problem))
                continue
            try:
                image = ingest_upload(owner, data, name)
            except InvalidImage as error:
                report.refused.append(Refusal(name, error.message))
                continue
            if image not in report.kept:  # the same file twice is one image, kept once
                report.kept.append(image)
    return report


def ingest_upload(owner: Any, data: bytes, name: str) -> Image:
    """Keep one uploaded image; raises InvalidImage when it is not one the gallery keeps."""
    if len(data) > settings.UPLOAD_MAX_BYTES:
        raise InvalidImage(TOO_LARGE)
    try:
        verified = verify_image(data)
    except InvalidImage as refused:
        # Said as uploads are: verify_image also keeps SVGs, which only models may make.
        raise InvalidImage(
            NOT_RASTER if refused.message == UNSUPPORTED else refused.message
        ) from None
    if verified.format not in UPLOADED_FORMATS:
        raise InvalidImage(NOT_RASTER)
    digest = hashlib.sha256(data).hexdigest()
    # The Trash too: uploading a file again brings its image back out of the Trash.
    same = Image.objects.filter(owner=owner, sha256=digest, origin=Image.Origin.UPLOADED)
    if existing := same.first():
        if existing.trashed_at is not None:
            Image.objects.filter(pk=existing.pk).restore()
            existing.refresh_from_db()
        return existing
    found = read_found_metadata(data)
    image = Image(
        owner=owner,
        generation=None,
        index=0,
        origin=Image.Origin.UPLOADED,
        original_name=shown_name(name),
        found_metadata=asdict(found),
        width=verified.width,
        height=verified.height,
        thumbnail_width=verified.thumbnail_width,
        thumbnail_height=verified.thumbnail_height,
        grid_width=verified.grid_width,
        grid_height=verified.grid_height,
        format=verified.format,
        bytes=len(data),
        sha256=digest,
        model_name=found.model[:100],
        prompt=found.prompt,
        created_at=timezone.now(),
    )
    try:
        return store_image(image, data, verified, None)
    except IntegrityError:
        # The same file, uploaded at the same moment by the same person: one image.
        return same.get()


def shown_name(name: str) -> str:
    """A file name as shown: its last path part, printable, at most 255 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    return printable.strip()[:255]


class _Budget:
    """What one request may still read: files and bytes."""

    def __init__(self, files: int, zip_bytes: int) -> None:
        self.files, self.zip_bytes = files, zip_bytes

    def take_file(self) -> bool:
        self.files -= 1
        return self.files >= 0


def _expand(upload: Any, budget: _Budget) -> Iterator[tuple[str, bytes, str]]:
    """(name, bytes, problem) for the upload, or for each member of a zip."""
    name = upload.name or "upload"
    head = upload.read(4)
    upload.seek(0)
    # A zip is not a file of its own here: its members are counted instead.
    if head != ZIP_SIGNATURE and not budget.take_file():
        yield name, b"", TOO_MANY
        return
    if head != ZIP_SIGNATURE:
        if upload.size > settings.UPLOAD_MAX_BYTES:
            yield name, b"", TOO_LARGE
        else:
            yield name, upload.read(), ""
        return
    try:
        with zipfile.ZipFile(upload) as archive:
            yield from _members(archive, name, budget)
    except (zipfile.BadZipFile, OSError, EOFError):
        yield name, b"", BAD_ZIP


def _members(
    archive: zipfile.ZipFile, zip_name: str, budget: _Budget
) -> Iterator[tuple[str, bytes, str]]:
    for info in archive.infolist():
        name = f"{zip_name}/{info.filename}"
        hidden = any(
            part.startswith(".") or part == "__MACOSX" for part in info.filename.split("/")
        )
        if info.is_dir() or hidden:
            continue
        if not budget.take_file():
            yield name, b"", TOO_MANY
            return
        if info.flag_bits & 0x1:
            yield name, b"", ENCRYPTED
            continue
        if info.file_size > settings.UPLOAD_MAX_BYTES:
            yield name, b"", TOO_LARGE
            continue
        if info.file_size > budget.zip_bytes:
            yield name, b"", ZIP_TOO_LARGE
            return
        data = _read_at_most(archive, info, settings.UPLOAD_MAX_BYTES)
        if data is None:
            yield name, b"", TOO_LARGE  # the member expanded past what its header said
            continue
        budget.zip_bytes -= len(data)
        yield name, data, ""


def _read_at_most(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    try:
        # Opened here, inside the try: open() is what raises for a compression method or a
        # feature zipfile cannot read (Deflate64, which Windows writes; patched data).
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        return b""  # damaged or an unknown compression: verify_image says it is not an image
    return None if len(data) > limit else data
