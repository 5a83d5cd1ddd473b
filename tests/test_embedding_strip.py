"""Taking our metadata back out of PNG, JPEG and WebP files, for shares that hide the prompt."""

import io

import pytest
from PIL import Image

from gallery.embedding import embed_metadata, read_metadata, strip_metadata
from tests.test_embedding import JAPANESE, SOURCES, document, encode, parameters, picture

PROMPT = "a secret lighthouse at dusk"


def embedded(original: bytes, fmt: str, prompt: str = PROMPT) -> bytes:
    return embed_metadata(original, fmt, parameters(prompt), document(prompt))


@pytest.mark.parametrize("source", SOURCES)
def test_it_removes_everything_we_embedded_and_leaves_the_pixels_alone(source: str) -> None:
    fmt = source.split("-")[0]
    original = SOURCES[source]()

    stripped = strip_metadata(embedded(original, fmt), fmt)

    assert read_metadata(stripped) == {}
    assert PROMPT.encode() not in stripped
    assert PROMPT.encode("utf-16-be") not in stripped  # the EXIF UserComment
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(stripped)) as after:
        assert after.format == before.format
        assert after.mode == before.mode
        assert after.tobytes() == before.tobytes()


@pytest.mark.parametrize("source", SOURCES)
def test_a_file_that_came_without_metadata_goes_back_to_its_exact_bytes(source: str) -> None:
    fmt = source.split("-")[0]
    original = SOURCES[source]()

    assert strip_metadata(embedded(original, fmt), fmt) == original


@pytest.mark.parametrize("source", SOURCES)
def test_a_file_without_our_metadata_is_returned_unchanged(source: str) -> None:
    original = SOURCES[source]()

    assert strip_metadata(original, source.split("-")[0]) == original


def test_it_removes_every_part_of_an_extended_xmp_packet() -> None:
    prompt = JAPANESE * 8000
    original = encode(picture(), "JPEG")
    big = embedded(original, "jpeg", prompt)
    assert b"http://ns.adobe.com/xmp/extension/\x00" in big

    assert strip_metadata(big, "jpeg") == original


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_exif_the_file_already_had_is_kept(fmt: str) -> None:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    original = encode(picture("RGB"), fmt.upper(), exif=exif.tobytes())

    stripped = strip_metadata(embedded(original, fmt), fmt)

    assert read_metadata(stripped) == {}
    assert PROMPT.encode() not in stripped
    assert stripped == original
    with Image.open(io.BytesIO(stripped)) as im:
        assert im.getexif()[0x010F] == "CameraMaker"


def test_png_text_chunks_that_are_not_ours_are_kept() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Software", "a paint program")
    original = encode(picture(), "PNG", pnginfo=info)

    stripped = strip_metadata(embedded(original, "png"), "png")

    assert stripped == original
    with Image.open(io.BytesIO(stripped)) as im:
        assert im.text == {"Software": "a paint program"}


def test_a_webp_that_was_extended_already_keeps_its_header() -> None:
    original = encode(picture("RGBA"), "WEBP", quality=80, icc_profile=b"\x00" * 16, exif=b"")
    with_profile = embedded(original, "webp")

    stripped = strip_metadata(with_profile, "webp")

    assert stripped[12:16] == b"VP8X"
    assert stripped[20] & 0x0C == 0  # neither the EXIF nor the XMP flag is left set
    assert read_metadata(stripped) == {}
    with Image.open(io.BytesIO(stripped)) as after, Image.open(io.BytesIO(original)) as before:
        assert after.tobytes() == before.tobytes()


def test_stripping_refuses_a_file_of_another_format() -> None:
    with pytest.raises(ValueError):
        strip_metadata(encode(picture(), "PNG"), "gif")
    with pytest.raises(ValueError):
        strip_metadata(encode(picture(), "PNG"), "jpeg")
