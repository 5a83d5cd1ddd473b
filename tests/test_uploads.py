"""Uploading one's own images (gallery/uploads.py, gallery/upload_views.py), through the views
with real files made by Pillow: what is kept (byte for byte, its metadata read and searchable),
and why each file that is not kept was refused, with nothing stored for it."""

import io
import json
import random
import struct
import uuid
import zipfile
import zlib
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage
from PIL import PngImagePlugin

from gallery import uploads
from gallery.models import Image
from tests.conftest import gif_bytes, png_bytes, svg_bytes
from tests.metadata_samples import COMFY_GRAPH

pytestmark = pytest.mark.django_db

NOT_AN_IMAGE = "Only PNG, JPEG, WebP and GIF images can be uploaded."
ONLY_RASTER = "Only PNG, JPEG, WebP and GIF images can be uploaded."
TOO_LARGE = "The file is larger than the upload limit."
TOO_MANY = "Too many files at once: the rest were not read."
ENCRYPTED = "The file is encrypted."
BAD_ZIP = "The zip file is damaged."
ZIP_TOO_LARGE = "The zip expands to more than the upload limit: the rest were not read."

A1111_TEXT = (
    "a lighthouse at dusk, oil painting\n"
    "Negative prompt: blurry, watermark\n"
    "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 512x768, "
    "Model: sd_xl_base_1.0"
)
INVOKEAI_METADATA = {
    "generation_mode": "txt2img",
    "positive_prompt": "a cozy cabin in the woods, winter",
    "negative_prompt": "lowres, jpeg artifacts",
    "width": 1024,
    "height": 1024,
    "seed": 3567112098,
    "cfg_scale": 7.5,
    "steps": 30,
    "scheduler": "dpmpp_2m_k",
    "model": {"key": "9f1c", "name": "Juggernaut XL v9", "base": "sdxl"},
}
# Each layout: its texts, then what the image and its found_metadata say.
LAYOUTS = {
    "automatic1111": (
        [("parameters", A1111_TEXT)],
        {
            "prompt": "a lighthouse at dusk, oil painting",
            "negative_prompt": "blurry, watermark",
            "model": "sd_xl_base_1.0",
            "settings": {
                "Steps": "20",
                "Sampler": "DPM++ 2M Karras",
                "CFG scale": "7",
                "Seed": "1234",
                "Size": "512x768",
                "Model": "sd_xl_base_1.0",
            },
            "word": "lighthouse",
        },
    ),
    "comfyui": (
        [("prompt", json.dumps(COMFY_GRAPH))],
        {
            "prompt": "beautiful scenery, purple galaxy bottle",
            "negative_prompt": "text, watermark",
            "model": "v1-5-pruned-emaonly.safetensors",
            "settings": {
                "Seed": "156680208700286",
                "Steps": "20",
                "CFG scale": "8",
                "Sampler": "euler",
                "Scheduler": "normal",
                "Denoising strength": "1",
                "Size": "512x768",
            },
            "word": "galaxy",
        },
    ),
    "invokeai": (
        [("invokeai_metadata", json.dumps(INVOKEAI_METADATA))],
        {
            "prompt": "a cozy cabin in the woods, winter",
            "negative_prompt": "lowres, jpeg artifacts",
            "model": "Juggernaut XL v9",
            "settings": {
                "Seed": "3567112098",
                "Steps": "30",
                "CFG scale": "7.5",
                "Scheduler": "dpmpp_2m_k",
                "Size": "1024x1024",
                "Generation mode": "txt2img",
            },
            "word": "cabin",
        },
    ),
}


# Files
def picture(
    fmt: str, colour: str = "teal", size: tuple[int, int] = (40, 30), **options: object
) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, fmt, **options)
    return buffer.getvalue()


def noise_png(size: tuple[int, int] = (64, 64)) -> bytes:
    """A PNG of noise, which hardly compresses: about 12 KB for 64x64."""
    buffer = io.BytesIO()
    noise = random.Random(10).randbytes(size[0] * size[1] * 3)
    PILImage.frombytes("RGB", size, noise).save(buffer, "PNG")
    return buffer.getvalue()


def png_with(*texts: tuple[str, str]) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in texts:
        info.add_text(key, value)
    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 24), "navy").save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A few dozen bytes whose header claims a huge picture: a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def zip_of(*members: tuple[str, bytes]) -> bytes:
    """A deflated zip archive; a name ending in "/" is a directory entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


# Where each field is in a local file header and in a central directory header.
LOCAL_HEADER = {"signature": b"PK\x03\x04", "name_at": 30, "flags": 6, "method": 8, "size": 22}
CENTRAL_HEADER = {"signature": b"PK\x01\x02", "name_at": 46, "flags": 8, "method": 10, "size": 24}


def patched(archive: bytes, member: str, **fields: int) -> bytes:
    """`archive` with `member`'s headers (local and central) rewritten: `flags` ORed in, `method`
    or the uncompressed `size` replaced. What a tool that is not Python's zipfile may write."""
    out, name = bytearray(archive), member.encode()
    for header in (LOCAL_HEADER, CENTRAL_HEADER):
        at = out.find(header["signature"])
        while out[at + header["name_at"] : at + header["name_at"] + len(name)] != name:
            at = out.find(header["signature"], at + 1)
            assert at >= 0, member
        if "flags" in fields:
            (flags,) = struct.unpack_from("<H", out, at + header["flags"])
            struct.pack_into("<H", out, at + header["flags"], flags | fields["flags"])
        if "method" in fields:
            struct.pack_into("<H", out, at + header["method"], fields["method"])
        if "size" in fields:
            struct.pack_into("<I", out, at + header["size"], fields["size"])
    return bytes(out)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post(client: Client, *files: SimpleUploadedFile, **fields: str) -> HttpResponse:
    return client.post(reverse("image_upload"), {"files": list(files), **fields})


def stored(media_root: Path) -> list[str]:
    """Every file in the storage directory, by its path under it."""
    if not media_root.exists():
        return []
    return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())


def refusals(response: HttpResponse) -> list[tuple[str, str]]:
    return [(r.name, r.message) for r in response.context["report"].refused]


# Kept images
def test_one_png_is_kept_as_uploaded_byte_for_byte(
    alice: User, alice_client: Client, media_root: Path
) -> None:
    data = png_bytes(64, 48, "teal")

    response = post(alice_client, upload("harbour.png", data))

    assert response.status_code == 200
    image = Image.objects.get()
    assert (image.owner, image.origin, image.generation) == (alice, "uploaded", None)
    assert (image.original_name, image.format, image.size) == ("harbour.png", "png", "64x48")
    assert (image.prompt, image.model_name, image.found_metadata["source"]) == ("", "", "")
    assert (media_root / image.file.name).read_bytes() == data  # never re-encoded
    assert image.bytes == len(data)
    assert stored(media_root) == sorted([image.file.name, image.thumbnail.name, image.grid.name])
    with PILImage.open(media_root / image.thumbnail.name) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("WEBP", (64, 48))
    page = response.content.decode()
    assert "1 image kept" in page
    assert reverse("image_detail", args=[image.uuid]) in page
    assert "not kept" not in page


def test_several_formats_at_once_are_each_kept_as_sent(
    alice_client: Client, media_root: Path
) -> None:
    sent = {
        "photo.jpg": picture("JPEG", "orange", quality=90),
        "still.webp": picture("WEBP", "purple", lossless=True),
        "loop.gif": gif_bytes(("red", "green", "blue")),
    }

    response = post(alice_client, *(upload(name, data) for name, data in sent.items()))

    assert response.status_code == 200
    assert "3 images kept" in response.content.decode()
    kept = {image.original_name: image for image in Image.objects.all()}
    assert {name: image.format for name, image in kept.items()} == {
        "photo.jpg": "jpeg",
        "still.webp": "webp",
        "loop.gif": "gif",
    }
    for name, data in sent.items():
        assert (media_root / kept[name].file.name).read_bytes() == data, name
        assert (media_root / kept[name].thumbnail.name).is_file(), name
    with PILImage.open(media_root / kept["loop.gif"].file.name) as animation:
        assert animation.n_frames == 3  # every frame kept
    assert len(stored(media_root)) == 9


def test_a_zip_is_opened_and_only_its_images_are_kept(
    alice_client: Client, media_root: Path
) -> None:
    archive = zip_of(
        ("pics/", b""),
        ("pics/cat.png", png_bytes(colour="black")),
        ("pics/sub/dog.jpg", picture("JPEG", "brown")),
        # Each of these is a real image, so skipping them is seen: none may be kept.
        ("__MACOSX/pics/._cat.png", png_bytes(colour="white")),
        ("__MACOSX/pics/preview.png", png_bytes(colour="silver")),
        (".DS_Store", png_bytes(colour="grey")),
        ("pics/.hidden.png", png_bytes(colour="pink")),
        ("pics/notes/readme.txt", b"Shot on a rainy Tuesday.\n"),
    )

    response = post(alice_client, upload("holiday.zip", archive))

    assert response.status_code == 200
    kept = Image.objects.order_by("id")
    assert [(i.original_name, i.format) for i in kept] == [("cat.png", "png"), ("dog.jpg", "jpeg")]
    assert refusals(response) == [("holiday.zip/pics/notes/readme.txt", NOT_AN_IMAGE)]
    page = response.content.decode()
    assert "2 images kept" in page
    assert "1 file not kept" in page
    assert f"<strong>holiday.zip/pics/notes/readme.txt</strong>: {NOT_AN_IMAGE}" in page
    assert len(stored(media_root)) == 6


def test_an_encrypted_zip_member_is_refused_and_the_others_kept(
    alice_client: Client, media_root: Path
) -> None:
    archive = zip_of(("secret.png", png_bytes(colour="red")), ("open.png", png_bytes()))
    locked = patched(archive, "secret.png", flags=0x1)  # the "encrypted" flag bit

    response = post(alice_client, upload("locked.zip", locked))

    assert response.status_code == 200
    assert refusals(response) == [("locked.zip/secret.png", ENCRYPTED)]
    assert [i.original_name for i in Image.objects.all()] == ["open.png"]
    assert f"<strong>locked.zip/secret.png</strong>: {ENCRYPTED}" in response.content.decode()
    assert len(stored(media_root)) == 3


def test_a_zip_member_whose_header_understates_its_size_is_not_kept(
    alice_client: Client, media_root: Path, settings
) -> None:
    big = noise_png()
    settings.UPLOAD_MAX_BYTES = len(big) - 1
    # The header says 100 bytes: past the header check, the read itself must stop it.
    lying = patched(zip_of(("big.png", big)), "big.png", size=100)

    response = post(alice_client, upload("lying.zip", lying))

    assert response.status_code == 400
    # zipfile reads no more than the header says, and the cut member fails its CRC: not an image.
    assert refusals(response) == [("lying.zip/big.png", NOT_AN_IMAGE)]
    assert not Image.objects.exists()
    assert stored(media_root) == []


def test_reading_a_member_stops_one_byte_past_the_limit() -> None:
    archive = zipfile.ZipFile(io.BytesIO(zip_of(("ten.bin", b"0123456789"))))
    info = archive.getinfo("ten.bin")

    assert uploads._read_at_most(archive, info, 10) == b"0123456789"
    assert uploads._read_at_most(archive, info, 9) is None  # more than the limit: not kept

    class Expanding:  # a member that gives more than its header said
        def open(self, _info: zipfile.ZipInfo) -> io.BytesIO:
            return io.BytesIO(b"x" * 1000)

    assert uploads._read_at_most(Expanding(), info, 100) is None  # type: ignore[arg-type]


def test_a_zip_member_in_a_compression_zipfile_cannot_read_is_refused_not_a_crash(
    alice_client: Client, media_root: Path
) -> None:
    # Method 9 is Deflate64, which Windows' own "Send to zip" writes for large files.
    archive = zip_of(("odd.png", png_bytes(colour="red")), ("plain.png", png_bytes()))
    odd = patched(archive, "odd.png", method=9)

    response = post(alice_client, upload("windows.zip", odd))

    assert response.status_code == 200
    assert refusals(response) == [("windows.zip/odd.png", NOT_AN_IMAGE)]
    assert [i.original_name for i in Image.objects.all()] == ["plain.png"]
    assert len(stored(media_root)) == 3


def test_a_damaged_zip_is_refused(alice_client: Client, media_root: Path) -> None:
    response = post(alice_client, upload("broken.zip", b"PK\x03\x04" + b"\x00" * 200))

    assert response.status_code == 400
    assert refusals(response) == [("broken.zip", BAD_ZIP)]
    assert f"<strong>broken.zip</strong>: {BAD_ZIP}" in response.content.decode()
    assert stored(media_root) == []


# Limits
def test_files_past_the_limit_are_refused_unread(
    alice_client: Client, media_root: Path, settings
) -> None:
    settings.UPLOAD_MAX_FILES = 2
    files = [
        upload(f"{colour}.png", png_bytes(colour=colour)) for colour in ("red", "lime", "blue")
    ]

    response = post(alice_client, *files)

    assert response.status_code == 200
    assert [i.original_name for i in Image.objects.order_by("id")] == ["red.png", "lime.png"]
    assert refusals(response) == [("blue.png", TOO_MANY)]
    assert f"<strong>blue.png</strong>: {TOO_MANY}" in response.content.decode()
    assert len(stored(media_root)) == 6


def test_a_zips_members_count_towards_the_file_limit(
    alice_client: Client, media_root: Path, settings
) -> None:
    settings.UPLOAD_MAX_FILES = 3
    colours = ("red", "lime", "blue", "navy")
    archive = zip_of(*((f"{colour}.png", png_bytes(colour=colour)) for colour in colours))

    response = post(alice_client, upload("four.zip", archive))

    # The zip is not one of the three files, its members are: three are read, then one refusal
    # for the rest of the archive.
    kept = [i.original_name for i in Image.objects.order_by("id")]
    assert kept == ["red.png", "lime.png", "blue.png"]
    assert refusals(response) == [("four.zip/navy.png", TOO_MANY)]
    assert len(stored(media_root)) == 9


def test_as_many_files_as_the_studio_takes_reach_the_studio(alice_client: Client, settings) -> None:
    # Django refuses a request with more than DATA_UPLOAD_MAX_NUMBER_FILES files outright, with
    # a bare 400 (100 unless set): the studio's own limit (200) must be the one people meet.
    data = png_bytes(8, 8)

    files = [upload(f"{n}.png", data) for n in range(settings.UPLOAD_MAX_FILES)]
    response = post(alice_client, *files)

    assert settings.UPLOAD_MAX_FILES == 200
    assert response.status_code == 200
    assert "1 image kept" in response.content.decode()  # the same file each time
    assert Image.objects.count() == 1


def test_a_file_over_the_size_limit_is_refused(
    alice_client: Client, media_root: Path, settings
) -> None:
    big = noise_png()
    settings.UPLOAD_MAX_BYTES = len(big) - 1

    response = post(alice_client, upload("big.png", big))

    assert response.status_code == 400
    assert refusals(response) == [("big.png", TOO_LARGE)]
    assert "0 images kept" in response.content.decode()
    assert f"<strong>big.png</strong>: {TOO_LARGE}" in response.content.decode()
    assert not Image.objects.exists()
    assert stored(media_root) == []


def test_a_zip_member_over_the_size_limit_is_refused_by_its_header(
    alice_client: Client, media_root: Path, settings
) -> None:
    big, small = noise_png(), png_bytes(8, 8)
    settings.UPLOAD_MAX_BYTES = len(big) - 1

    response = post(alice_client, upload("mixed.zip", zip_of(("big.png", big), ("s.png", small))))

    assert response.status_code == 200
    assert refusals(response) == [("mixed.zip/big.png", TOO_LARGE)]
    assert [i.original_name for i in Image.objects.all()] == ["s.png"]
    assert len(stored(media_root)) == 3


def test_zips_that_expand_past_the_limit_are_read_no_further(
    alice_client: Client, media_root: Path, settings
) -> None:
    first, second = png_bytes(colour="red"), png_bytes(colour="blue")
    settings.UPLOAD_ZIP_MAX_BYTES = len(first) + len(second) - 1
    archive = zip_of(("1.png", first), ("2.png", second), ("3.png", png_bytes(colour="lime")))

    response = post(alice_client, upload("bomb.zip", archive))

    assert [i.original_name for i in Image.objects.all()] == ["1.png"]
    assert refusals(response) == [("bomb.zip/2.png", ZIP_TOO_LARGE)]
    assert len(stored(media_root)) == 3


# Refused files
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        pytest.param("notes.txt", b"Shot on a rainy Tuesday.\n", NOT_AN_IMAGE, id="text"),
        pytest.param("empty.png", b"", NOT_AN_IMAGE, id="empty"),
        pytest.param("cut.png", png_bytes()[:-20], "The image is damaged or incomplete.", id="cut"),
        pytest.param("drawing.svg", svg_bytes(), ONLY_RASTER, id="svg"),
        pytest.param(
            "bomb.png",
            png_declaring(5000, 5000),
            "The image is too large (5000x5000 pixels).",
            id="over-the-studios-pixels",
        ),
        pytest.param(
            "bigger-bomb.png",
            png_declaring(100_000, 100_000),
            "The image is too large.",
            id="pillows-bomb-check",
        ),
    ],
)
def test_a_file_that_is_not_an_image_we_keep_is_refused_and_nothing_stored(
    alice_client: Client, media_root: Path, name: str, data: bytes, message: str
) -> None:
    response = post(alice_client, upload(name, data))

    assert response.status_code == 400
    assert refusals(response) == [(name, message)]
    page = response.content.decode()
    assert "0 images kept" in page
    assert f"<strong>{name}</strong>: {message}" in page
    assert not Image.objects.exists()
    assert stored(media_root) == []


def test_refusals_and_kept_images_are_shown_together(
    alice_client: Client, media_root: Path
) -> None:
    response = post(alice_client, upload("ok.png", png_bytes()), upload("drawing.svg", svg_bytes()))

    assert response.status_code == 200  # something was kept
    assert refusals(response) == [("drawing.svg", ONLY_RASTER)]
    page = response.content.decode()
    assert "1 image kept" in page
    assert "1 file not kept" in page
    assert len(stored(media_root)) == 3


# The same file twice
def test_the_same_file_twice_in_one_upload_is_one_image(
    alice_client: Client, media_root: Path
) -> None:
    data = png_bytes(colour="olive")

    response = post(alice_client, upload("a.png", data), upload("copy of a.png", data))

    image = Image.objects.get()
    assert image.original_name == "a.png"
    assert [kept.pk for kept in response.context["report"].kept] == [image.pk]
    assert "1 image kept" in response.content.decode()
    assert len(stored(media_root)) == 3


def test_the_same_file_uploaded_again_is_the_image_already_kept(
    alice_client: Client, media_root: Path
) -> None:
    data = png_bytes(colour="olive")
    post(alice_client, upload("a.png", data))
    first = Image.objects.get()

    response = post(alice_client, upload("again.png", data))

    assert response.status_code == 200
    assert [kept.pk for kept in response.context["report"].kept] == [first.pk]
    assert Image.objects.get().original_name == "a.png"
    assert stored(media_root) == sorted([first.file.name, first.thumbnail.name, first.grid.name])


def test_the_same_file_from_two_people_is_an_image_each(
    alice: User, bob: User, alice_client: Client, bob_client: Client, media_root: Path
) -> None:
    data = png_bytes(colour="olive")

    post(alice_client, upload("a.png", data))
    post(bob_client, upload("b.png", data))

    assert sorted(Image.objects.values_list("owner__username", "original_name")) == [
        ("alice", "a.png"),
        ("bob", "b.png"),
    ]
    assert len(stored(media_root)) == 6


# Names
def test_a_name_keeps_only_its_last_part_and_printable_characters(
    alice_client: Client,
) -> None:
    archive = zip_of(("deep/er/still\tlife.png", png_bytes()))

    post(alice_client, upload("nested.zip", archive))

    assert Image.objects.get().original_name == "stilllife.png"
    assert uploads.shown_name("C:\\Users\\me\\photo.png") == "photo.png"
    assert uploads.shown_name("x" * 300 + ".png") == "x" * 255


# Metadata
@pytest.mark.parametrize("source", list(LAYOUTS))
def test_the_metadata_another_tool_wrote_is_read_shown_and_searchable(
    alice_client: Client, source: str
) -> None:
    texts, expected = LAYOUTS[source]

    post(alice_client, upload(f"{source}.png", png_with(*texts)))

    image = Image.objects.get()
    assert (image.prompt, image.model_name) == (expected["prompt"], expected["model"])
    found = image.found_metadata
    assert found["source"] == source
    assert (found["prompt"], found["negative_prompt"]) == (
        expected["prompt"],
        expected["negative_prompt"],
    )
    assert found["settings"] == expected["settings"]
    assert found["raw"] == {f"png:{key}": text for key, text in texts}
    searched = alice_client.get(reverse("image_list"), {"q": expected["word"]})
    assert [i.pk for i in searched.context["images"]] == [image.pk]
    missed = alice_client.get(reverse("image_list"), {"q": "zeppelin"})
    assert list(missed.context["images"]) == []
    page = alice_client.get(reverse("image_detail", args=[image.uuid])).content.decode()
    assert f"<dt>Found in the file</dt><dd>{source}</dd>" in page
    negative = expected["negative_prompt"]
    negative = f'<dt>Negative prompt</dt><dd class="prompt-full" dir="auto">{negative}</dd>'
    assert negative in page
    assert "<dt>Settings found</dt>" in page
    for key, value in expected["settings"].items():
        assert f"<dt>{key}</dt><dd>{value}</dd>" in page, key
    assert f"<dt>Model</dt><dd>{expected['model']}</dd>" in page


# The gallery
def test_uploads_are_in_the_gallery_with_a_badge_and_an_origin_filter(
    alice: User, alice_client: Client, make_image
) -> None:
    generated = make_image(alice, prompt="a generated fox")
    post(alice_client, upload("mine.png", png_bytes(colour="maroon")))
    uploaded = Image.objects.get(origin="uploaded")

    everything = alice_client.get(reverse("image_list"))
    only_uploads = alice_client.get(reverse("image_list"), {"origin": "uploaded"})
    only_generated = alice_client.get(reverse("image_list"), {"origin": "generated"})

    assert [i.pk for i in everything.context["images"]] == [uploaded.pk, generated.pk]
    assert everything.content.decode().count('<span class="badge">Uploaded</span>') == 1
    assert [i.pk for i in only_uploads.context["images"]] == [uploaded.pk]
    assert [i.pk for i in only_generated.context["images"]] == [generated.pk]
    detail = alice_client.get(reverse("image_detail", args=[uploaded.uuid])).content.decode()
    assert '<dt>Origin</dt><dd><span class="badge">Uploaded</span> mine.png</dd>' in detail
    thumbnail = alice_client.get(reverse("image_thumbnail", args=[uploaded.uuid]))
    assert (thumbnail.status_code, thumbnail["Content-Type"]) == (200, "image/webp")


# Reference slots and the picker
def test_an_upload_from_a_reference_slot_returns_ticked_slots(
    alice_client: Client,
) -> None:
    response = post(
        alice_client,
        upload("one.png", png_bytes(colour="red")),
        upload("two.png", png_bytes(colour="blue")),
        upload("drawing.svg", svg_bytes()),
        slots="1",
    )

    assert response.status_code == 200
    assert response.templates[0].name == "includes/reference_slots.html"
    page = response.content.decode()
    for image in Image.objects.all():
        assert f'name="reference" value="{image.uuid}" checked>' in page
    assert page.count(" checked>") == 2
    assert page.count('<li class="reference-slot">') == 2
    assert f'<li class="reference-refused error" role="alert">drawing.svg: {ONLY_RASTER}</li>' in (
        page
    )
    assert "<html" not in page  # a fragment, not the page


def test_the_picker_offers_only_my_images_and_narrows_by_search(
    alice: User, bob: User, alice_client: Client, make_image
) -> None:
    fox = make_image(alice, prompt="a red fox in snow")
    owl = make_image(alice, prompt="an owl at night")
    post(alice_client, upload("lighthouse.png", png_with(("parameters", A1111_TEXT))))
    uploaded = Image.objects.get(origin="uploaded")
    theirs = make_image(bob, prompt="a red fox of bob's")

    everything = alice_client.get(reverse("reference_picker"))
    foxes = alice_client.get(reverse("reference_picker"), {"q": "fox"})
    lighthouses = alice_client.get(reverse("reference_picker"), {"q": "lighthouse"})
    nothing = alice_client.get(reverse("reference_picker"), {"q": "zeppelin"})
    # As the gallery's box reads it: words in any order, and -exclusions.
    snow_fox = alice_client.get(reverse("reference_picker"), {"q": "snow fox"})
    not_fox = alice_client.get(reverse("reference_picker"), {"q": "-fox"})

    assert [i.pk for i in everything.context["images"]] == [uploaded.pk, owl.pk, fox.pk]
    assert str(theirs.uuid) not in everything.content.decode()
    assert everything.content.decode().count(" checked>") == 0
    assert [i.pk for i in foxes.context["images"]] == [fox.pk]
    assert [i.pk for i in lighthouses.context["images"]] == [uploaded.pk]
    assert [i.pk for i in snow_fox.context["images"]] == [fox.pk]
    assert [i.pk for i in not_fox.context["images"]] == [uploaded.pk, owl.pk]
    assert "No images match this search." in nothing.content.decode()


# Who may upload and see uploads
def test_another_person_cannot_see_my_uploads(
    alice_client: Client, bob_client: Client, media_root: Path
) -> None:
    post(alice_client, upload("private.png", png_with(("parameters", A1111_TEXT))))
    image = Image.objects.get()

    for name in ("image_detail", "image_original", "image_thumbnail"):
        assert bob_client.get(reverse(name, args=[image.uuid])).status_code == 404, name
    picker = bob_client.get(reverse("reference_picker"))
    assert list(picker.context["images"]) == []
    assert str(image.uuid) not in picker.content.decode()
    searched = bob_client.get(reverse("image_list"), {"q": "lighthouse"})
    assert list(searched.context["images"]) == []
    assert list(bob_client.get(reverse("image_list")).context["images"]) == []


def test_an_upload_without_the_csrf_token_is_refused(alice: User, media_root: Path) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = post(client, upload("a.png", png_bytes()))

    assert response.status_code == 403
    assert not Image.objects.exists()
    assert stored(media_root) == []


def test_signed_out_people_are_sent_to_sign_in(client: Client, media_root: Path) -> None:
    for response in (
        client.get(reverse("image_upload")),
        post(client, upload("a.png", png_bytes())),
        client.get(reverse("reference_picker")),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not Image.objects.exists()
    assert stored(media_root) == []


def test_the_upload_page_states_the_limits(alice_client: Client, settings) -> None:
    settings.UPLOAD_MAX_FILES = 12
    settings.UPLOAD_MAX_BYTES = 5 * 1024 * 1024

    response = alice_client.get(reverse("image_upload"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "up to 5.0\xa0MB each" in page
    assert "Up to 12 files at once." in page
    assert 'enctype="multipart/form-data"' in page
    assert "csrfmiddlewaretoken" in page
    assert response.context.get("report") is None


def test_the_views_refuse_other_methods(alice_client: Client) -> None:
    assert alice_client.put(reverse("image_upload")).status_code == 405
    assert alice_client.delete(reverse("image_upload")).status_code == 405
    assert alice_client.post(reverse("reference_picker")).status_code == 405


def test_the_database_holds_one_upload_per_file_per_person(alice, bob, media_root: Path) -> None:
    # Two requests racing past the "already uploaded?" look: the constraint keeps one row, and
    # the loser is given the winner's image (ingest_upload's IntegrityError branch).
    from django.db import IntegrityError, transaction

    data = png_bytes(colour="teal")
    first = uploads.ingest_upload(alice, data, "teal.png")
    twin = Image.objects.get(pk=first.pk)
    twin.pk, twin.uuid = None, uuid.uuid4()
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save(force_insert=True)
    assert uploads.ingest_upload(bob, data, "teal.png").owner == bob  # another person's own copy
    assert Image.objects.filter(sha256=first.sha256).count() == 2
