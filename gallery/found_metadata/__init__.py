"""Metadata already in an image someone uploads (PNG, JPEG, WebP or GIF), read to be searched.

The layouts, in the order they are tried; the first one found gives the fields, and every text
found is kept in `raw` whichever wins:

- image-studio (studio.py): our own JSON document as gallery.embedding writes it: PNG iTXt
  `imagegen`, imagegen:Metadata in the XMP of a JPEG (Extended XMP too) or WebP, GIF comment.
- invokeai (invokeai.py): PNG `invokeai_metadata` (3.x and later) or `sd-metadata` (2.x) JSON.
- comfyui (comfyui.py): PNG `prompt` (the API graph) and `workflow` (the editor's graph) JSON.
- automatic1111 (a1111.py): the `parameters` text of A1111 and Forge in a PNG text chunk, or
  the EXIF UserComment of a JPEG or WebP when it has that layout.
- xmp (xmp.py): dc:description and dc:title, from PNG iTXt `XML:com.adobe.xmp`, a JPEG APP1
  segment or a WebP `XMP ` chunk.
- exif (descriptions.py): ImageDescription, else UserComment, XPComment or XPTitle, from the
  EXIF of a JPEG, a WebP or a PNG eXIf chunk.
- comment (descriptions.py): a GIF comment extension or a JPEG COM segment.

containers.py finds the texts. The input is untrusted and may be 50 MB, so nothing decodes the
image and everything is bounded: each text is read to at most 1 MiB (compressed ones inflated no
further), at most 32 texts are kept, each clipped to 64 KiB in `raw`; JSON, XML (never with a
DTD) and settings lines are parsed only from texts within 1 MiB; a ComfyUI graph is looked at
for its first 2000 nodes, each visited once.
"""

from dataclasses import replace

from gallery.found_metadata import a1111, comfyui, descriptions, invokeai, studio, xmp
from gallery.found_metadata.containers import read_texts
from gallery.found_metadata.result import FoundMetadata

__all__ = ["FoundMetadata", "read_found_metadata"]

RAW_LIMIT = 64 * 1024  # bytes of UTF-8 kept of each text in `raw`
LAYOUTS = (
    studio.read,
    invokeai.read,
    comfyui.read,
    a1111.read,
    xmp.read,
    descriptions.read_exif,
    descriptions.read_comment,
)


def read_found_metadata(data: bytes) -> FoundMetadata:
    """The metadata in `data`, by the first layout recognised. Never raises for any bytes: what
    cannot be parsed is kept in `raw` only."""
    texts = read_texts(data)
    raw = {key: _clip(text) for key, text in texts.items()}
    for layout in LAYOUTS:
        found = layout(texts)
        if found is not None:
            return replace(found, raw=raw)
    return FoundMetadata("", raw=raw)


def _clip(text: str) -> str:
    # Cut on a byte boundary; "ignore" drops only a character the cut split.
    return text.encode()[:RAW_LIMIT].decode("utf-8", "ignore")
