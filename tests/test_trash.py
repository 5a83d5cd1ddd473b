"""The Trash: deleting moves images there; Undo, restore, delete forever, empty, the purge, and
everything a trashed image leaves at once (the gallery, search, collections, shares, lineage)."""

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery.models import Collection, Comparison, Image, ShareLink
from gallery.uploads import ingest_upload
from tests.conftest import png_bytes
from tests.test_lineage import EDITED, made_from

BULK = reverse("image_bulk")
TRASH = reverse("trash")
UNDO = reverse("trash_undo")
ACT = reverse("trash_act")
EMPTY = reverse("trash_empty")


def trash(client: Client, *images: Image, back: str = "/images/") -> None:
    response = client.post(
        BULK, {"action": "delete", "images": [i.uuid for i in images], "next": back}
    )
    assert response.status_code == 302


def kept(user) -> set[str]:
    return {image.prompt for image in Image.objects.for_user(user)}


def in_trash(user) -> set[str]:
    return {image.prompt for image in Image.objects.in_trash_of(user)}


def files_of(image: Image) -> list[Path]:
    return [Path(image.file.path), Path(image.thumbnail.path)]


def test_a_trashed_image_leaves_the_gallery_search_and_its_page_but_keeps_its_files(
    alice, alice_client: Client, make_image
) -> None:
    cat, dog = make_image(alice, prompt="ginger cat"), make_image(alice, prompt="ginger dog")
    trash(alice_client, cat)
    gallery = alice_client.get(reverse("image_list")).content.decode()
    assert str(dog.uuid) in gallery and str(cat.uuid) not in gallery
    search = alice_client.get(reverse("image_list"), {"q": "ginger"}).content.decode()
    assert str(dog.uuid) in search and str(cat.uuid) not in search
    assert alice_client.get(reverse("image_detail", args=[cat.uuid])).status_code == 404
    assert alice_client.get(reverse("image_edit", args=[cat.uuid])).status_code == 404
    assert all(path.exists() for path in files_of(cat))
    # Its thumbnail is still its owner's to see, on the Trash page.
    thumbnail = alice_client.get(reverse("image_thumbnail", args=[cat.uuid]))
    assert thumbnail.status_code == 200
    page = alice_client.get(TRASH).content.decode()
    assert "ginger cat" in page and "ginger dog" not in page


def test_undo_restores_exactly_the_last_move_to_the_trash(
    alice, alice_client: Client, make_image
) -> None:
    first, second, third = (make_image(alice, prompt=p) for p in ("first", "second", "third"))
    trash(alice_client, first)
    trash(alice_client, second, third, back="/images/?q=th")
    page = alice_client.get("/images/?q=th").content.decode()
    assert "Moved 2 images to the Trash." in page and f'action="{UNDO}"' in page
    assert 'name="next" value="/images/?q=th"' in page  # Undo comes back here
    response = alice_client.post(UNDO, {"next": "/images/?q=th"})
    assert response["Location"] == "/images/?q=th"
    assert kept(alice) == {"second", "third"} and in_trash(alice) == {"first"}
    assert "Restored 2 images." in alice_client.get("/images/?q=th").content.decode()
    # Once only: the same Undo again restores nothing else.
    alice_client.post(UNDO)
    assert in_trash(alice) == {"first"}
    assert "Nothing to undo" in alice_client.get(TRASH).content.decode()


def test_undo_is_each_persons_own(alice, bob, alice_client, bob_client, make_image) -> None:
    mine, theirs = make_image(alice, prompt="mine"), make_image(bob, prompt="theirs")
    trash(alice_client, mine)
    trash(bob_client, theirs)
    alice_client.post(UNDO)
    assert kept(alice) == {"mine"} and in_trash(bob) == {"theirs"}


def test_deleting_one_image_returns_to_the_same_search_with_undo(
    alice, alice_client: Client, make_image
) -> None:
    image = make_image(alice, prompt="a red boat")
    detail = alice_client.get(
        reverse("image_detail", args=[image.uuid]), {"q": "boat", "sort": "oldest"}
    ).content.decode()
    back = reverse("image_list") + "?q=boat&amp;sort=oldest"
    assert f'name="next" value="{back}"' in detail
    response = alice_client.post(
        reverse("image_delete", args=[image.uuid]), {"next": "/images/?q=boat&sort=oldest"}
    )
    assert response["Location"] == "/images/?q=boat&sort=oldest"
    page = alice_client.get(response["Location"]).content.decode()
    assert "Moved 1 image to the Trash." in page and f'action="{UNDO}"' in page


def test_restore_and_delete_forever_act_on_my_selection_only(
    alice, bob, alice_client: Client, make_image
) -> None:
    a, b, c = (make_image(alice, prompt=p) for p in "abc")
    theirs = make_image(bob, prompt="theirs")
    trash(alice_client, a, b, c)
    Image.objects.filter(pk=theirs.pk).move_to_trash()
    selection = [a.uuid, theirs.uuid, "not-a-uuid"]
    alice_client.post(ACT, {"action": "restore", "images": selection})
    assert kept(alice) == {"a"} and in_trash(bob) == {"theirs"}
    # Delete forever asks first, carrying my selection only.
    confirm = alice_client.post(ACT, {"action": "delete", "images": [b.uuid, theirs.uuid]})
    page = confirm.content.decode()
    assert "Delete 1 image forever?" in page and str(theirs.uuid) not in page
    assert in_trash(alice) == {"b", "c"}
    alice_client.post(ACT, {"action": "delete", "confirm": "yes", "images": [b.uuid, theirs.uuid]})
    assert in_trash(alice) == {"c"} and in_trash(bob) == {"theirs"}
    assert not any(path.exists() for path in files_of(b))
    # A kept image is not the Trash's to delete.
    alice_client.post(ACT, {"action": "delete", "confirm": "yes", "images": [a.uuid]})
    assert kept(alice) == {"a"}


def test_empty_the_trash_asks_first_and_leaves_kept_and_others_images(
    alice, bob, alice_client: Client, make_image
) -> None:
    keep, gone = make_image(alice, prompt="keep"), make_image(alice, prompt="gone")
    theirs = make_image(bob, prompt="theirs")
    trash(alice_client, gone)
    Image.objects.filter(pk=theirs.pk).move_to_trash()
    assert "Empty the Trash" in alice_client.post(EMPTY).content.decode()
    assert in_trash(alice) == {"gone"}
    alice_client.post(EMPTY, {"confirm": "yes"})
    assert not in_trash(alice) and kept(alice) == {"keep"} and in_trash(bob) == {"theirs"}
    assert not any(path.exists() for path in files_of(gone))
    assert all(path.exists() for path in files_of(keep))
    assert "The Trash is empty." in alice_client.get(TRASH).content.decode()


def test_the_purge_deletes_images_trashed_longer_than_trash_days(
    alice, bob, make_image, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TRASH_DAYS = 30
    old, recent = make_image(alice, prompt="old"), make_image(bob, prompt="recent")
    Image.objects.filter(pk=old.pk).move_to_trash()
    Image.objects.filter(pk=recent.pk).move_to_trash()
    Image.objects.filter(pk=old.pk).update(trashed_at=timezone.now() - timedelta(days=30, hours=1))
    Image.objects.filter(pk=recent.pk).update(trashed_at=timezone.now() - timedelta(days=29))
    out = io.StringIO()
    call_command("purge_trash", "--dry-run", stdout=out)
    assert "1 images would be purged." in out.getvalue() and Image.objects.count() == 2
    with django_capture_on_commit_callbacks(execute=True):  # the files go once it commits
        call_command("purge_trash", stdout=out)
    assert "Purged 1 images" in out.getvalue()
    assert list(Image.objects.values_list("prompt", flat=True)) == ["recent"]
    assert not any(path.exists() for path in files_of(old))
    assert all(path.exists() for path in files_of(recent))
    settings.TRASH_DAYS = 7  # a shorter setting takes effect at the next purge
    call_command("purge_trash", stdout=out)
    assert not Image.objects.exists()


def test_the_trash_page_says_when_each_image_goes_for_good(
    alice, alice_client: Client, make_image, settings
) -> None:
    settings.TRASH_DAYS = 30
    image = make_image(alice, prompt="dated")
    Image.objects.filter(pk=image.pk).move_to_trash()
    moment = timezone.datetime(2026, 3, 1, 12, tzinfo=timezone.UTC)
    Image.objects.filter(pk=image.pk).update(trashed_at=moment)
    page = alice_client.get(TRASH).content.decode()
    assert "Deleted 03/01/2026" in page and "Gone for good after 03/31/2026" in page
    assert "stay here for 30 days" in page


def test_trashed_images_leave_collections_and_every_kind_of_share_at_once(
    alice, alice_client: Client, make_image
) -> None:
    shown, hidden = make_image(alice, prompt="shown"), make_image(alice, prompt="hidden")
    collection = Collection.objects.create(owner=alice, name="Set")
    collection.images.add(shown, hidden)
    comparison = Comparison.objects.start_for_images(alice, [shown, hidden])
    image_link = ShareLink.objects.create(owner=alice, image=hidden)
    collection_link = ShareLink.objects.create(owner=alice, collection=collection)
    comparison_link = ShareLink.objects.create(owner=alice, comparison=comparison)
    trash(alice_client, hidden)

    public = Client()
    assert public.get(reverse("shared_page", args=[image_link.token])).status_code == 404
    for name in ("shared_original", "shared_thumbnail"):
        url = reverse(name, args=[image_link.token, hidden.uuid])
        assert public.get(url).status_code == 404
    for link in (collection_link, comparison_link):
        page = public.get(reverse("shared_page", args=[link.token])).content.decode()
        assert str(shown.uuid) in page and str(hidden.uuid) not in page
        url = reverse("shared_image", args=[link.token, hidden.uuid])
        assert public.get(url).status_code == 404
        archive = public.get(reverse("shared_archive", args=[link.token]))
        names = zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))).namelist()
        assert len([n for n in names if n.endswith(".png")]) == 1
    page = alice_client.get(collection.get_absolute_url()).content.decode()
    assert str(hidden.uuid) not in page
    listing = alice_client.get(reverse("collection_list")).content.decode()
    assert "1 image" in listing
    compared = alice_client.get(comparison.get_absolute_url()).content.decode()
    assert reverse("image_detail", args=[hidden.uuid]) not in compared
    # The owner's list says why the link stopped; restored in time, it works again.
    assert "Image in the Trash" in alice_client.get(reverse("share_list")).content.decode()
    alice_client.post(UNDO)
    assert public.get(reverse("shared_page", args=[image_link.token])).status_code == 200


def test_a_trashed_first_version_hands_its_stack_on_and_rejoins_it_when_restored(
    alice, alice_client: Client, make_image
) -> None:
    first = make_image(alice, prompt="first")
    second = made_from(alice, (first, EDITED), prompt="second")
    third = made_from(alice, (second, EDITED), prompt="third")
    assert (second.stack_root, third.stack_root) == (first, first)
    trash(alice_client, first)
    second.refresh_from_db(), third.refresh_from_db()
    assert second.stack_root is None and third.stack_root == second
    gallery = alice_client.get(reverse("image_list")).content.decode()
    assert str(second.uuid) in gallery and str(third.uuid) not in gallery  # still stacked
    alice_client.post(UNDO)
    first.refresh_from_db()
    assert first.stack_root == second and first.trashed_at is None
    assert set(second.stacked.all()) == {first, third}


def test_a_version_restored_without_its_first_starts_the_stack_again(
    alice, alice_client: Client, make_image
) -> None:
    first = make_image(alice, prompt="first")
    second = made_from(alice, (first, EDITED), prompt="second")
    third = made_from(alice, (second, EDITED), prompt="third")
    trash(alice_client, first, second, third)
    alice_client.post(ACT, {"action": "restore", "images": [third.uuid, second.uuid]})
    second.refresh_from_db(), third.refresh_from_db(), first.refresh_from_db()
    assert second.stack_root is None and third.stack_root == second
    assert first.stack_root == second and first.trashed_at is not None
    gallery = alice_client.get(reverse("image_list")).content.decode()
    assert str(second.uuid) in gallery


def test_a_trashed_result_leaves_its_job_card(alice, alice_client: Client, make_image) -> None:
    image = make_image(alice, prompt="on the card")
    trash(alice_client, image)
    feed = alice_client.get(reverse("generate")).content.decode()
    assert reverse("image_detail", args=[image.uuid]) not in feed


def test_uploading_a_trashed_file_again_brings_it_back(alice) -> None:
    data = png_bytes(colour="navy")
    image = ingest_upload(alice, data, "navy.png")
    Image.objects.filter(pk=image.pk).move_to_trash()
    again = ingest_upload(alice, data, "navy.png")
    assert again.pk == image.pk and again.trashed_at is None


@pytest.mark.parametrize("url", [UNDO, ACT, EMPTY])
def test_the_trash_acts_only_on_post(alice_client: Client, url: str) -> None:
    assert alice_client.get(url).status_code == 405


def test_the_trash_is_each_persons_own(alice, bob, bob_client: Client, make_image) -> None:
    image = make_image(alice, prompt="private")
    Image.objects.filter(pk=image.pk).move_to_trash()
    assert "private" not in bob_client.get(TRASH).content.decode()
    bob_client.post(ACT, {"action": "restore", "images": [image.uuid]})
    bob_client.post(EMPTY, {"confirm": "yes"})
    assert in_trash(alice) == {"private"}
    response = bob_client.get(reverse("image_thumbnail", args=[image.uuid]))
    assert response.status_code == 404
    assert Client().get(TRASH).status_code == 302  # signed out: to the sign-in page
