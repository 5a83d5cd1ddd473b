"""image-studio: our own JSON document, as gallery.embedding writes it, from the texts found.

Read here from the bounded texts rather than with embedding.read_metadata(), which opens a PNG
with Pillow and parses a WebP's XMP or a GIF's comment whatever their size.
"""

from gallery.found_metadata import xmp
from gallery.found_metadata.result import FoundMetadata, Texts, as_text, load_json, size, string
from gallery.gif import MARKER
from gallery.xmp_exif import XMP_NAMESPACE


def read(texts: Texts) -> FoundMetadata | None:
    document = load_json(_document(texts))
    if not isinstance(document, dict):
        return None
    settings: dict[str, str] = {}
    if found_size := size(document.get("width"), document.get("height")):
        settings["Size"] = found_size
    parameters = document.get("parameters")
    for key, value in parameters.items() if isinstance(parameters, dict) else ():
        # Named as gallery.ingest.parameters_text names them in the A1111 text; the size the
        # image came out at wins over the size asked for.
        settings.setdefault(str(key).replace("_", " ").capitalize(), as_text(value))
    if revised := string(document.get("revised_prompt")):
        settings["Revised prompt"] = revised
    return FoundMetadata(
        "image-studio",
        prompt=string(document.get("prompt")),
        model=string(document.get("model")),
        settings=settings,
    )


def _document(texts: Texts) -> str:
    """The JSON text: PNG iTXt `imagegen`, our GIF comment, or imagegen:Metadata in the XMP."""
    if "png:imagegen" in texts:
        return texts["png:imagegen"]
    marker = MARKER.decode()
    for key, text in texts.items():
        if key.startswith("gif:comment") and text.startswith(marker):
            return text.removeprefix(marker)
    for key in ("xmp", "xmp:extended"):  # a long document is only in the Extended XMP
        root = xmp.parse(texts.get(key, ""))
        element = None if root is None else root.find(f".//{{{XMP_NAMESPACE}}}Metadata")
        if element is not None:
            return element.text or ""
    return ""
