""" "Download everything" (gallery/export.py, imagegen/account_data_views.py): one zip, streamed,
of every image a person keeps, each with a metadata JSON, plus an index and their jobs."""

import io
import json
import re
import tracemalloc
import zipfile
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery import uploads
from gallery.ingest import ingest_image
from gallery.models import Collection, Comparison, Image, ImageInput, ShareLink
from imagegen.models import Generation
from tests.conftest import png_bytes

SAFE_NAME = re.compile(r"^(images/[A-Za-z0-9-]+\.(png|json)|masks/[0-9a-f-]+-\d+\.png)$")


def exported(client: Client) -> zipfile.ZipFile:
    response = client.get(reverse("account_export"))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None  # every entry's CRC checks
    return archive


def stored_bytes(image: Image) -> bytes:
    with image.file.open("rb") as file:
        return file.read()


@pytest.fixture
def alices_things(alice, bob, make_image):
    """A generated image (rated, favourite, in a collection, shared, with a cost), an edit of it
    with a mask, an upload, and one in the Trash; and one image of Bob's."""
    harbour = make_image(alice, prompt="a quiet harbour")
    Image.objects.filter(pk=harbour.pk).update(
        rating=4, favourite=True, cost=Decimal("0.04"), cost_currency="USD"
    )
    Generation.objects.filter(pk=harbour.generation_id).update(
        cost=Decimal("0.04"), cost_currency="USD", cost_basis="price", images_returned=1
    )
    Collection.objects.create(owner=alice, name="Coast").images.add(harbour)
    link = ShareLink.objects.create(owner=alice, image=harbour)
    mask = png_bytes(64, 48, "white")
    edit_job = Generation.objects.create(
        owner=alice,
        model_name="gpt-image-1",
        endpoint=Generation.Endpoint.EDITS,
        prompt="the harbour at dusk",
        parameters={"n": 1},
        status=Generation.Status.SUCCEEDED,
    )
    ImageInput.objects.create(
        generation=edit_job, image=harbour, image_uuid=harbour.uuid, role="edited",
        position=0, mask=mask,
    )  # fmt: skip
    dusk = ingest_image(edit_job, 0, png_bytes(colour="navy"))
    upload = uploads.ingest_upload(alice, png_bytes(colour="orange"), "holiday.png")
    trashed = make_image(alice, prompt="a discarded sketch")
    Image.objects.filter(pk=trashed.pk).move_to_trash()
    Comparison.objects.start_for_images(alice, [harbour, dusk])
    theirs = make_image(bob, prompt="bob's private lighthouse")
    failed = Generation.objects.create(
        owner=alice, model_name="dall-e-3", prompt="a job that failed", parameters={},
        status=Generation.Status.FAILED, error_message="The upstream refused it.",
    )  # fmt: skip
    return {
        "harbour": harbour, "dusk": dusk, "upload": upload, "trashed": trashed,
        "theirs": theirs, "link": link, "mask": mask, "edit_job": edit_job, "failed": failed,
    }  # fmt: skip


def test_the_zip_holds_every_image_of_theirs_with_its_metadata(alice_client, alices_things) -> None:
    archive = exported(alice_client)
    index = json.loads(archive.read("index.json"))
    mine = Image.objects.filter(owner__username="alice")
    assert index["image_count"] == mine.count() == 4
    listed = {row["uuid"]: row for row in index["images"]}
    assert set(listed) == {str(image.uuid) for image in mine}
    for image in mine:
        row = listed[str(image.uuid)]
        assert archive.read(row["file"]) == stored_bytes(image)  # the original, byte for byte
        document = json.loads(archive.read(row["metadata"]))
        assert document["uuid"] == str(image.uuid)
        assert document["file"] == row["file"]
        assert document["prompt"] == image.prompt
        assert document["sha256"] == image.sha256
        assert row["in_trash"] == document["in_trash"] == (image.trashed_at is not None)
    assert listed[str(alices_things["trashed"].uuid)]["in_trash"] is True


def test_each_metadata_file_says_how_the_image_was_made_and_what_became_of_it(
    alice_client, alices_things
) -> None:
    archive = exported(alice_client)
    documents = {
        json.loads(archive.read(name))["uuid"]: json.loads(archive.read(name))
        for name in archive.namelist()
        if name.startswith("images/") and name.endswith(".json")
    }
    harbour = documents[str(alices_things["harbour"].uuid)]
    assert harbour["model"] == "dall-e-3"
    assert harbour["parameters"] == {"n": 1, "size": "1024x1024"}
    assert (harbour["rating"], harbour["favourite"]) == (4, True)
    assert harbour["collections"] == [{"uuid": harbour["collections"][0]["uuid"], "name": "Coast"}]
    assert harbour["cost"]["amount"] == "0.040000"
    assert harbour["cost"]["currency"] == "USD"
    [link] = harbour["share_links"]
    assert link["url"] == "http://testserver" + reverse(
        "shared_page", args=[alices_things["link"].token]
    )
    assert link["shares"] == {"kind": "image", "uuid": str(alices_things["harbour"].uuid)}
    assert harbour["created"] and harbour["job"] == str(alices_things["harbour"].generation_id)

    dusk = documents[str(alices_things["dusk"].uuid)]
    assert dusk["endpoint"] == "edits"
    assert dusk["first_version"] == str(alices_things["harbour"].uuid)
    [source] = dusk["started_from"]
    assert source["role"] == "edited"
    assert source["image"] == str(alices_things["harbour"].uuid)
    assert archive.read(source["mask"]) == alices_things["mask"]

    upload = documents[str(alices_things["upload"].uuid)]
    assert upload["origin"] == "uploaded"
    assert upload["uploaded_file_name"] == "holiday.png"
    assert "job" not in upload

    trashed = documents[str(alices_things["trashed"].uuid)]
    assert trashed["in_trash"] is True and trashed["moved_to_trash"]


def test_the_index_and_jobs_file_list_the_rest_of_the_account(alice_client, alices_things) -> None:
    archive = exported(alice_client)
    index = json.loads(archive.read("index.json"))
    assert index["account"]["username"] == "alice"
    assert index["format"]["version"] == 1
    assert [c["name"] for c in index["collections"]] == ["Coast"]
    assert len(index["comparisons"]) == 1
    assert [link["shares"]["kind"] for link in index["share_links"]] == ["image"]
    jobs = {job["prompt"]: job for job in json.loads(archive.read("jobs.json"))["jobs"]}
    assert jobs["a job that failed"]["status"] == "failed"
    assert jobs["a job that failed"]["error"] == "The upstream refused it."
    assert jobs["the harbour at dusk"]["endpoint"] == "edits"
    assert len(jobs) == Generation.objects.filter(owner__username="alice").count()


def test_nothing_of_another_person_is_in_it(alice_client, bob_client, alices_things) -> None:
    raw = b"".join(alice_client.get(reverse("account_export")).streaming_content)
    theirs = alices_things["theirs"]
    assert str(theirs.uuid).encode() not in raw
    assert b"lighthouse" not in raw
    assert stored_bytes(theirs) not in raw  # its embedded metadata names its UUID
    bobs = zipfile.ZipFile(
        io.BytesIO(b"".join(bob_client.get(reverse("account_export")).streaming_content))
    )
    assert len(json.loads(bobs.read("index.json"))["images"]) == 1
    assert b"harbour" not in b"".join(bobs.read(name) for name in bobs.namelist())


def test_file_names_are_unique_and_safe(alice, alice_client, make_image) -> None:
    same = [
        make_image(alice, prompt="the same prompt", data=png_bytes(colour=c))
        for c in ("red", "green", "blue")
    ]
    make_image(alice, prompt="../../etc/passwd\\ C:\\evil: <name>?*|", data=png_bytes(colour="red"))
    make_image(alice, prompt="", data=png_bytes(colour="pink"))
    names = exported(alice_client).namelist()
    assert len(names) == len(set(names)) == 2 + 2 * 5
    for name in names[2:]:
        assert SAFE_NAME.match(name), name
    assert sum(str(image.uuid) in " ".join(names) for image in same) == 3


def test_the_download_is_a_streamed_private_attachment(alice, alice_client, make_image) -> None:
    make_image(alice)
    response = alice_client.get(reverse("account_export"))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="image-studio-')
    assert response["Cache-Control"] == "private, no-store"
    assert "Content-Length" not in response


def test_two_hundred_large_images_stream_in_little_memory(alice, alice_client, make_image) -> None:
    """200 originals of 256 KB each (50 MB in all) leave through a few MB of memory."""
    first = make_image(alice)
    size = 256 * 1024
    rows = []
    for index in range(1, 200):
        image = Image(
            owner=alice, generation=first.generation, index=index, model_name="dall-e-3",
            prompt=f"large image {index}", width=64, height=48, thumbnail_width=64,
            thumbnail_height=48, format="png", bytes=size, sha256=f"{index:064x}",
            created_at=timezone.now(), thumbnail=first.thumbnail.name,
        )  # fmt: skip
        data = index.to_bytes(4, "big") * (size // 4)  # distinct per image, a real file
        image.file.name = default_storage.save(
            f"originals/large/{image.uuid}.png", ContentFile(data)
        )
        rows.append(image)
    Image.objects.bulk_create(rows)

    response = alice_client.get(reverse("account_export"))
    assert isinstance(response, StreamingHttpResponse)
    total = chunks = 0
    tracemalloc.start()
    try:
        for chunk in response.streaming_content:
            total += len(chunk)
            chunks += 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 199 * size
    assert chunks > 199  # sent as it was written, not at the end
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for {total / 1e6:.1f} MB sent"


def test_signed_out_people_are_sent_to_sign_in(client: Client, alice, make_image) -> None:
    make_image(alice)
    response = client.get(reverse("account_export"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_export_refuses_post(alice_client) -> None:
    assert alice_client.post(reverse("account_export")).status_code == 405


def test_the_settings_page_offers_both(alice_client) -> None:
    page = alice_client.get(reverse("account_settings")).content.decode()
    assert reverse("account_export") in page
    assert reverse("account_delete") in page


def test_an_image_whose_original_is_lost_keeps_its_metadata(
    alice, alice_client, make_image, media_root
) -> None:
    kept, lost = make_image(alice, prompt="kept"), make_image(alice, prompt="lost")
    (media_root / lost.file.name).unlink()
    archive = exported(alice_client)
    names = archive.namelist()
    assert f"images/kept-{kept.uuid}.png" in names
    assert f"images/lost-{lost.uuid}.png" not in names
    assert json.loads(archive.read(f"images/lost-{lost.uuid}.json"))["uuid"] == str(lost.uuid)


def test_the_export_reads_the_originals_from_object_storage(
    s3, alice, alice_client, bob, make_image
) -> None:
    mine = [make_image(alice, prompt=f"harbour {n}") for n in range(2)]
    theirs = make_image(bob, prompt="lighthouse")
    archive = exported(alice_client)
    stored = s3.keys()
    for number, image in enumerate(mine):
        assert image.file.name in stored
        name = f"images/harbour-{number}-{image.uuid}.png"
        assert archive.read(name) == s3.read(image.file.name)
    assert not any(str(theirs.uuid) in name for name in archive.namelist())
