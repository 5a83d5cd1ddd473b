"""What the studio keeps: images (images.py; what each generation started from, inputs.py),
collections (organise.py), comparisons (comparisons.py) and share links (links.py). The rest of
the code, and the migrations, import from here."""

from gallery.models.comparisons import Comparison, ComparisonEntry, ComparisonQuerySet
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
    "Image",
    "ImageInput",
    "ImageQuerySet",
    "ShareLink",
    "ShareLinkQuerySet",
    "delete_stored_files",
    "new_share_token",
    "original_path",
    "thumbnail_path",
]
