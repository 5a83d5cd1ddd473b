""" "Delete my account" (imagegen/account_deletion.py, imagegen/account_data_views.py): after the
password, every file and row of the person's goes, their jobs are stopped first, their sessions
end; other people are untouched."""

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from gallery import uploads
from gallery.ingest import NotWanted, ingest_image
from gallery.models import (
    Collection,
    Comparison,
    FileAccessRecord,
    Image,
    ImageInput,
    PendingFile,
    ShareLink,
)
from imagegen import service, tasks
from imagegen.account_deletion import delete_account
from imagegen.models import Generation
from tests.conftest import PASSWORD, CommittingClient, png_bytes

WRONG_PASSWORD = "That is not your password. Nothing was deleted."


def files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def files_of(images: Any) -> set[str]:
    fields = [(image.file, image.thumbnail, image.grid) for image in images]
    return {field.name for row in fields for field in row if field}


def sessions_of(user_id: int) -> list[Session]:
    return [s for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user_id)]


@pytest.fixture
def alices_account(alice, make_image):
    """Alice keeps generated images, an edit with its mask, an upload, one in the Trash, a
    collection, a share link and a comparison; a job of hers waits in the queue."""
    harbour = make_image(alice, prompt="a quiet harbour")
    edit_job = Generation.objects.create(
        owner=alice, model_name="gpt-image-1", endpoint="edits", prompt="at dusk",
        parameters={"n": 1}, status=Generation.Status.SUCCEEDED,
    )  # fmt: skip
    ImageInput.objects.create(
        generation=edit_job, image=harbour, image_uuid=harbour.uuid, role="edited",
        position=0, mask=png_bytes(colour="white"),
    )  # fmt: skip
    dusk = ingest_image(edit_job, 0, png_bytes(colour="navy"))
    uploads.ingest_upload(alice, png_bytes(colour="orange"), "holiday.png")
    sketch = make_image(alice, prompt="a sketch")
    Image.objects.filter(pk=sketch.pk).move_to_trash()
    Collection.objects.create(owner=alice, name="Coast").images.add(harbour)
    ShareLink.objects.create(owner=alice, image=harbour)
    Comparison.objects.start_for_images(alice, [harbour, dusk])
    waiting = Generation.objects.create(
        owner=alice, model_name="dall-e-3", prompt="still waiting", parameters={"n": 1}
    )
    return {"harbour": harbour, "waiting": waiting}


@pytest.fixture
def bobs_image(bob, make_image) -> Image:
    return make_image(bob, prompt="bob's lighthouse")


def delete(client: Client, password: str = PASSWORD) -> Any:
    return client.post(reverse("account_delete"), {"password": password})


def test_deleting_removes_every_file_and_row_and_leaves_others_untouched(
    alice, alice_client, alices_account, bobs_image, bob_client, media_root
) -> None:
    alice_id = alice.pk
    alices_files = {media_root / name for name in files_of(Image.objects.filter(owner=alice))}
    assert len(alices_files) == 4 * 3  # originals, thumbnails and grid renditions
    assert alices_files <= files_under(media_root)
    bobs_files = {media_root / name for name in files_of([bobs_image])}

    response = delete(alice_client)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_deleted")
    assert files_under(media_root) == bobs_files  # every file of hers, and only hers, is gone
    assert not User.objects.filter(pk=alice_id).exists()
    for model in (Image, Generation, Collection, ShareLink, Comparison):
        assert not model.objects.filter(owner_id=alice_id).exists(), model.__name__
    assert not ImageInput.objects.exists()
    assert not sessions_of(alice_id)
    # Bob keeps everything, and stays signed in.
    assert Image.objects.get() == bobs_image
    assert bob_client.get(reverse("image_original", args=[bobs_image.uuid])).status_code == 200


def test_they_are_signed_out_everywhere_and_see_a_confirmation(alice, alices_account) -> None:
    laptop, phone = CommittingClient(), CommittingClient()
    assert laptop.login(username="alice", password=PASSWORD)
    assert phone.login(username="alice", password=PASSWORD)
    assert len(sessions_of(alice.pk)) == 2
    response = laptop.post(reverse("account_delete"), {"password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert "Your account is deleted" in response.content.decode()
    assert not sessions_of(alice.pk)
    for client in (laptop, phone):
        response = client.get(reverse("generate"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_wrong_password_is_refused_clearly_and_nothing_is_lost(
    alice, alice_client, alices_account, media_root
) -> None:
    before = files_under(media_root)
    images = Image.objects.filter(owner=alice).count()
    for password in ("not my password", ""):
        response = delete(alice_client, password)
        assert response.status_code == 400
        page = response.content.decode()
        assert WRONG_PASSWORD in page if password else "Type your password" in page
        assert password not in page or not password
    assert files_under(media_root) == before
    assert Image.objects.filter(owner=alice).count() == images
    assert Generation.objects.get(pk=alices_account["waiting"].pk).status == "queued"
    assert alice_client.get(reverse("image_list")).status_code == 200  # still signed in


def test_the_confirmation_page_asks_first_and_deletes_nothing(
    alice, alice_client, alices_account
) -> None:
    response = alice_client.get(reverse("account_delete"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="password"' in page
    assert "csrfmiddlewaretoken" in page
    assert "4 images" in page  # the one in the Trash too
    assert User.objects.filter(pk=alice.pk).exists()


def test_an_empty_account_is_told_it_has_nothing_rather_than_zero(alice, alice_client) -> None:
    page = alice_client.get(reverse("account_delete")).content.decode()
    assert "You have no images to delete" in page
    assert "You have no jobs to delete." in page
    assert "0 images" not in page and "0 jobs" not in page
    assert "presets and key are deleted too" in page


def test_csrf_is_enforced(alice, alices_account) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse("account_delete"), {"password": PASSWORD}).status_code == 403
    assert User.objects.filter(pk=alice.pk).exists()
    client.get(reverse("account_delete"))  # sets the CSRF cookie, as the page does
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("account_delete"), {"password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()


def test_signed_out_people_cannot_reach_it(client: Client, alice, alices_account) -> None:
    for response in (
        client.get(reverse("account_delete")),
        client.post(reverse("account_delete"), {"password": PASSWORD}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert User.objects.filter(pk=alice.pk).exists()
    assert client.get(reverse("account_deleted")).status_code == 200  # no one to know


def test_the_records_of_views_of_their_files_stay_for_the_audit(alice, alices_account, bob) -> None:
    harbour = alices_account["harbour"]
    FileAccessRecord.objects.create(
        viewer=bob, viewer_name="bob", owner=alice, owner_name="alice", image=harbour,
        image_uuid=harbour.uuid, variant="thumbnail", path="/x",
    )  # fmt: skip
    delete_account(alice)
    record = FileAccessRecord.objects.get()
    assert (record.owner, record.image, record.owner_name) == (None, None, "alice")


class TestJobs:
    """A job of theirs never leaves a file behind, whenever it ends."""

    def test_waiting_and_running_jobs_are_cancelled_first(
        self, alice, alices_account, monkeypatch
    ) -> None:
        running = Generation.objects.create(
            owner=alice, model_name="dall-e-3", prompt="running", parameters={"n": 1},
            status=Generation.Status.RUNNING,
        )  # fmt: skip
        seen: list[str] = []
        real_delete = Image.objects.filter(owner=alice).delete_with_files.__func__

        def note_statuses(images: Any) -> int:
            statuses = Generation.objects.filter(pk__in=[running.pk, alices_account["waiting"].pk])
            seen.extend(statuses.values_list("status", flat=True))
            return real_delete(images)

        monkeypatch.setattr(type(Image.objects.all()), "delete_with_files", note_statuses)
        delete_account(alice)
        assert seen and set(seen) == {"cancelled"}

    def test_an_image_arriving_after_the_deletion_writes_no_file(self, alice, media_root) -> None:
        job = Generation.objects.create(
            owner=alice, model_name="dall-e-3", prompt="late", parameters={"n": 1},
            status=Generation.Status.RUNNING,
        )  # fmt: skip
        worker_copy = Generation.objects.get(pk=job.pk)  # the worker's, loaded before
        delete_account(alice)
        # Refused when it would be saved (or, once the file is recorded as being written
        # before its bytes are, when that record names a job that is gone): never kept.
        with pytest.raises((NotWanted, IntegrityError)):
            ingest_image(worker_copy, 0, png_bytes(), still_wanted=worker_copy.lock_if_running)
        assert files_under(media_root) == set()
        assert not Image.objects.exists()
        assert not PendingFile.objects.exists()

    def test_a_job_whose_answer_comes_after_the_deletion_saves_nothing(
        self, alice, media_root, monkeypatch
    ) -> None:
        job = Generation.objects.create(
            owner=alice, model_name="qwen-image", prompt="a kite", parameters={"n": 1}
        )
        real_generate = service.generate

        def generate_then_delete(*args: Any, **kwargs: Any) -> Any:
            result = real_generate(*args, **kwargs)
            delete_account(User.objects.get(pk=alice.pk))  # while the upstream worked
            return result

        monkeypatch.setattr(service, "generate", generate_then_delete)
        outcome = tasks.run_generation.call(str(job.pk))
        assert outcome == "cancelled"
        assert files_under(media_root) == set()
        assert not Image.objects.exists()

    def test_a_queued_job_delivered_after_the_deletion_does_nothing(
        self, alice, media_root
    ) -> None:
        job = Generation.objects.create(
            owner=alice, model_name="qwen-image", prompt="a kite", parameters={"n": 1}
        )
        delete_account(alice)
        assert tasks.run_generation.call(str(job.pk)) == "cancelled"
        assert files_under(media_root) == set()


def test_every_object_of_theirs_leaves_the_bucket(s3, alice, alice_client, bob, make_image) -> None:
    mine = [make_image(alice, prompt=f"harbour {n}") for n in range(3)]
    Image.objects.filter(pk=mine[0].pk).move_to_trash()
    theirs = make_image(bob)
    bobs_keys = {theirs.file.name, theirs.thumbnail.name, theirs.grid.name}
    assert len(s3.keys()) == 4 * 3
    assert delete(alice_client).status_code == 302
    assert s3.keys() == bobs_keys
