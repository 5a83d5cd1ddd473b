"""Bulk actions on selected images: to the Trash, collections, zip download."""

import io
import json
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from gallery.embedding import read_metadata
from gallery.models import Collection, Image
from tests.conftest import gif_bytes, png_bytes, svg_bytes

URL = reverse("image_bulk")


def test_bulk_delete_moves_only_my_selection_to_the_trash_and_returns(
    alice, bob, alice_client: Client, make_image
) -> None:
    mine = [make_image(alice, prompt=f"mine {i}") for i in range(3)]
    theirs = make_image(bob)
    selection = [mine[0].uuid, mine[1].uuid, theirs.uuid, "not-a-uuid"]
    back = "/images/?q=mine&sort=oldest"
    response = alice_client.post(URL, {"action": "delete", "images": selection, "next": back})
    # No confirmation step: it can be undone. Back to the same search, which says so.
    assert response.status_code == 302 and response["Location"] == back
    assert set(Image.objects.in_trash_of(alice).values_list("uuid", flat=True)) == {
        mine[0].uuid,
        mine[1].uuid,
    }
    assert Image.objects.count() == 4  # nothing deleted: the files stay till the purge
    assert not Image.objects.in_trash_of(bob).exists()
    page = alice_client.get(back).content.decode()
    assert "Moved 2 images to the Trash." in page and reverse("trash_undo") in page


def test_bulk_add_and_remove_from_a_collection(alice, alice_client: Client, make_image) -> None:
    images = [make_image(alice) for _ in range(3)]
    collection = Collection.objects.create(owner=alice, name="Set")
    collection.images.add(images[0])
    selected = [image.uuid for image in images]
    alice_client.post(URL, {"action": "add", "collection": collection.uuid, "images": selected})
    assert collection.images.count() == 3
    alice_client.post(
        URL, {"action": "remove", "collection": collection.uuid, "images": selected[:2]}
    )
    assert list(collection.images.all()) == [images[2]]


def test_bulk_add_refuses_another_persons_collection(alice, bob, alice_client, make_image) -> None:
    image = make_image(alice)
    theirs = Collection.objects.create(owner=bob, name="Theirs")
    response = alice_client.post(
        URL, {"action": "add", "collection": theirs.uuid, "images": [image.uuid]}
    )
    assert response.status_code == 404
    assert not theirs.images.exists()


def test_zip_holds_the_originals_and_a_metadata_json_each(
    alice, bob, alice_client: Client, make_image
) -> None:
    first, second = make_image(alice, prompt="a red kite"), make_image(alice, prompt="a red kite")
    theirs = make_image(bob, prompt="secret")
    response = alice_client.post(
        URL, {"action": "zip", "images": [first.uuid, second.uuid, theirs.uuid]}
    )
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="images-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = sorted(archive.namelist())
    assert len(names) == 4 and len(set(names)) == 4
    for image in (first, second):
        original = next(n for n in names if str(image.uuid)[:8] in n and n.endswith(".png"))
        data = archive.read(original)
        assert data == image.file.open("rb").read()
        assert read_metadata(data)["prompt"] == "a red kite"
        document = json.loads(archive.read(original.replace(".png", ".json")))
        assert document["image"] == str(image.uuid)
        assert document["sha256"] == image.sha256
    assert not any("secret" in name for name in names)


def test_zip_holds_an_animation_and_a_drawing_with_their_metadata_json(
    alice, alice_client: Client, make_image
) -> None:
    animation = make_image(alice, prompt="a spinning kite", data=gif_bytes())
    drawing = make_image(alice, prompt="a kite drawn", data=svg_bytes())
    response = alice_client.post(URL, {"action": "zip", "images": [animation.uuid, drawing.uuid]})
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    for image, extension in [(animation, ".gif"), (drawing, ".svg")]:
        original = image.download_name()
        assert original.endswith(extension)
        assert archive.read(original) == image.file.open("rb").read()
        document = json.loads(archive.read(original.replace(extension, ".json")))
        assert (document["format"], document["prompt"]) == (extension[1:], image.prompt)
    assert read_metadata(archive.read(animation.download_name()))["prompt"] == "a spinning kite"


def test_zip_of_an_upload_says_it_was_uploaded_and_under_what_name(
    alice, alice_client: Client, make_image
) -> None:
    # An upload has no job: its document once read the job's parameters and broke the zip off
    # halfway, after the 200 had been sent.
    data = png_bytes(40, 30, "teal")
    upload = SimpleUploadedFile("harbour.png", data, content_type="image/png")
    alice_client.post(reverse("image_upload"), {"files": [upload]})
    uploaded = Image.objects.get(origin=Image.Origin.UPLOADED)
    generated = make_image(alice, prompt="a red kite")
    response = alice_client.post(URL, {"action": "zip", "images": [uploaded.uuid, generated.uuid]})
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None and len(archive.namelist()) == 4
    document = json.loads(archive.read(uploaded.download_name().replace(".png", ".json")))
    assert (document["origin"], document["uploaded_name"]) == ("uploaded", "harbour.png")
    assert "generation" not in document and "parameters" not in document
    assert archive.read(uploaded.download_name()) == data
    kite = json.loads(archive.read(generated.download_name().replace(".png", ".json")))
    assert kite["generation"] == str(generated.generation_id) and "parameters" in kite


def test_nothing_selected_or_no_action_is_explained(
    alice, alice_client: Client, make_image
) -> None:
    image = make_image(alice)
    response = alice_client.post(URL, {"action": "zip"}, follow=True)
    assert "Select at least one image" in response.content.decode()
    response = alice_client.post(URL, {"action": "dance", "images": [image.uuid]}, follow=True)
    assert "Choose what to do" in response.content.decode()


def test_bulk_needs_post_and_sign_in(client, alice_client) -> None:
    assert alice_client.get(URL).status_code == 405
    assert client.post(URL).status_code == 302
