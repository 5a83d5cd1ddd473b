"""Metadata that travels inside the image file, spliced into the container, never re-encoded.

Re-saving a 1024x1024 PNG costs 380-510 ms (and would change a JPEG's or WebP's pixels); splicing
costs well under a millisecond and leaves the image data untouched. What goes where:

- PNG: iTXt chunks before the first IDAT: `parameters` (the AUTOMATIC1111-style text A1111,
  InvokeAI and Civitai read) and `imagegen` (our JSON document).
- JPEG: EXIF APP1 (ImageDescription = prompt, UserComment = parameters text, as A1111 writes it)
  unless the file has EXIF already, and XMP APP1 (dc:description = prompt; parameters text and
  JSON in our namespace); a packet over the 64 KB segment limit goes into Extended XMP.
- WebP: the same EXIF and XMP, as chunks of the extended (VP8X) container.
- GIF89a: the JSON document in a comment extension before the trailer (gallery.gif).
- SVG: nothing (see embed_metadata).
"""

import hashlib
import io
import json
import struct
import zlib
from collections.abc import Iterator
from xml.sax.saxutils import escape

from PIL import Image as PILImage

from gallery import gif
from gallery.xmp_exif import (
    JPEG_EXIF,
    XML_INVALID,
    exif_block,
    is_our_exif,
    is_our_xmp,
    xmp_element,
    xmp_find,
    xmp_packet,
    xmpmeta,
)

PNG_KEYWORDS = (b"parameters", b"imagegen")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
JPEG_XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
JPEG_SEGMENT_MAX = 65533  # a segment's 16-bit length counts its own two bytes
EXTENSION_PART = JPEG_SEGMENT_MAX - len(JPEG_XMP_EXTENSION) - 32 - 8  # GUID, length, offset
WEBP_ALPHA, WEBP_EXIF, WEBP_XMP = 0x10, 0x08, 0x04  # VP8X flags
# Chunks that must come before EXIF and XMP in an extended WebP file.
WEBP_IMAGE_CHUNKS = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"}


def embed_metadata(data: bytes, fmt: str, parameters_text: str, metadata: dict) -> bytes:
    """`data` with the parameters text and the JSON `metadata` spliced in; raises ValueError."""
    if fmt == "gif":
        return gif.embed_comment(data, json.dumps(metadata))  # escaped to ASCII, as GIF wants
    if fmt == "svg":
        # An SVG is kept exactly as gallery.svg checked it: writing into it would mean editing
        # markup the safety check approved, for metadata that the row, the detail page and the
        # zip download's JSON already carry.
        return data
    text = XML_INVALID.sub("\ufffd", parameters_text)
    # JSON escapes control characters itself; what is left to clean is XML's business.
    document = XML_INVALID.sub("\ufffd", json.dumps(metadata, ensure_ascii=False))
    if fmt == "png":
        return _embed_png(data, text, document)
    prompt = XML_INVALID.sub("\ufffd", str(metadata.get("prompt", "")))
    app = metadata.get("app") or {}
    creator = f"{app.get('name', '')} {app.get('version', '')}".strip()
    head = [
        xmp_element("xmp:CreatorTool", creator),
        xmp_element("xmp:CreateDate", metadata.get("created")),
    ]
    description = f'<rdf:Alt><rdf:li xml:lang="x-default">{escape(prompt)}</rdf:li></rdf:Alt>'
    xmp = xmpmeta(
        *head,
        f"<dc:description>{description}</dc:description>",
        xmp_element("imagegen:Parameters", text),
        xmp_element("imagegen:Metadata", document),
    )
    exif = exif_block(prompt, text, creator)
    if fmt == "jpeg":
        return _embed_jpeg(data, xmp, exif, head)
    if fmt == "webp":
        return _embed_webp(data, xmp_packet(xmp), exif)
    raise ValueError(f"cannot embed metadata in {fmt!r}")


def read_metadata(data: bytes) -> dict:
    """The JSON document embed_metadata() wrote, or {} when there is none.

    Raises ValueError for a file that is not PNG, JPEG, WebP or GIF, or whose metadata is
    malformed, and OSError for a damaged PNG.
    """
    if data.startswith(PNG_SIGNATURE):
        # Pillow reads the text chunks before the image data (any of tEXt, zTXt, iTXt, with
        # limits on compressed ones) without decoding a pixel.
        with PILImage.open(io.BytesIO(data), formats=["PNG"]) as im:
            found = im.info.get("imagegen")
    elif data.startswith(b"\xff\xd8"):
        found = _read_jpeg_xmp(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        xmp = next((bytes(p) for fourcc, p in _riff_chunks(data) if fourcc == b"XMP "), b"")
        found = xmp_find(xmp, "imagegen", "Metadata")
    elif data.startswith(gif.SIGNATURES):
        found = gif.read_comment(data)
    else:
        raise ValueError("not a PNG, JPEG, WebP or GIF file")
    return json.loads(found) if found else {}


# PNG
def _png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk, end including the CRC."""
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, ctype = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        yield ctype, pos, end
        if ctype == b"IEND":
            return
        pos = end


def _png_keyword(data: bytes, start: int) -> bytes:
    return data[start + 8 : start + 88].split(b"\x00", 1)[0]


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def _embed_png(data: bytes, parameters: str, document: str) -> bytes:
    first_idat, stale = None, []
    for ctype, start, end in _png_chunks(data):
        if ctype in (b"tEXt", b"zTXt", b"iTXt") and _png_keyword(data, start) in PNG_KEYWORDS:
            stale.append((start, end))  # ours from an earlier save: replace, never duplicate
        elif ctype == b"IDAT" and first_idat is None:
            first_idat = start
    if first_idat is None:
        raise ValueError("PNG file without image data")
    # iTXt: keyword, NUL, uncompressed flag and method, empty language and translated keyword.
    chunks = b"".join(
        _png_chunk(b"iTXt", keyword + b"\x00\x00\x00\x00\x00" + text.encode())
        for keyword, text in ((b"parameters", parameters), (b"imagegen", document))
    )
    return _splice(data, first_idat, chunks, stale)


def _splice(data: bytes, at: int, insert: bytes, drop: list[tuple[int, int]]) -> bytes:
    """`data` with `insert` at offset `at` and the byte ranges in `drop` left out."""
    view, out, cursor = memoryview(data), [], 0
    for start, end in sorted([(at, at), *drop]):
        out.append(view[cursor:start])
        if (start, end) == (at, at):
            out.append(insert)
        cursor = max(cursor, end)
    out.append(view[cursor:])
    return b"".join(out)


# JPEG
def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, start, end) of each segment before the scan data, SOS last."""
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG file")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("bad JPEG marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        yield marker, pos, end
        if marker == 0xDA:
            return
        pos = end


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return b"\xff" + bytes([marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def _embed_jpeg(data: bytes, xmp: str, exif: bytes, head: list[str]) -> bytes:
    at, leading, has_exif, stale = 2, True, False, []
    for marker, start, end in _jpeg_segments(data):
        ident = data[start + 4 : start + 4 + len(JPEG_XMP_EXTENSION)]
        is_exif = marker == 0xE1 and ident.startswith(JPEG_EXIF)
        has_exif = has_exif or is_exif
        if marker == 0xE1 and ident.startswith((JPEG_XMP, JPEG_XMP_EXTENSION)):
            stale.append((start, end))  # a file has one XMP packet: ours replaces the old one
        elif leading and (marker == 0xE0 or is_exif):
            at = end  # after JFIF and EXIF, the order readers expect
        else:
            leading = False
    segments = []
    if not has_exif and len(JPEG_EXIF + exif) <= JPEG_SEGMENT_MAX:
        segments.append(_jpeg_segment(0xE1, JPEG_EXIF + exif))
    packet = xmp_packet(xmp)
    if len(JPEG_XMP + packet) <= JPEG_SEGMENT_MAX:
        segments.append(_jpeg_segment(0xE1, JPEG_XMP + packet))
    else:
        # Extended XMP (XMP spec part 3): the full packet in parts keyed by its MD5, and a
        # small main packet pointing at it.
        full = xmp.encode()
        guid = hashlib.md5(full, usedforsecurity=False).hexdigest().upper()
        main = xmpmeta(*head, xmp_element("xmpNote:HasExtendedXMP", guid))
        segments.append(_jpeg_segment(0xE1, JPEG_XMP + xmp_packet(main)))
        for offset in range(0, len(full), EXTENSION_PART):
            ident = JPEG_XMP_EXTENSION + guid.encode() + struct.pack(">II", len(full), offset)
            segments.append(_jpeg_segment(0xE1, ident + full[offset : offset + EXTENSION_PART]))
    return _splice(data, at, b"".join(segments), stale)


def _read_jpeg_xmp(data: bytes) -> str | None:
    main, parts = b"", {}
    for marker, start, end in _jpeg_segments(data):
        payload = data[start + 4 : end]
        if marker == 0xE1 and payload.startswith(JPEG_XMP):
            main = payload[len(JPEG_XMP) :]
        elif marker == 0xE1 and payload.startswith(JPEG_XMP_EXTENSION):
            head = payload[len(JPEG_XMP_EXTENSION) :]
            guid, offset = head[:32].decode("ascii", "replace"), int.from_bytes(head[36:40], "big")
            parts.setdefault(guid, {})[offset] = head[40:]
    found = xmp_find(main, "imagegen", "Metadata")
    if found is None and (guid := xmp_find(main, "xmpNote", "HasExtendedXMP")):
        extension = sorted(parts.get(guid, {}).items())
        found = xmp_find(b"".join(part for _, part in extension), "imagegen", "Metadata")
    return found


# WebP
def _riff_chunks(data: bytes) -> list[tuple[bytes, memoryview]]:
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    view, chunks, pos = memoryview(data), [], 12
    while pos + 8 <= end:
        fourcc, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if pos + 8 + size > len(data):
            raise ValueError("truncated WebP chunk")
        chunks.append((fourcc, view[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)  # chunks are padded to an even size
    return chunks


def _webp_canvas(fourcc: bytes, payload: memoryview) -> tuple[int, int, bool]:
    """Width, height and alpha of a simple-format WebP from its bitstream header."""
    if fourcc == b"VP8 " and payload[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", payload, 6)
        return width & 0x3FFF, height & 0x3FFF, False
    if fourcc == b"VP8L" and payload[0] == 0x2F:
        bits = int.from_bytes(payload[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    raise ValueError("unrecognised WebP bitstream")


def _embed_webp(data: bytes, xmp: bytes, exif: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    chunks: list[tuple[bytes, bytes | memoryview]] = [
        chunk for chunk in _riff_chunks(data) if chunk[0] != b"XMP "
    ]
    if not chunks:
        raise ValueError("empty WebP file")
    has_exif = any(fourcc == b"EXIF" for fourcc, _ in chunks)
    flags = WEBP_XMP | (0 if has_exif else WEBP_EXIF)
    if chunks[0][0] == b"VP8X":
        vp8x = bytearray(chunks[0][1])
        vp8x[0] |= flags
    else:  # simple format: becomes extended, which is the only layout that carries metadata
        width, height, alpha = _webp_canvas(*chunks[0])
        vp8x = bytearray(10)
        vp8x[0] = flags | (WEBP_ALPHA if alpha else 0)
        vp8x[4:] = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", b""))
    chunks[0] = (b"VP8X", bytes(vp8x))
    # EXIF then XMP, after the image data and before any unknown chunks (container spec order).
    anchor = (b"EXIF",) if has_exif else WEBP_IMAGE_CHUNKS
    at = 1 + max(i for i, (fourcc, _) in enumerate(chunks) if fourcc in anchor)
    chunks[at:at] = ([] if has_exif else [(b"EXIF", exif)]) + [(b"XMP ", xmp)]
    body = [b"WEBP"]
    for fourcc, payload in chunks:
        body += [fourcc, struct.pack("<I", len(payload)), payload, b"\x00" * (len(payload) & 1)]
    size = sum(len(part) for part in body)
    return b"".join([b"RIFF", struct.pack("<I", size), *body])


# Taking it out again
def strip_metadata(data: bytes, fmt: str) -> bytes:
    """`data` without what embed_metadata() spliced in: for sharing an image without its prompt.

    Removes exactly our chunks and segments, never re-encoding, so the pixels are untouched and
    whatever else the file carries (an ICC profile, a camera's EXIF, provenance data) stays. For a
    file that had no metadata of its own, the result is the original byte for byte. Raises
    ValueError for a file that is not `fmt`, like embed_metadata().
    """
    if fmt == "png":
        ours = [
            (start, end)
            for ctype, start, end in _png_chunks(data)
            if ctype in (b"tEXt", b"zTXt", b"iTXt") and _png_keyword(data, start) in PNG_KEYWORDS
        ]
        return _splice(data, 0, b"", ours)
    if fmt == "jpeg":
        return _strip_jpeg(data)
    if fmt == "webp":
        return _strip_webp(data)
    if fmt == "gif":
        return gif.strip_comment(data)
    if fmt == "svg":
        return data  # nothing was embedded (see embed_metadata)
    raise ValueError(f"cannot strip metadata from {fmt!r}")


def _strip_jpeg(data: bytes) -> bytes:
    ours, extension, main_is_ours = [], [], False
    for marker, start, end in _jpeg_segments(data):
        payload = data[start + 4 : end]
        if marker != 0xE1:
            continue
        if payload.startswith(JPEG_XMP) and is_our_xmp(payload):
            ours.append((start, end))
            main_is_ours = True
        elif payload.startswith(JPEG_XMP_EXTENSION):
            extension.append((start, end))  # the rest of the one XMP packet a file may have
        elif payload.startswith(JPEG_EXIF) and is_our_exif(payload[len(JPEG_EXIF) :]):
            ours.append((start, end))
    return _splice(data, 0, b"", ours + (extension if main_is_ours else []))


def _strip_webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    chunks = _riff_chunks(data)
    kept = [
        (fourcc, payload)
        for fourcc, payload in chunks
        if not (fourcc == b"XMP " and is_our_xmp(payload))
        and not (fourcc == b"EXIF" and is_our_exif(payload))
    ]
    if len(kept) == len(chunks):
        return data
    if kept[0][0] != b"VP8X":
        raise ValueError("WebP metadata without a VP8X header")
    remaining = {fourcc for fourcc, _ in kept}
    vp8x = bytearray(kept[0][1])
    vp8x[0] &= ~(
        (0 if b"XMP " in remaining else WEBP_XMP) | (0 if b"EXIF" in remaining else WEBP_EXIF)
    )
    if len(kept) == 2 and vp8x[0] & ~WEBP_ALPHA == 0 and kept[1][0] in (b"VP8 ", b"VP8L"):
        # Only the header embedding added is left: back to the simple format it came in, when
        # the header says no more than the bitstream does.
        width, height, alpha = _webp_canvas(*kept[1])
        canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        if bytes(vp8x[4:10]) == canvas and bool(vp8x[0] & WEBP_ALPHA) == alpha:
            return _riff_file(kept[1:])
    return _riff_file([(b"VP8X", bytes(vp8x)), *kept[1:]])


def _riff_file(chunks: list[tuple[bytes, bytes | memoryview]]) -> bytes:
    body = [b"WEBP"]
    for fourcc, payload in chunks:
        body += [fourcc, struct.pack("<I", len(payload)), payload, b"\x00" * (len(payload) & 1)]
    return b"".join([b"RIFF", struct.pack("<I", sum(len(part) for part in body)), *body])
