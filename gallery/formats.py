"""The file formats the gallery keeps, and how each is named and served: the one place for both.

`Image.format` holds one of these names, which is also the original's file extension. Every
thumbnail is a still WebP, whatever the original.
"""

# What the gallery's format filter shows for each; names of formats, not words to translate.
LABELS = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP", "gif": "GIF", "svg": "SVG"}
MIME_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "svg": "image/svg+xml",
}
THUMBNAIL = "webp"
# Originals whose still thumbnail cannot stand in for them: an animation's thumbnail is only its
# first frame, and a drawing scales to any size by itself.
SHOWN_WHOLE = frozenset({"gif", "svg"})
# Link previews in chat apps: what they show. No preview service draws an SVG (OpenGraph readers
# and X take JPEG, PNG, WebP and GIF), so an SVG is previewed by its thumbnail.
PREVIEWABLE = frozenset({"png", "jpeg", "webp", "gif"})


def mime_type(fmt: str) -> str:
    """The Content-Type of an original in format `fmt`."""
    return MIME_TYPES[fmt]
