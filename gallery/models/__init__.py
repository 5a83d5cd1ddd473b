"""What the studio keeps: images (images.py; what each generation started from, inputs.py),
collections (organise.py), comparisons (comparisons.py), share links (links.py), files on their
way to storage (files.py) and views of other people's files (audit.py). The rest of the code, and
the migrations, import from here."""

from gallery.models.audit import FileAccessRecord
from gallery.models.comparisons import Comparison, ComparisonEntry, ComparisonQuerySet
from gallery.models.files import PendingFile
from gallery.models.images import (
    Image,
    ImageQuerySet,
    delete_stored_files,
    original_path,
    thumbnail_path,
)
from gallery.models.inputs import ImageInput
from gallery.models.links import ShareLink, ShareLinkQuerySet, new_share_token
from gallery.models.organise import Collection, CollectionImage, CollectionQuerySet

__all__ = [
    "Collection",
    "CollectionImage",
    "CollectionQuerySet",
    "Comparison",
    "ComparisonEntry",
    "ComparisonQuerySet",
    "FileAccessRecord",
    "Image",
    "ImageInput",
    "ImageQuerySet",
    "PendingFile",
    "ShareLink",
    "ShareLinkQuerySet",
    "delete_stored_files",
    "new_share_token",
    "original_path",
    "thumbnail_path",
]
