"""Metadata spliced into PNG, JPEG and WebP files, and read back."""

import io
import struct

import pytest
from PIL import Image

from gallery.embedding import embed_metadata, read_metadata

ARABIC = "قطة على الشاطئ"
JAPANESE = "海辺の猫"
PROMPTS = [
    pytest.param("A red fox in the snow, 35mm photo", id="english"),
    pytest.param(ARABIC, id="arabic"),
    pytest.param(JAPANESE, id="japanese"),
    pytest.param("夕暮れの海辺で眠る猫、油絵、" * 300 + ' <&> "quoted"\n' + ARABIC, id="long"),
]


def picture(mode: str = "RGB", size: tuple[int, int] = (96, 64)) -> Image.Image:
    """A small picture that is not a flat colour, so pixel comparisons mean something."""
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    blue = Image.effect_noise(size, 40)
    if mode == "RGBA":
        return Image.merge("RGBA", (red, green, blue, red.transpose(Image.Transpose.ROTATE_180)))
    return Image.merge("RGB", (red, green, blue))


def encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def document(prompt: str) -> dict:
    return {
        "app": {"name": "image-studio", "version": "0.1.0"},
        "prompt": prompt,
        "revised_prompt": "A fox, with snow: falling",
        "model": "dall-e-3",
        "parameters": {"size": "1024x1024", "quality": "hd"},
        "created": "2026-05-01T12:00:00+00:00",
    }


def parameters(prompt: str) -> str:
    return f"{prompt}\nModel: dall-e-3, Size: 96x64, Quality: hd"


def riff_chunks(data: bytes) -> list[bytes]:
    names, pos = [], 12
    while pos < len(data):
        size = struct.unpack_from("<I", data, pos + 4)[0]
        names.append(data[pos : pos + 4])
        pos += 8 + size + (size & 1)
    return names


def user_comment(im: Image.Image) -> str:
    raw = im.getexif().get_ifd(0x8769)[0x9286]
    assert raw.startswith(b"UNICODE\x00")
    return raw[8:].decode("utf-16-be")


SOURCES = {
    "png": lambda: encode(picture(), "PNG"),
    "png-alpha": lambda: encode(picture("RGBA"), "PNG"),
    "jpeg": lambda: encode(picture(), "JPEG", quality=90),
    "webp-lossy": lambda: encode(picture(), "WEBP", quality=80),
    "webp-lossless": lambda: encode(picture("RGBA"), "WEBP", lossless=True),
    "webp-alpha": lambda: encode(picture("RGBA"), "WEBP", quality=80),
}


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("source", SOURCES)
def test_it_round_trips_the_document_and_leaves_the_pixels_alone(source: str, prompt: str) -> None:
    original = SOURCES[source]()
    fmt = source.split("-")[0]

    embedded = embed_metadata(original, fmt, parameters(prompt), document(prompt))

    assert read_metadata(embedded) == document(prompt)
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(embedded)) as after:
        assert after.format == before.format
        assert after.mode == before.mode
        assert after.tobytes() == before.tobytes()


@pytest.mark.parametrize("prompt", PROMPTS)
def test_png_readers_find_the_a1111_parameters_text(prompt: str) -> None:
    embedded = embed_metadata(encode(picture(), "PNG"), "png", parameters(prompt), {})

    with Image.open(io.BytesIO(embedded)) as im:
        assert im.text["parameters"] == parameters(prompt)
        assert im.text["imagegen"] == "{}"


def test_the_png_text_chunks_come_before_the_image_data() -> None:
    embedded = embed_metadata(encode(picture(), "PNG"), "png", "a cat", {"prompt": "a cat"})

    assert embedded.index(b"iTXtparameters") < embedded.index(b"iTXtimagegen")
    assert embedded.index(b"iTXtimagegen") < embedded.index(b"IDAT")


@pytest.mark.parametrize("source", SOURCES)
def test_embedding_twice_replaces_the_metadata_instead_of_adding_more(source: str) -> None:
    fmt = source.split("-")[0]
    once = embed_metadata(SOURCES[source](), fmt, parameters("first"), document("first"))

    twice = embed_metadata(once, fmt, parameters("second"), document("second"))

    assert read_metadata(twice) == document("second")
    assert twice.count(b"<x:xmpmeta") <= 1
    with Image.open(io.BytesIO(twice)) as im:
        # EXIF already in a file is kept as it is; the text chunks and the XMP are replaced.
        text = im.info["xmp"] if fmt != "png" else im.text["parameters"].encode()
        assert b"first" not in text


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_jpeg_and_webp_carry_xmp_and_an_a1111_user_comment(fmt: str, prompt: str) -> None:
    original = encode(picture(), fmt.upper())

    embedded = embed_metadata(original, fmt, parameters(prompt), document(prompt))

    with Image.open(io.BytesIO(embedded)) as im:
        xmp = im.info["xmp"].decode()
        assert "<dc:description>" in xmp
        assert "urn:image-studio:xmp:1.0/" in xmp
        assert "image-studio 0.1.0" in xmp
        assert user_comment(im) == parameters(prompt)
        assert im.getexif()[0x010E].encode("latin-1").decode() == prompt


def test_jpeg_metadata_goes_after_jfif_with_exif_first() -> None:
    original = encode(picture(), "JPEG")
    assert original[2:4] == b"\xff\xe0"  # Pillow writes a JFIF APP0

    embedded = embed_metadata(original, "jpeg", "a cat", {"prompt": "a cat"})

    app0_end = 4 + int.from_bytes(original[4:6], "big")
    assert embedded[:app0_end] == original[:app0_end]
    assert embedded[app0_end : app0_end + 2] == b"\xff\xe1"
    assert embedded[app0_end + 4 : app0_end + 10] == b"Exif\x00\x00"
    assert embedded.endswith(original[app0_end:])  # tables and scan data untouched


def test_a_jpeg_that_already_has_exif_keeps_it_and_gets_only_xmp() -> None:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    original = encode(picture(), "JPEG", exif=exif.tobytes())

    embedded = embed_metadata(original, "jpeg", "a cat", {"prompt": "a cat"})

    assert embedded.count(b"Exif\x00\x00") == 1
    with Image.open(io.BytesIO(embedded)) as im:
        assert im.getexif()[0x010F] == "CameraMaker"
    assert read_metadata(embedded) == {"prompt": "a cat"}


def test_a_jpeg_packet_too_big_for_one_segment_goes_into_extended_xmp() -> None:
    prompt = JAPANESE * 8000  # 96 KB of UTF-8, and the document repeats it
    original = encode(picture(), "JPEG")

    embedded = embed_metadata(original, "jpeg", parameters(prompt), document(prompt))

    assert read_metadata(embedded) == document(prompt)
    assert embedded.count(b"http://ns.adobe.com/xmp/extension/\x00") >= 3
    assert b"HasExtendedXMP" in embedded
    assert b"Exif\x00\x00" not in embedded  # EXIF is a convenience copy, left out when too big
    with Image.open(io.BytesIO(embedded)) as im:
        im.load()


@pytest.mark.parametrize("source", ["webp-lossy", "webp-lossless", "webp-alpha"])
def test_webp_becomes_extended_with_flags_and_chunk_order_of_the_spec(source: str) -> None:
    original = SOURCES[source]()

    embedded = embed_metadata(original, "webp", "a cat", {"prompt": "a cat"})

    assert struct.unpack_from("<I", embedded, 4)[0] == len(embedded) - 8
    chunks = riff_chunks(embedded)
    assert chunks[0] == b"VP8X"
    assert chunks[-2:] == [b"EXIF", b"XMP "]
    flags = embedded[20]
    assert flags & 0x04 and flags & 0x08  # XMP and EXIF
    assert bool(flags & 0x10) == (source != "webp-lossy")  # alpha
    with Image.open(io.BytesIO(embedded)) as im:
        assert im.size == (96, 64)


def test_a_webp_that_already_has_exif_keeps_it_and_gets_xmp_after_it() -> None:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    original = encode(picture("RGBA"), "WEBP", exif=exif.tobytes(), icc_profile=b"")

    embedded = embed_metadata(original, "webp", "a cat", {"prompt": "a cat"})

    assert riff_chunks(embedded).count(b"EXIF") == 1
    assert riff_chunks(embedded)[-2:] == [b"EXIF", b"XMP "]
    with Image.open(io.BytesIO(embedded)) as im:
        assert im.getexif()[0x010F] == "CameraMaker"


def test_characters_xml_cannot_carry_are_replaced_not_fatal() -> None:
    prompt = "bell\x07 and <tags> & \ufffe"

    embedded = embed_metadata(encode(picture(), "JPEG"), "jpeg", prompt, {"prompt": prompt})

    assert read_metadata(embedded) == {"prompt": "bell\x07 and <tags> & \ufffd"}


@pytest.mark.parametrize("source", SOURCES)
def test_a_file_without_our_metadata_reads_as_empty(source: str) -> None:
    assert read_metadata(SOURCES[source]()) == {}


def test_reading_refuses_something_that_is_not_an_image() -> None:
    with pytest.raises(ValueError, match="not a PNG, JPEG, WebP or GIF"):
        read_metadata(b"BM" + bytes(100))


def test_reading_refuses_a_malformed_gif() -> None:
    with pytest.raises(ValueError, match="GIF"):
        read_metadata(b"GIF89a" + bytes(100))


def test_reading_refuses_xmp_with_a_dtd() -> None:
    packet = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    original = encode(picture(), "JPEG")

    with pytest.raises(ValueError, match="DTD"):
        read_metadata(original[:2] + segment + original[2:])


def test_embedding_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError):
        embed_metadata(encode(picture(), "PNG"), "gif", "a cat", {})
