"""XMP: the description (as the prompt) and title of an XMP packet, from any container."""

import re
from xml.etree import ElementTree

from gallery.found_metadata.result import FoundMetadata, Texts, parseable
from gallery.xmp_exif import NS

DTD = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def read(texts: Texts) -> FoundMetadata | None:
    root = parse(texts.get("xmp", ""))
    if root is None:
        return None
    description, title = _alternative(root, "description"), _alternative(root, "title")
    if not (description or title):
        return None
    settings = {"Title": title} if title else {}
    return FoundMetadata("xmp", prompt=description or title, settings=settings)


def parse(packet: str) -> ElementTree.Element | None:
    """The packet's root element, or None when it is missing, too long, malformed or has a DTD."""
    # XMP never has a DTD; refusing one rules out entity expansion and external entities, so
    # the standard parser is safe on files from elsewhere (as in gallery.embedding).
    if not packet or not parseable(packet) or DTD.search(packet):
        return None
    try:
        return ElementTree.fromstring(packet.strip("\x00 \t\r\n"))  # noqa: S314
    except (ElementTree.ParseError, ValueError):
        return None


def _alternative(root: ElementTree.Element, name: str) -> str:
    """A dc: language alternative: its x-default item, else its first, else its plain text."""
    element = next(root.iter(f"{{{NS['dc']}}}{name}"), None)
    if element is None:
        return ""
    items = list(element.iter(f"{{{NS['rdf']}}}li"))
    for item in items:
        if item.get(XML_LANG) == "x-default":
            return (item.text or "").strip()
    chosen = items[0] if items else element
    return (chosen.text or "").strip()
