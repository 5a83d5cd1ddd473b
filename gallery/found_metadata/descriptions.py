"""exif and comment: a plain description, taken as the prompt, when no richer layout is found."""

from gallery.found_metadata.result import FoundMetadata, Texts

EXIF_KEYS = ("exif:ImageDescription", "exif:UserComment", "exif:XPComment", "exif:XPTitle")
COMMENT_KEYS = ("gif:comment", "jpeg:comment")


def read_exif(texts: Texts) -> FoundMetadata | None:
    return _first(texts, EXIF_KEYS, "exif")


def read_comment(texts: Texts) -> FoundMetadata | None:
    return _first(texts, COMMENT_KEYS, "comment")


def _first(texts: Texts, keys: tuple[str, ...], source: str) -> FoundMetadata | None:
    for key in keys:
        # Cameras pad ImageDescription with spaces: blank says nothing.
        if text := texts.get(key, "").strip():
            return FoundMetadata(source, prompt=text)
    return None
