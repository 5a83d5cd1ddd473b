"""A shared collection (or comparison) can be downloaded whole, as one zip, with nothing private
in it; a link that hides the prompt gives files without their embedded metadata."""

import io
import json
import zipfile
from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery.models import Collection, ShareLink


def archive(client: Client, link: ShareLink) -> zipfile.ZipFile:
    response = client.get(reverse("shared_archive", args=[link.token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def shared_collection(owner, make_image, **link_fields) -> tuple[ShareLink, list]:
    collection = Collection.objects.create(owner=owner, name=f"Coast {Collection.objects.count()}")
    images = [make_image(owner, prompt=f"a quiet harbour number {n}") for n in range(3)]
    collection.images.add(*images)
    link = ShareLink.objects.create(owner=owner, collection=collection, **link_fields)
    return link, images


def test_a_shared_collection_downloads_whole(client: Client, alice, make_image) -> None:
    link, images = shared_collection(alice, make_image)
    images[0].favourite = True
    images[0].save()
    make_image(alice, prompt="not in the collection")
    page = client.get(reverse("shared_page", args=[link.token])).content.decode()
    assert reverse("shared_archive", args=[link.token]) in page
    names = archive(client, link).namelist()
    pictures = [name for name in names if name.endswith(".png")]
    assert len(pictures) == 3
    documents = [name for name in names if name.endswith(".json")]
    assert len(documents) == 3
    zipped = archive(client, link)
    described = [json.loads(zipped.read(name)) for name in documents]
    assert {d["prompt"] for d in described} == {i.prompt for i in images}
    assert all("favourite" not in d for d in described)  # nothing private


def test_a_link_that_hides_the_prompt_zips_files_without_it(
    client: Client, alice, make_image
) -> None:
    link, images = shared_collection(alice, make_image, hide_prompt=True)
    zipped = archive(client, link)
    assert sorted(zipped.namelist()) == ["image-1.png", "image-2.png", "image-3.png"]
    for name in zipped.namelist():
        data = zipped.read(name)
        assert b"harbour" not in data  # the embedded prompt was taken out
    assert b"harbour" in images[0].file.open("rb").read()  # the kept file still has it


def test_no_zip_for_a_dead_link_or_a_single_image(client: Client, alice, make_image) -> None:
    link, _images = shared_collection(alice, make_image, revoked_at=timezone.now())
    assert client.get(reverse("shared_archive", args=[link.token])).status_code == 404
    expired = timezone.now() - timedelta(minutes=1)
    link, _images = shared_collection(alice, make_image, expires_at=expired)
    assert client.get(reverse("shared_archive", args=[link.token])).status_code == 404
    single = ShareLink.objects.create(owner=alice, image=make_image(alice))
    assert client.get(reverse("shared_archive", args=[single.token])).status_code == 404
    assert client.get("/s/not-a-token/download.zip").status_code == 404
