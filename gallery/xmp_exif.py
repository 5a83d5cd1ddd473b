"""The documents the studio writes inside an image file, whatever the container: an XMP packet
(dc:description, the parameters text and the JSON document in our namespace) and an EXIF block
(ImageDescription, Software, UserComment as AUTOMATIC1111 writes it), read back safely and
recognised as ours when taken out again. Where each goes in PNG, JPEG and WebP:
gallery/embedding.py."""

import re
import struct
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from PIL import Image as PILImage

XMP_NAMESPACE = "urn:image-studio:xmp:1.0/"  # a name, not a URL
JPEG_EXIF = b"Exif\x00\x00"  # what precedes an EXIF block in a JPEG segment (and Pillow's bytes)
# Characters XML 1.0 cannot carry (controls, lone surrogates, U+FFFE/FFFF).
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpNote": "http://ns.adobe.com/xmp/note/",
    "imagegen": XMP_NAMESPACE,
}


def xmp_element(tag: str, value: object) -> str:
    # Properties as elements, not attributes: attribute values would lose their newlines.
    return f"<{tag}>{escape(str(value))}</{tag}>" if value else ""


def xmpmeta(*properties: str) -> str:
    namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items() if prefix != "x")
    body = "\n".join(p for p in properties if p)
    return (
        f'<x:xmpmeta xmlns:x="{NS["x"]}"><rdf:RDF {namespaces}>'
        f'<rdf:Description rdf:about="">\n{body}\n</rdf:Description></rdf:RDF></x:xmpmeta>'
    )


def xmp_packet(xmpmeta: str) -> bytes:
    wrapper = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n{}\n<?xpacket end="w"?>'
    return wrapper.format(xmpmeta).encode()


def xmp_find(packet: bytes, prefix: str, name: str) -> str | None:
    """A simple property, written as an element or as an attribute of rdf:Description."""
    if not packet:
        return None
    # XMP never has a DTD; refusing one rules out entity expansion and external entities, so
    # the standard parser is safe on files from elsewhere.
    if re.search(rb"<!(DOCTYPE|ENTITY)", packet, re.IGNORECASE):
        raise ValueError("XMP with a DTD")
    try:
        root = ElementTree.fromstring(packet.strip(b"\x00 \t\r\n"))  # noqa: S314
    except ElementTree.ParseError as error:
        raise ValueError(f"malformed XMP: {error}") from None
    tag = f"{{{NS[prefix]}}}{name}"
    for description in root.iter(f"{{{NS['rdf']}}}Description"):
        if tag in description.attrib:
            return description.attrib[tag]
        element = description.find(tag)
        if element is not None:
            return element.text or ""
    return None


def exif_block(prompt: str, parameters: str, creator: str) -> bytes:
    """A TIFF-structured EXIF block (no "Exif" prefix) with the prompt and parameters text."""
    exif = PILImage.Exif()
    exif[0x010E] = prompt.encode()  # ImageDescription; UTF-8, as phones and exiftool write it
    exif[0x0131] = creator  # Software
    # UserComment, as A1111 writes it: "UNICODE" then UTF-16 in the (big-endian) TIFF byte order.
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + parameters.encode("utf-16-be")
    return exif.tobytes()[len(JPEG_EXIF) :]


def is_our_xmp(packet: bytes | memoryview) -> bool:
    # Every packet xmpmeta() writes declares our namespace, the small main packet of an
    # Extended XMP file included.
    return XMP_NAMESPACE.encode() in bytes(packet)


def is_our_exif(tiff: bytes | memoryview) -> bool:
    """Whether an EXIF block has exactly the shape exif_block() writes.

    Recognised by its tags rather than its bytes, so files written under another Pillow version
    are still recognised: ImageDescription, Software and an EXIF IFD holding only a UNICODE
    UserComment. A camera's or another program's EXIF has other tags, and stays.
    """
    exif = PILImage.Exif()
    try:
        exif.load(JPEG_EXIF + bytes(tiff).removeprefix(JPEG_EXIF))
        sub_ifd = exif.get_ifd(0x8769)
    except (SyntaxError, ValueError, struct.error, OSError, KeyError, IndexError):
        return False  # unreadable: not something we wrote
    comment = sub_ifd.get(0x9286)
    return (
        set(exif) == {0x010E, 0x0131, 0x8769}
        and set(sub_ifd) == {0x9286}
        and isinstance(comment, bytes)
        and comment.startswith(b"UNICODE\x00")
    )
