"""Every metadata text in a PNG, JPEG, WebP or GIF file, found without decoding the image.

The file is walked with struct and slices, never opened as an image, so a picture too large to
decode (a decompression bomb) still gives up its text. Each text is cut at PARSE_LIMIT + 1 bytes
as it is read, compressed ones are inflated no further than that, and at most MAX_TEXTS are kept.
"""

import codecs
import struct
import zlib

from PIL import Image as PILImage

from gallery import gif
from gallery.embedding import JPEG_XMP, JPEG_XMP_EXTENSION, PNG_SIGNATURE
from gallery.found_metadata.result import PARSE_LIMIT, Texts
from gallery.xmp_exif import JPEG_EXIF

MAX_TEXTS = 32
MAX_BLOCKS = 100_000  # chunks or segments walked: a 50 MB PNG in 8 KiB IDATs has about 6,400
PNG_XMP_KEYWORD = "XML:com.adobe.xmp"
READ = PARSE_LIMIT + 1  # one byte more than may be parsed, so that a cut text is known as such
EXIF_IFD, USER_COMMENT = 0x8769, 0x9286
EXIF_TEXTS = {0x010E: "ImageDescription", 0x9C9C: "XPComment", 0x9C9B: "XPTitle"}  # in IFD0
# Exceptions Pillow's EXIF reader raises on a malformed block.
EXIF_ERRORS = (SyntaxError, ValueError, struct.error, OSError, KeyError, IndexError, TypeError)


def read_texts(data: bytes) -> Texts:
    texts: Texts = {}
    if data.startswith(PNG_SIGNATURE):
        _png(data, texts)
    elif data.startswith(b"\xff\xd8"):
        _jpeg(data, texts)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        _webp(data, texts)
    elif data.startswith(gif.SIGNATURES):
        _gif(data, texts)
    return texts


def _keep(texts: Texts, key: str, text: str) -> None:
    """Keep `text` under `key`, or under "key#2" and so on when the file has several."""
    if len(texts) >= MAX_TEXTS or not text.strip():
        return
    name, number = key, 1
    while name in texts:
        number += 1
        name = f"{key}#{number}"
    texts[name] = text


def _decode(raw: bytes | memoryview, fallback: str = "replace") -> str:
    """UTF-8, which most writers use whatever the format says; failing that, latin-1 if
    `fallback` says so, else UTF-8 with replacement characters."""
    raw = bytes(raw)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("latin-1") if fallback == "latin-1" else raw.decode("utf-8", "replace")


def _inflate(compressed: memoryview) -> bytes:
    # Bounded both ways: a few kilobytes that would inflate to gigabytes stop at READ bytes, and
    # no more input is handed over than READ bytes can take (deflate adds 5 bytes per 64 KB).
    try:
        return zlib.decompressobj().decompress(compressed[: 2 * READ], READ)
    except zlib.error:
        return b""


# PNG
def _png(data: bytes, texts: Texts) -> None:
    """Text chunks before and after the image data; CRCs are not checked."""
    view, pos = memoryview(data), len(PNG_SIGNATURE)
    for _ in range(MAX_BLOCKS):
        if pos + 8 > len(data):
            return
        length, ctype = struct.unpack_from(">I4s", data, pos)
        body = view[pos + 8 : pos + 8 + length]  # a view: a 40 MB IDAT is not copied
        if ctype in (b"tEXt", b"zTXt", b"iTXt"):
            found = _png_text(ctype, body)
            if found is not None:
                keyword, text = found
                _keep(texts, "xmp" if keyword == PNG_XMP_KEYWORD else f"png:{keyword}", text)
        elif ctype == b"eXIf" and length <= PARSE_LIMIT:
            _exif(bytes(body), texts)
        if ctype == b"IEND":
            return
        pos += 12 + length


def _png_text(ctype: bytes, body: memoryview) -> tuple[str, str] | None:
    """(keyword, text) of a tEXt, zTXt or iTXt chunk, or None when it is malformed."""
    keyword, found, _ = bytes(body[:80]).partition(b"\x00")
    if not found:
        return None
    rest = body[len(keyword) + 1 :]
    name = keyword.decode("latin-1")
    if ctype == b"tEXt":  # latin-1 by the standard, but many writers put UTF-8 in
        return name, _decode(rest[:READ], "latin-1")
    if ctype == b"zTXt":  # a compression method byte, then the deflated text
        return name, _decode(_inflate(rest[1:]), "latin-1")
    # iTXt: compression flag and method, language tag, translated keyword, then UTF-8 text.
    language, found, after = bytes(rest[2 : 2 + 1024]).partition(b"\x00")
    translated, found_too, _ = after.partition(b"\x00")
    if len(rest) < 2 or not (found and found_too):
        return None
    text = rest[2 + len(language) + 1 + len(translated) + 1 :]
    return name, _decode(_inflate(text) if rest[0] else text[:READ])


# JPEG
def _jpeg(data: bytes, texts: Texts) -> None:
    """EXIF, XMP (with Extended XMP) and comment segments, up to the scan data."""
    pos, extension = 2, bytearray()
    for _ in range(MAX_BLOCKS):
        if pos + 4 > len(data) or data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte
            pos += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan, end of image
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:  # the length counts its own two bytes
            break
        end = pos + 2 + length
        payload = data[pos + 4 : end]  # at most 64 KB, by the 16-bit length
        if marker == 0xE1 and payload.startswith(JPEG_EXIF):
            _exif(payload, texts)
        elif marker == 0xE1 and payload.startswith(JPEG_XMP):
            _keep(texts, "xmp", _decode(payload[len(JPEG_XMP) :]))
        elif marker == 0xE1 and payload.startswith(JPEG_XMP_EXTENSION) and len(extension) < READ:
            # The rest of a packet over 64 KB: a 32-byte GUID, the full length and this part's
            # offset, then the part. Writers send the parts in order.
            extension += payload[len(JPEG_XMP_EXTENSION) + 40 :]
        elif marker == 0xFE:
            _keep(texts, "jpeg:comment", _decode(payload, "latin-1"))
        pos = end
    _keep(texts, "xmp:extended", _decode(bytes(extension[:READ])))


# WebP
def _webp(data: bytes, texts: Texts) -> None:
    view, pos = memoryview(data), 12
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    for _ in range(MAX_BLOCKS):
        if pos + 8 > end:
            return
        fourcc, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = view[pos + 8 : pos + 8 + min(length, READ)]
        if fourcc == b"EXIF" and length <= PARSE_LIMIT:
            _exif(bytes(body), texts)
        elif fourcc == b"XMP ":
            _keep(texts, "xmp", _decode(body))
        pos += 8 + length + (length & 1)  # chunks are padded to an even size


# GIF
def _gif(data: bytes, texts: Texts) -> None:
    try:
        comments = gif.layout(data).comments
    except ValueError:
        return  # cut short or malformed: gallery.gif reads whole files only
    for _start, _end, text in comments[: MAX_TEXTS - len(texts)]:
        _keep(texts, "gif:comment", _decode(text[:READ], "latin-1"))


# EXIF
def _exif(block: bytes, texts: Texts) -> None:
    """The descriptive texts of an EXIF block, with or without its "Exif" prefix."""
    exif = PILImage.Exif()
    try:
        exif.load(block)
        found = {name: exif.get(tag) for tag, name in EXIF_TEXTS.items()}
        found["UserComment"] = exif.get_ifd(EXIF_IFD).get(USER_COMMENT)
    except EXIF_ERRORS:
        return
    for name, value in found.items():
        _keep(texts, f"exif:{name}", _exif_text(name, value))


def _exif_text(name: str, value: object) -> str:
    if isinstance(value, str):
        # Pillow reads ASCII tags as latin-1; phones and exiftool write UTF-8 in them.
        try:
            return value.encode("latin-1").decode()
        except (UnicodeEncodeError, UnicodeDecodeError):
            return value
    if not isinstance(value, bytes):
        return ""
    if name.startswith("XP"):  # Windows: UTF-16LE, NUL-terminated
        return value.decode("utf-16-le", "replace").rstrip("\x00")
    if name != "UserComment":
        return _decode(value, "latin-1")
    # UserComment: an 8-byte character code, then the text.
    code, text = value[:8], value[8:]
    if code == b"UNICODE\x00":
        return _utf16(text).rstrip("\x00")
    if code in (b"ASCII\x00\x00\x00", b"\x00" * 8):
        return _decode(text, "latin-1").rstrip("\x00")
    return _decode(value, "latin-1").rstrip("\x00")  # no code at all: some writers skip it


def _utf16(raw: bytes) -> str:
    """UTF-16 in either byte order: the EXIF standard says the file's, piexif (A1111) always
    writes big-endian. Without a byte order mark, the reading with more plain ASCII wins."""
    if raw[:2] in (codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE):
        return raw.decode("utf-16", "replace")
    readings = [raw.decode(codec, "replace") for codec in ("utf-16-be", "utf-16-le")]
    return max(readings, key=lambda text: sum(c.isascii() for c in text))  # big-endian on a tie
