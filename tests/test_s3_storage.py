"""Object storage end to end, against a real S3-compatible server: moto's server mode, started on
loopback by tests/s3_server.py, each test in a fresh bucket (the `s3` fixture). Every path a file
takes: a job's images and uploads kept in the bucket with their thumbnails and grid renditions,
the owner's and a share's file views (a redirect to a short signed URL, fetched from the server
with httpx), SVG and prompt-hiding shares sent by Django, zips streamed from the objects,
deletion, the purge, the orphan sweep, revocation, the grid backfill and an edit reading its
source. Nothing here is skipped: moto comes with the test extra, in CI too."""

import hashlib
import io
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from PIL import Image as Picture
from storages.backends.s3 import S3Storage as S3Backend

from gallery import object_storage as object_storage_module
from gallery.archive import stream_archive
from gallery.embedding import read_metadata
from gallery.media import MEDIA_CSP
from gallery.models import Image, ImageInput, PendingFile, ShareLink
from gallery.object_storage import S3Storage
from imagegen.environment import object_storage
from imagegen.models import Generation
from imagegen.tasks import run_generation
from tests.conftest import png_bytes, svg_bytes
from tests.s3_server import Bucket

pytestmark = pytest.mark.django_db

SEEDREAM = "doubao-seedream-5-0-260128"
FILE_SYSTEM_STORAGE = "django.core.files.storage.FileSystemStorage"
PROMPT = "夜の灯台 a lighthouse at night"  # a file name that is not ASCII


def keys_of(*images: Image) -> set[str]:
    return {name for image in images for name in (image.file, image.thumbnail, image.grid) if name}


def signed(response: Any) -> dict[str, list[str]]:
    """The query of a redirect to a signed URL, after checking what every one must be."""
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]  # AWS_QUERYSTRING_EXPIRE's default
    made = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    # Signed as of the start of the current window of 150 s (half the life): at least half left.
    assert timedelta(0) <= datetime.now(UTC) - made < timedelta(seconds=150 + 30)
    assert query["X-Amz-Signature"][0]
    return query


def fetch(url: str) -> httpx.Response:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def image(s3: Bucket, alice: User, make_image) -> Image:
    return make_image(alice, prompt=PROMPT)


# --- settings and the server --------------------------------------------------------------


def test_s3_is_chosen_by_the_bucket_variable_with_private_signed_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    assert object_storage() is None
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", "studio-files")
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", "http://127.0.0.1:9000")

    chosen = object_storage()

    assert chosen is not None
    assert chosen["BACKEND"] == "gallery.object_storage.S3Storage"  # django-storages', subclassed
    options = chosen["OPTIONS"]
    assert options["bucket_name"] == "studio-files"
    assert (options["querystring_auth"], options["querystring_expire"]) == (True, 300)
    assert options["default_acl"] is None  # never public-read
    assert options["addressing_style"] == "path"  # what S3-compatible servers answer to
    assert options["file_overwrite"] is False
    monkeypatch.setenv("AWS_QUERYSTRING_EXPIRE", "60")
    monkeypatch.delenv("AWS_S3_ENDPOINT_URL")
    amazon = object_storage()
    assert amazon is not None
    assert amazon["OPTIONS"]["querystring_expire"] == 60
    assert amazon["OPTIONS"]["addressing_style"] is None  # Amazon's own choice


def test_the_command_runs_a_program_against_a_fresh_bucket_then_stops_the_server() -> None:
    program = (
        "import os, boto3\n"
        "s3 = boto3.client('s3', endpoint_url=os.environ['AWS_S3_ENDPOINT_URL'])\n"
        "bucket = os.environ['AWS_STORAGE_BUCKET_NAME']\n"
        "assert s3.list_objects_v2(Bucket=bucket)['KeyCount'] == 0\n"
        "s3.put_object(Bucket=bucket, Key='a', Body=b'x')\n"
        "print(os.environ['AWS_S3_ENDPOINT_URL'])\n"
    )
    finished = subprocess.run(  # noqa: S603 (our own module and program)
        [sys.executable, "-m", "tests.s3_server", "--", sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    endpoint = finished.stdout.splitlines()[-1]
    assert endpoint.startswith("http://127.0.0.1:")
    with pytest.raises(httpx.TransportError):  # the server went with the program
        httpx.get(endpoint, timeout=10)


def test_each_thread_gets_its_own_connection_from_one_shared_session(s3: Bucket) -> None:
    """Else a worker's 64 threads load boto3's S3 model 64 times (gallery.object_storage)."""
    s3.write("originals/a.png", b"a")
    connections: list[Any] = []

    def look() -> None:
        assert default_storage.exists("originals/a.png")
        connections.append(default_storage.connection)

    threads = [threading.Thread(target=look) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len({id(connection) for connection in connections}) == 8  # resources are per thread
    storage = default_storage._wrapped
    identity = (None, storage.access_key, storage.secret_key, None)
    assert storage._create_session() is storage._sessions[identity]  # the one session


# --- files kept ----------------------------------------------------------------------------


def test_a_jobs_images_and_their_renditions_are_kept_in_the_bucket(
    s3: Bucket, alice: User, media_root: Path
) -> None:
    generation = Generation.objects.create(
        owner=alice,
        model_name=SEEDREAM,
        prompt="three kites",
        parameters={"n": 3, "size": "1280x720", "response_format": "url", "watermark": False},
    )

    assert run_generation.call(str(generation.pk)) == "succeeded"

    images = list(generation.images.all())
    assert len(images) == 3
    assert s3.keys() == keys_of(*images)
    for image in images:
        assert hashlib.sha256(s3.read(image.file.name)).hexdigest() == image.sha256
        with Picture.open(io.BytesIO(s3.read(image.grid.name))) as grid:
            assert (grid.format, grid.size) == ("WEBP", (image.grid_width, image.grid_height))
    assert not PendingFile.objects.exists()
    assert not media_root.exists()  # nothing went to the local disk


def test_each_file_is_looked_for_once_before_it_is_written(
    s3: Bucket, alice: User, make_image, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_for: list[str] = []
    look = S3Backend.exists

    def counted(storage: Any, name: str) -> bool:
        looked_for.append(name)
        return look(storage, name)

    monkeypatch.setattr(S3Backend, "exists", counted)

    image = make_image(alice)

    # One HEAD a file, the storage's own.
    assert sorted(looked_for) == sorted(
        field.name for field in (image.file, image.thumbnail, image.grid)
    )


def test_an_upload_is_kept_byte_for_byte_in_the_bucket(s3: Bucket, alice_client: Client) -> None:
    data = png_bytes(80, 60, "orange")
    upload = SimpleUploadedFile("orange.png", data, content_type="image/png")

    alice_client.post(reverse("image_upload"), {"files": [upload]})

    image = Image.objects.get()
    assert s3.keys() == keys_of(image)
    assert s3.read(image.file.name) == data


def test_an_edit_reads_its_source_from_the_bucket(s3: Bucket, alice: User, make_image) -> None:
    source = make_image(alice, data=png_bytes(1024, 640, "red"))
    generation = Generation.objects.create(
        owner=alice,
        model_name="gpt-image-2",
        prompt="the same, in blue",
        parameters={"n": 1, "size": "auto", "quality": "low", "output_format": "png"},
    )
    ImageInput.objects.create(
        generation=generation,
        image=source,
        image_uuid=source.uuid,
        role=ImageInput.Role.REFERENCE,
        position=0,
    )

    assert run_generation.call(str(generation.pk)) == "succeeded"

    result = generation.images.get()
    assert read_metadata(s3.read(result.file.name))["lineage"] == {"references": [str(source.uuid)]}


# --- the owner's files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("view", "variant", "content_type"),
    [
        ("image_original", "original", "image/png"),
        ("image_thumbnail", "thumbnail", "image/webp"),
        ("image_grid", "grid", "image/webp"),
    ],
)
@pytest.mark.parametrize("download", [False, True])
def test_the_owner_is_sent_to_a_short_signed_url_that_keeps_the_name_and_type(
    s3: Bucket,
    alice_client: Client,
    image: Image,
    view: str,
    variant: str,
    content_type: str,
    download: bool,
) -> None:
    asked = {"download": "1"} if download else {}

    response = alice_client.get(reverse(view, args=[image.uuid]), asked)

    query = signed(response)
    disposition = content_disposition_header(download, image.download_name(variant))
    assert query["response-content-disposition"] == [disposition]
    answer = fetch(response["Location"])
    key = {"original": image.file, "thumbnail": image.thumbnail, "grid": image.grid}[variant].name
    assert answer.content == s3.read(key)
    assert answer.headers["Content-Type"] == content_type
    assert answer.headers["Content-Disposition"] == disposition
    # No shared cache keeps the bytes; the owner's browser keeps them under this URL.
    assert answer.headers["Cache-Control"] == "private, max-age=31536000, immutable"


def test_the_same_file_gets_the_same_url_for_half_its_life_so_a_browser_reuses_it(
    s3: Bucket, alice_client: Client, image: Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    def location(view: str, **asked: str) -> str:
        return alice_client.get(reverse(view, args=[image.uuid]), asked)["Location"]

    first = location("image_thumbnail")
    assert location("image_thumbnail") == first  # a second gallery page: the same address
    assert fetch(first).content == s3.read(image.thumbnail.name)
    # Another file, or other answer headers, is another URL.
    assert location("image_grid") != first
    assert location("image_original") != location("image_original", download="1")
    # Another process (here another storage, nothing shared with the first) signs the same URL.
    other_process = S3Storage(**object_storage()["OPTIONS"])
    assert other_process.url(image.thumbnail.name, first_query_parameters(first)) == first

    # Signed as of the start of a window of 150 s (half of 300): the next window, a new URL,
    # signed as of its start, and fetched although its X-Amz-Date is in the past.
    now = time.time()
    next_window = now - now % 150 + 150
    monkeypatch.setattr(object_storage_module, "time", SimpleNamespace(time=lambda: next_window))
    renewed = location("image_thumbnail")
    assert renewed != first
    made = parse_qs(urlsplit(renewed).query)["X-Amz-Date"][0]
    assert made == datetime.fromtimestamp(next_window, UTC).strftime("%Y%m%dT%H%M%SZ")
    monkeypatch.setattr(
        object_storage_module, "time", SimpleNamespace(time=lambda: next_window + 149)
    )
    assert location("image_thumbnail") == renewed  # the whole window long


def test_a_url_signed_as_of_its_windows_start_still_works(
    s3: Bucket, image: Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst case: a URL handed out at the end of its window is 149 s old, with 151 left."""
    now = time.time()
    monkeypatch.setattr(object_storage_module, "time", SimpleNamespace(time=lambda: now + 149))
    late = default_storage.url(image.thumbnail.name)  # signed as of a time up to 149 s ago

    assert fetch(late).content == s3.read(image.thumbnail.name)


def test_only_the_studios_own_signing_uses_the_window() -> None:
    """Every other request botocore signs (uploads, HEADs, deletes) is signed at the time."""
    import botocore.auth

    signed_at = botocore.auth.get_current_datetime()

    assert abs(datetime.now(UTC).replace(tzinfo=None) - signed_at) < timedelta(seconds=5)
    assert signed_at.tzinfo is None  # as botocore's own answers


def first_query_parameters(url: str) -> dict[str, str]:
    """The answer headers a file view asked the signature to carry (its Response* parameters)."""
    names = {"response-content-type": "ResponseContentType",
             "response-content-disposition": "ResponseContentDisposition",
             "response-cache-control": "ResponseCacheControl"}  # fmt: skip
    query = parse_qs(urlsplit(url).query)
    return {names[key]: values[0] for key, values in query.items() if key in names}


def test_pages_let_the_browser_load_images_from_the_bucket(
    s3: Bucket, alice_client: Client, image: Image, settings: Any
) -> None:
    """A browser checks a redirect's target against the page's policy: without the bucket's
    origin in img-src every tile would be blocked (bench/signed_urls.py saw it in Chromium)."""
    tile = urlsplit(alice_client.get(reverse("image_thumbnail", args=[image.uuid]))["Location"])
    bucket = f"{tile.scheme}://{tile.netloc}"

    page = alice_client.get(reverse("image_list"))

    policy = dict(
        directive.strip().split(" ", 1) for directive in page["Content-Security-Policy"].split(";")
    )
    assert policy["img-src"].split() == ["'self'", "data:", bucket]
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"  # the rest kept
    # Local files: the policy as written, no other origin.
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": FILE_SYSTEM_STORAGE}}
    policy = alice_client.get(reverse("image_list"))["Content-Security-Policy"]
    assert "img-src 'self' data:;" in policy + ";"


def test_the_name_of_a_download_survives_the_object_store(
    alice_client: Client, image: Image
) -> None:
    response = alice_client.get(reverse("image_original", args=[image.uuid]), {"download": "1"})

    disposition = fetch(response["Location"]).headers["Content-Disposition"]

    assert disposition.startswith("attachment; filename*=utf-8''")
    assert "%E5%A4%9C%E3%81%AE%E7%81%AF%E5%8F%B0" in disposition  # 夜の灯台, as sent


def test_another_person_gets_no_signed_url(bob_client: Client, image: Image) -> None:
    for view in ("image_original", "image_thumbnail", "image_grid"):
        response = bob_client.get(reverse(view, args=[image.uuid]))
        assert response.status_code == 404
        assert "Location" not in response


def test_an_svg_original_still_leaves_through_django_with_its_sandbox(
    s3: Bucket, alice: User, alice_client: Client, make_image
) -> None:
    drawing = make_image(alice, data=svg_bytes())

    response = alice_client.get(reverse("image_original", args=[drawing.uuid]))

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == MEDIA_CSP
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content == s3.read(drawing.file.name)
    signed(alice_client.get(reverse("image_thumbnail", args=[drawing.uuid])))  # a WebP


# --- shares --------------------------------------------------------------------------------


def test_a_share_sends_a_signed_url_until_it_is_revoked(
    s3: Bucket, alice: User, alice_client: Client, client: Client, image: Image
) -> None:
    link = ShareLink.objects.create(owner=alice, image=image)
    urls = [
        reverse(name, args=[link.token, image.uuid])
        for name in ("shared_original", "shared_thumbnail")
    ]

    for url in urls:
        response = client.get(url)
        signed(response)
        assert fetch(response["Location"]).content in {
            s3.read(image.file.name),
            s3.read(image.thumbnail.name),
        }
    alice_client.post(reverse("share_revoke", args=[link.pk]))

    for url in urls:
        response = client.get(url)
        assert response.status_code == 404
        assert "Location" not in response  # no new signature, ever


def test_a_share_hiding_the_prompt_is_sent_by_django_without_it(
    s3: Bucket, alice: User, client: Client, image: Image
) -> None:
    link = ShareLink.objects.create(owner=alice, image=image, hide_prompt=True)

    response = client.get(reverse("shared_original", args=[link.token, image.uuid]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"
    assert read_metadata(response.content) == {}
    assert PROMPT.encode() not in response.content
    assert read_metadata(s3.read(image.file.name))["prompt"] == PROMPT  # the kept copy has it


# --- archives ------------------------------------------------------------------------------


def test_a_zip_of_my_images_is_streamed_from_the_bucket(
    s3: Bucket, alice: User, alice_client: Client, make_image
) -> None:
    first, second = make_image(alice, prompt="one"), make_image(alice, data=svg_bytes())

    response = alice_client.post(
        reverse("image_bulk"), {"action": "zip", "images": [first.uuid, second.uuid]}
    )

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    for image in (first, second):
        assert archive.read(image.download_name()) == s3.read(image.file.name)


def test_a_shared_collections_zip_is_streamed_from_the_bucket(
    s3: Bucket, alice: User, client: Client, make_image
) -> None:
    from gallery.models import Collection

    collection = Collection.objects.create(owner=alice, name="Harbours")
    images = [make_image(alice, prompt=f"harbour {n}") for n in range(2)]
    collection.add_by_hand(Image.objects.filter(pk__in=[i.pk for i in images]))
    link = ShareLink.objects.create(owner=alice, collection=collection)

    response = client.get(reverse("shared_archive", args=[link.token]))

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    for image in images:
        assert archive.read(image.download_name()) == s3.read(image.file.name)


def test_a_large_original_is_zipped_without_being_held_in_memory(s3: Bucket, image: Image) -> None:
    large = hashlib.sha256(b"seed").digest() * (24 * 1024 * 1024 // 32)  # 24 MiB
    s3.write(image.file.name, large)
    image = Image.objects.select_related("generation").get(pk=image.pk)
    digest, size = hashlib.sha256(), 0

    tracemalloc.start()
    try:
        for chunk in stream_archive([image]):
            digest.update(chunk)
            size += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert size > len(large)
    assert peak < 6 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB while zipping 24 MiB"


# --- deletion, the purge, the sweep --------------------------------------------------------


def test_deleting_forever_removes_the_objects(
    s3: Bucket, alice: User, alice_client: Client, make_image
) -> None:
    gone, kept = make_image(alice, prompt="gone"), make_image(alice, prompt="kept")
    alice_client.post(reverse("image_bulk"), {"action": "delete", "images": [gone.uuid]})
    assert keys_of(gone) <= s3.keys()  # in the Trash, restorable: still there

    alice_client.post(
        reverse("trash_act"), {"action": "delete", "confirm": "yes", "images": [gone.uuid]}
    )

    assert s3.keys() == keys_of(kept)


def test_the_purge_removes_the_objects_of_expired_images(
    s3: Bucket, alice: User, make_image, django_capture_on_commit_callbacks
) -> None:
    old, recent = make_image(alice, prompt="old"), make_image(alice, prompt="recent")
    Image.objects.filter(pk__in=[old.pk, recent.pk]).move_to_trash()
    Image.objects.filter(pk=old.pk).update(trashed_at=timezone.now() - timedelta(days=365))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_trash", stdout=io.StringIO())

    assert s3.keys() == keys_of(recent)


def test_the_orphan_sweep_lists_the_bucket_and_deletes_only_old_orphans(
    s3: Bucket, image: Image
) -> None:
    orphans = {
        "originals/2024/01/0b7e-orphan.png",
        "thumbnails/2024/01/0b7e-orphan.webp",
        "grid/2025/12/0b7e-orphan.webp",
    }
    for key in [*orphans, "backups/keep-me.txt"]:
        s3.write(key, b"left behind")
    out = io.StringIO()

    call_command("sweep_orphan_files", "--min-age", "60", stdout=out)  # all just written
    assert orphans <= s3.keys()
    assert "kept 3 unreferenced file(s)" in out.getvalue()
    call_command("sweep_orphan_files", "--min-age", "0", stdout=out)

    assert s3.keys() == keys_of(image) | {"backups/keep-me.txt"}
    assert "Deleted 3 orphan file(s)" in out.getvalue()


# --- the grid backfill ---------------------------------------------------------------------


def test_backfill_grid_thumbnails_writes_the_rendition_to_the_bucket(
    s3: Bucket, alice_client: Client, image: Image
) -> None:
    default_storage.delete(image.grid.name)
    Image.objects.filter(pk=image.pk).update(grid=None, grid_width=None, grid_height=None)

    call_command("backfill_grid_thumbnails", stdout=io.StringIO())

    image.refresh_from_db()
    assert image.grid.name.startswith("grid/")
    assert s3.keys() == keys_of(image)
    with Picture.open(io.BytesIO(s3.read(image.grid.name))) as grid:
        assert grid.size == (image.grid_width, image.grid_height)
    response = alice_client.get(reverse("image_grid", args=[image.uuid]))
    assert fetch(response["Location"]).content == s3.read(image.grid.name)
