"""Keeping a generated image: verification, metadata, files, thumbnail and row."""

import hashlib
import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import FileSystemStorage
from django.test import override_settings
from PIL import Image as PILImage
from PIL import ImageFile

from gallery import ingest
from gallery.embedding import read_metadata, strip_metadata
from gallery.ingest import InvalidImage, ingest_image
from gallery.models import Image
from imagegen.models import Generation
from tests.conftest import gif_bytes

PROMPT = "A lighthouse at dusk, long exposure"
REVISED = "A tall white lighthouse at dusk: long exposure, soft clouds"


def picture(mode: str = "RGB", size: tuple[int, int] = (800, 600)) -> PILImage.Image:
    """A picture with detail everywhere, so pixel comparisons mean something."""
    red = PILImage.linear_gradient("L").resize(size)
    green = PILImage.radial_gradient("L").resize(size)
    blue = PILImage.effect_noise(size, 30)
    if mode == "RGBA":
        alpha = red.transpose(PILImage.Transpose.ROTATE_90).resize(size)
        return PILImage.merge("RGBA", (red, green, blue, alpha))
    return PILImage.merge("RGB", (red, green, blue))


def encode(im: PILImage.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny valid PNG whose IHDR (with a correct CRC) claims another size."""
    data = bytearray(encode(picture(size=(8, 8)), "PNG"))
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(data[12:29]))
    return bytes(data)


def gif_claiming(
    frames: list[tuple[int, int, int, int]], screen: tuple[int, int] = (8, 8)
) -> bytes:
    """A GIF built by hand whose frames (left, top, width, height) claim any extent, each with
    a few bytes of image data that are never decoded."""
    data = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + bytes(6)  # 2-colour table
    for left, top, width, height in frames:
        data += b"," + struct.pack("<HHHHB", left, top, width, height, 0) + b"\x02\x02\x4c\x01\x00"
    return data + b";"


def frames_of(data: bytes) -> list[bytes]:
    with PILImage.open(io.BytesIO(data)) as im:
        frames = []
        for index in range(im.n_frames):
            im.seek(index)
            frames.append(im.convert("RGB").tobytes())
        return frames


def stored_files(media_root: Path) -> list[str]:
    if not media_root.exists():
        return []
    return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())


@pytest.fixture
def generation(alice: User) -> Generation:
    return Generation.objects.create(
        owner=alice,
        model_name="dall-e-3",
        prompt=PROMPT,
        parameters={"n": 1, "size": "1024x1024", "quality": "hd", "style": "vivid"},
    )


CASES = {
    "png": ("png", "RGB", lambda: encode(picture(), "PNG")),
    "jpeg": ("jpeg", "RGB", lambda: encode(picture(), "JPEG", quality=90)),
    "webp": ("webp", "RGB", lambda: encode(picture(), "WEBP", quality=85)),
    "transparent-png": ("png", "RGBA", lambda: encode(picture("RGBA"), "PNG")),
    "transparent-webp": ("webp", "RGBA", lambda: encode(picture("RGBA"), "WEBP", lossless=True)),
}


@pytest.mark.parametrize("case", CASES)
def test_it_keeps_the_image_with_its_row_files_thumbnail_and_metadata(
    case: str, generation: Generation, alice: User
) -> None:
    fmt, mode, make = CASES[case]
    data = make()

    image = ingest_image(generation, 0, data, revised_prompt=REVISED)

    image.refresh_from_db()
    assert (image.owner, image.generation, image.index) == (alice, generation, 0)
    assert (image.model_name, image.prompt, image.revised_prompt) == ("dall-e-3", PROMPT, REVISED)
    assert (image.width, image.height, image.format) == (800, 600, fmt)
    assert image.file.name.startswith("originals/") and image.file.name.endswith(f".{fmt}")
    assert image.thumbnail.name.startswith("thumbnails/")
    with image.file.open("rb") as file:
        stored = file.read()
    assert image.bytes == len(stored)
    assert image.sha256 == hashlib.sha256(stored).hexdigest()
    with PILImage.open(io.BytesIO(stored)) as kept, PILImage.open(io.BytesIO(data)) as given:
        assert kept.mode == given.mode == mode
        assert kept.tobytes() == given.tobytes()
    with image.thumbnail.open("rb") as file, PILImage.open(file) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert thumbnail.size == (image.thumbnail_width, image.thumbnail_height) == (512, 384)
        assert thumbnail.mode == mode
    document = read_metadata(stored)
    assert document["prompt"] == PROMPT
    assert document["revised_prompt"] == REVISED
    assert document["model"] == "dall-e-3"
    assert document["parameters"] == generation.parameters
    assert document["generation"] == str(generation.pk)
    assert document["image"] == str(image.uuid)
    assert document["app"]["name"] == "image-studio"


def test_the_png_carries_an_a1111_parameters_text(generation: Generation) -> None:
    image = ingest_image(generation, 0, encode(picture(), "PNG"), revised_prompt=REVISED)

    with image.file.open("rb") as file, PILImage.open(file) as im:
        text = im.text["parameters"]
    assert text == (
        f"{PROMPT}\nModel: dall-e-3, Size: 800x600, Quality: hd, Style: vivid, "
        f'Revised prompt: "{REVISED}", Generation: {generation.pk}'
    )


def test_a_small_image_gets_a_thumbnail_of_its_own_size(generation: Generation) -> None:
    image = ingest_image(generation, 0, encode(picture(size=(300, 200)), "PNG"))

    assert (image.thumbnail_width, image.thumbnail_height) == (300, 200)


def test_a_jpeg_thumbnail_is_decoded_at_reduced_scale(generation: Generation) -> None:
    image = ingest_image(generation, 0, encode(picture(size=(2048, 1024)), "JPEG"))

    assert (image.width, image.height) == (2048, 1024)
    assert (image.thumbnail_width, image.thumbnail_height) == (512, 256)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(os.urandom(5000), id="random-bytes"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + os.urandom(5000), id="png-signature-then-noise"),
        pytest.param(encode(picture(), "PNG")[:-20000], id="truncated-png"),
        pytest.param(encode(picture(), "JPEG")[:-5000], id="truncated-jpeg"),
        pytest.param(encode(picture(), "WEBP")[:-5000], id="truncated-webp"),
        pytest.param(gif_bytes()[:-40], id="truncated-gif"),
        pytest.param(gif_bytes().replace(b",", b"!", 1)[:-1], id="gif-without-its-frames"),
        pytest.param(b"", id="empty"),
    ],
)
def test_it_refuses_a_damaged_image_and_writes_nothing(
    data: bytes, generation: Generation, media_root: Path
) -> None:
    with pytest.raises(InvalidImage) as refused:
        ingest_image(generation, 0, data)

    assert refused.value.code == "bad_image"
    assert refused.value.message
    assert not Image.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_it_refuses_formats_other_than_png_jpeg_webp_gif_and_svg(
    fmt: str, generation: Generation
) -> None:
    with pytest.raises(InvalidImage, match="not a PNG, JPEG, WebP, GIF or SVG"):
        ingest_image(generation, 0, encode(picture(size=(64, 64)), fmt))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_it_refuses_an_animation_in_any_format_but_gif(fmt: str, generation: Generation) -> None:
    frames = [picture(size=(64, 64)), picture(size=(64, 64)).rotate(90)]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:])

    with pytest.raises(InvalidImage, match="Only GIF images may be animated"):
        ingest_image(generation, 0, data)


def test_an_animated_gif_is_kept_whole_with_every_frame_and_a_still_webp_thumbnail(
    generation: Generation,
) -> None:
    data = gif_bytes(("red", "green", "blue", "white"))

    image = ingest_image(generation, 0, data, revised_prompt=REVISED)

    assert (image.format, image.width, image.height) == ("gif", 64, 48)
    assert image.file.name.endswith(".gif")
    with image.file.open("rb") as file:
        stored = file.read()
    # Byte for byte the original once the comment carrying our metadata is taken out again.
    assert strip_metadata(stored, "gif") == data
    assert frames_of(stored) == frames_of(data)
    with PILImage.open(io.BytesIO(stored)) as kept:
        assert kept.n_frames == 4
        assert (kept.info["loop"], kept.info["duration"]) == (0, 120)
    with image.thumbnail.open("rb") as file, PILImage.open(file) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert getattr(thumbnail, "n_frames", 1) == 1
        assert thumbnail.size == (image.thumbnail_width, image.thumbnail_height) == (64, 48)
        red, green, blue = thumbnail.convert("RGB").getpixel((32, 24))
        assert red > 240 and green < 16 and blue < 16  # the first frame, red
    document = read_metadata(stored)
    assert (document["prompt"], document["revised_prompt"]) == (PROMPT, REVISED)


def test_a_still_gif87a_is_kept_as_it_came_without_embedded_metadata(
    generation: Generation,
) -> None:
    data = encode(picture(size=(80, 60)), "GIF")
    assert data.startswith(b"GIF87a")  # what Pillow writes for a still without extensions

    image = ingest_image(generation, 0, data)

    with image.file.open("rb") as file:
        assert file.read() == data
    assert (image.format, image.width, image.height) == ("gif", 80, 60)


def test_a_gif_with_too_many_frames_is_refused_before_a_pixel_is_decoded(
    generation: Generation, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("decoded frames of a GIF that has too many")

    data = gif_claiming([(0, 0, 8, 8)] * 65)
    monkeypatch.setattr(ImageFile.ImageFile, "load", must_not_decode)

    with pytest.raises(InvalidImage, match="too many frames"):
        ingest_image(generation, 0, data)

    assert not Image.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    "frames",
    [
        pytest.param([(0, 0, 60_000, 60_000)], id="one-huge-frame"),
        pytest.param([(0, 0, 8, 8), (0, 0, 5_000, 5_000)], id="a-later-frame-past-the-screen"),
        pytest.param([(0, 0, 8, 8), (60_000, 60_000, 8, 8)], id="a-small-frame-placed-far-out"),
    ],
)
def test_a_gif_bomb_is_refused_from_its_blocks_without_decoding(
    frames: list[tuple[int, int, int, int]],
    generation: Generation,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def must_not_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("decoded a GIF bomb")

    monkeypatch.setattr(ImageFile.ImageFile, "load", must_not_decode)

    with pytest.raises(InvalidImage, match="too large"):
        ingest_image(generation, 0, gif_claiming(frames))


@pytest.mark.parametrize(
    "size",
    [
        pytest.param((10_000, 10_000), id="pillow-would-only-warn"),
        pytest.param((4_500, 4_500), id="over-our-limit"),
        pytest.param((50_000, 50_000), id="pillow-refuses-too"),
    ],
)
def test_it_refuses_a_decompression_bomb_from_its_header_without_decoding(
    size: tuple[int, int], generation: Generation, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("decoded a decompression bomb")

    monkeypatch.setattr(ImageFile.ImageFile, "load", must_not_decode)

    with pytest.raises(InvalidImage, match="too large"):
        ingest_image(generation, 0, png_claiming(*size))


def test_it_refuses_a_file_over_the_download_limit(generation: Generation) -> None:
    with override_settings(DOWNLOAD_MAX_BYTES=1000), pytest.raises(InvalidImage, match="large"):
        ingest_image(generation, 0, encode(picture(), "PNG"))


def test_a_second_call_for_the_same_slot_returns_the_saved_row_and_writes_nothing(
    generation: Generation, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest_image(generation, 0, encode(picture(), "PNG"))
    files = stored_files(media_root)

    def must_not_write(*args: object, **kwargs: object) -> str:
        raise AssertionError("wrote a file on a retry")

    monkeypatch.setattr(FileSystemStorage, "save", must_not_write)
    again = ingest_image(generation, 0, encode(picture(), "JPEG"))

    assert again.pk == first.pk
    assert Image.objects.count() == 1
    assert stored_files(media_root) == files


def test_a_failure_while_saving_the_row_leaves_no_file_and_no_row(
    generation: Generation, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_down(self: Image, *args: object, **kwargs: object) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(Image, "save", database_down)

    with pytest.raises(RuntimeError, match="database down"):
        ingest_image(generation, 0, encode(picture(), "PNG"))

    assert not Image.objects.exists()
    assert stored_files(media_root) == []


def test_a_failure_writing_the_thumbnail_removes_the_original(
    generation: Generation, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save = FileSystemStorage.save

    def disk_full(self: FileSystemStorage, name: str, *args: object, **kwargs: object) -> str:
        if name.startswith("thumbnails/"):
            raise OSError("No space left on device")
        return real_save(self, name, *args, **kwargs)

    monkeypatch.setattr(FileSystemStorage, "save", disk_full)

    with pytest.raises(OSError, match="No space"):
        ingest_image(generation, 0, encode(picture(), "PNG"))

    assert stored_files(media_root) == []


def test_when_a_concurrent_retry_saves_first_its_row_wins_and_ours_is_cleaned_up(
    generation: Generation, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_embed = ingest.embed_metadata
    other: list[Image] = []

    def other_worker_finishes_first(*args: object) -> bytes:
        if not other:
            other.append(Image())  # marks the race as run, so the other worker's call is plain
            other[0] = ingest_image(generation, 0, encode(picture(), "JPEG"))
        return real_embed(*args)

    monkeypatch.setattr(ingest, "embed_metadata", other_worker_finishes_first)

    image = ingest_image(generation, 0, encode(picture(), "PNG"))

    assert image.pk == other[0].pk
    assert image.format == "jpeg"
    assert Image.objects.count() == 1
    assert stored_files(media_root) == sorted(
        [image.file.name, image.thumbnail.name, image.grid.name]
    )


def test_an_image_whose_container_cannot_be_walked_is_kept_without_embedded_metadata(
    generation: Generation, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unusual_container(*args: object) -> bytes:
        raise ValueError("bad JPEG marker")

    monkeypatch.setattr(ingest, "embed_metadata", unusual_container)
    data = encode(picture(), "JPEG")

    image = ingest_image(generation, 0, data)

    with image.file.open("rb") as file:
        assert file.read() == data
    assert image.sha256 == hashlib.sha256(data).hexdigest()


def test_each_index_of_a_generation_is_its_own_image(generation: Generation) -> None:
    first = ingest_image(generation, 0, encode(picture(), "PNG"))
    second = ingest_image(generation, 1, encode(picture(), "PNG"))

    assert first.pk != second.pk
    assert first.file.name != second.file.name
    assert first.sha256 != second.sha256  # the embedded image id differs
