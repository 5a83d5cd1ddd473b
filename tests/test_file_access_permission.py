"""Who may open another person's files: only someone granted gallery.view_any_files, to them or
to a group, never merely for being staff or a superuser; each such view is recorded, and the
record is read-only in admin."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse

from gallery.models import FileAccessRecord

VARIANTS = ["image_original", "image_thumbnail", "image_grid"]


def view_any_files() -> Permission:
    return Permission.objects.get(content_type__app_label="gallery", codename="view_any_files")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root", "root@example.org", "x")


@pytest.fixture
def staff(db) -> User:
    """Staff with every other gallery permission (view_image among them), but not this one."""
    user = User.objects.create_user("staff", is_staff=True)
    others = Permission.objects.filter(content_type__app_label="gallery")
    user.user_permissions.add(*others.exclude(codename="view_any_files"))
    return user


@pytest.mark.parametrize("url_name", VARIANTS)
def test_another_person_staff_and_a_superuser_without_the_permission_get_404(
    url_name, alice, bob, staff, root, make_image
) -> None:
    image = make_image(alice)
    url = reverse(url_name, args=[image.uuid])
    for user in (bob, staff, root):
        assert signed_in(user).get(url).status_code == 404, user.username
    assert not FileAccessRecord.objects.exists()


@pytest.mark.parametrize("url_name", VARIANTS)
def test_the_owner_opens_their_files_and_nothing_is_recorded(
    url_name, alice, alice_client, make_image
) -> None:
    image = make_image(alice)
    response = alice_client.get(reverse(url_name, args=[image.uuid]))
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]  # the owner's browser keeps their files
    assert not FileAccessRecord.objects.exists()


@pytest.mark.parametrize("url_name", VARIANTS)
def test_the_granted_permission_opens_any_file_and_each_view_is_recorded(
    url_name, alice, staff, make_image
) -> None:
    image = make_image(alice)
    staff.user_permissions.add(view_any_files())
    url = reverse(url_name, args=[image.uuid])
    client = signed_in(staff)
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"  # asked again, recorded again
    records = list(FileAccessRecord.objects.order_by("id"))
    assert len(records) == 2
    record = records[0]
    assert (record.viewer, record.viewer_name) == (staff, "staff")
    assert (record.owner, record.owner_name) == (alice, "alice")
    assert (record.image, record.image_uuid) == (image, image.uuid)
    assert record.variant == url_name.removeprefix("image_")
    assert record.path == url
    assert record.viewed_at is not None


def test_a_superuser_granted_the_permission_is_recorded_too(alice, root, make_image) -> None:
    image = make_image(alice)
    root.user_permissions.add(view_any_files())
    response = signed_in(root).get(reverse("image_original", args=[image.uuid]), {"download": "1"})
    assert response.status_code == 200
    record = FileAccessRecord.objects.get()
    assert record.viewer == root
    assert record.path == reverse("image_original", args=[image.uuid]) + "?download=1"


def test_the_permission_granted_to_a_group_counts(alice, bob, make_image) -> None:
    image = make_image(alice)
    auditors = Group.objects.create(name="auditors")
    auditors.permissions.add(view_any_files())
    bob.groups.add(auditors)
    assert signed_in(bob).get(reverse("image_thumbnail", args=[image.uuid])).status_code == 200
    assert FileAccessRecord.objects.get().viewer == bob


def test_an_inactive_person_with_the_permission_sees_nothing(alice, bob, make_image) -> None:
    image = make_image(alice)
    bob.user_permissions.add(view_any_files())
    client = signed_in(bob)
    User.objects.filter(pk=bob.pk).update(is_active=False)
    assert client.get(reverse("image_thumbnail", args=[image.uuid])).status_code in {302, 404}
    assert not FileAccessRecord.objects.exists()


def test_a_granted_person_opening_their_own_file_is_not_recorded(alice, make_image) -> None:
    image = make_image(alice)
    alice.user_permissions.add(view_any_files())
    assert signed_in(alice).get(reverse("image_original", args=[image.uuid])).status_code == 200
    assert not FileAccessRecord.objects.exists()


def test_the_permission_opens_files_only_not_pages(alice, bob, make_image) -> None:
    image = make_image(alice)
    bob.user_permissions.add(view_any_files())
    assert signed_in(bob).get(reverse("image_detail", args=[image.uuid])).status_code == 404


def test_the_record_keeps_the_names_after_the_people_and_the_image_are_gone(
    alice, bob, make_image
) -> None:
    image = make_image(alice)
    bob.user_permissions.add(view_any_files())
    signed_in(bob).get(reverse("image_thumbnail", args=[image.uuid]))
    uuid = image.uuid
    image.delete()
    alice.delete()
    bob.delete()
    record = FileAccessRecord.objects.get()
    assert (record.viewer, record.owner, record.image) == (None, None, None)
    assert (record.viewer_name, record.owner_name, record.image_uuid) == ("bob", "alice", uuid)


class TestAdmin:
    def test_the_image_list_shows_thumbnails_only_with_the_permission(
        self, alice, root, make_image
    ) -> None:
        image = make_image(alice, prompt="a lighthouse")
        thumbnail = reverse("image_thumbnail", args=[image.uuid])
        client = signed_in(root)
        page = client.get(reverse("admin:gallery_image_changelist")).content.decode()
        assert thumbnail not in page
        assert "Not shown" in page  # a placeholder, not a broken image
        assert "a lighthouse" in page
        root.user_permissions.add(view_any_files())
        page = signed_in(User.objects.get(pk=root.pk)).get(
            reverse("admin:gallery_image_changelist")
        )
        assert thumbnail in page.content.decode()

    def test_an_admins_own_images_show_without_the_permission(
        self, root, alice, make_image
    ) -> None:
        own = make_image(root)
        other = make_image(alice)
        page = signed_in(root).get(reverse("admin:gallery_image_changelist")).content.decode()
        assert reverse("image_thumbnail", args=[own.uuid]) in page
        assert reverse("image_thumbnail", args=[other.uuid]) not in page

    def test_the_records_are_listed_filtered_and_searched(
        self, alice, bob, staff, root, make_image
    ) -> None:
        alices, bobs = make_image(alice), make_image(bob)
        staff.user_permissions.add(view_any_files())
        client = signed_in(staff)
        client.get(reverse("image_thumbnail", args=[alices.uuid]))
        client.get(reverse("image_original", args=[bobs.uuid]))
        url = reverse("admin:gallery_fileaccessrecord_changelist")
        admin = signed_in(root)
        listed = admin.get(url).context["cl"].result_list
        assert {r.owner_name for r in listed} == {"alice", "bob"}
        by_owner = admin.get(url, {"owner_name": "bob"}).context["cl"].result_list
        assert [r.image_uuid for r in by_owner] == [bobs.uuid]
        by_viewer = admin.get(url, {"viewer_name": "nobody"}).context["cl"].result_list
        assert list(by_viewer) == []
        by_uuid = admin.get(url, {"q": str(alices.uuid)}).context["cl"].result_list
        assert [r.owner_name for r in by_uuid] == ["alice"]
        by_name = admin.get(url, {"q": "bob"}).context["cl"].result_list
        assert [r.image_uuid for r in by_name] == [bobs.uuid]
        today = alices.created_at
        dated = {"viewed_at__year": today.year, "viewed_at__month": today.month}
        assert admin.get(url, dated).status_code == 200

    def test_the_records_cannot_be_added_changed_or_deleted_even_by_a_superuser(
        self, alice, bob, root, make_image
    ) -> None:
        image = make_image(alice)
        bob.user_permissions.add(view_any_files())
        signed_in(bob).get(reverse("image_thumbnail", args=[image.uuid]))
        record = FileAccessRecord.objects.get()
        admin = signed_in(root)
        assert admin.get(reverse("admin:gallery_fileaccessrecord_add")).status_code == 403
        change = reverse("admin:gallery_fileaccessrecord_change", args=[record.pk])
        assert admin.get(change).status_code == 200  # shown, read-only
        admin.post(change, {"viewer_name": "someone else"})
        delete = reverse("admin:gallery_fileaccessrecord_delete", args=[record.pk])
        assert admin.post(delete, {"post": "yes"}).status_code == 403
        listing = reverse("admin:gallery_fileaccessrecord_changelist")
        admin.post(listing, {"action": "delete_selected", "_selected_action": [record.pk]})
        record.refresh_from_db()
        assert record.viewer_name == "bob"
