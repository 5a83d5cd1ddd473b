"""Django admin for operators: generations, images, collections, share links, users.

The image model admin (schemas, import and export, the live model list) is tested in
tests/test_model_admin.py.
"""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from gallery.models import Collection, Image, ShareLink
from imagegen.models import UpstreamModel


@pytest.fixture
def operator_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org", "x"))
    return client


def test_every_admin_list_renders(operator_client: Client, alice, make_image) -> None:
    image = make_image(alice, prompt="a harbour")
    Collection.objects.create(owner=alice, name="Set").images.add(image)
    ShareLink.objects.create(owner=alice, image=image)
    UpstreamModel.objects.create(name="flux-2-pro", offered=True, model_type="image")
    for name in (
        "imagegen_imagemodel",
        "imagegen_upstreammodel",
        "imagegen_generation",
        "gallery_image",
        "gallery_collection",
        "gallery_sharelink",
        "auth_user",
    ):
        response = operator_client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200, name


def test_image_search_and_thumbnail_column(operator_client: Client, alice, make_image) -> None:
    # A superuser sees other people's thumbnails only once granted the permission to.
    root = User.objects.get(username="root")
    root.user_permissions.add(Permission.objects.get(codename="view_any_files"))
    image = make_image(alice, prompt="a lighthouse")
    make_image(alice, prompt="a meadow")
    page = operator_client.get(reverse("admin:gallery_image_changelist"), {"q": "lighthouse"})
    text = page.content.decode()
    assert reverse("image_thumbnail", args=[image.uuid]) in text
    assert "a meadow" not in text


def test_share_links_can_be_revoked_in_bulk(operator_client: Client, alice, make_image) -> None:
    image = make_image(alice)
    links = [ShareLink.objects.create(owner=alice, image=image) for _ in range(2)]
    operator_client.post(
        reverse("admin:gallery_sharelink_changelist"),
        {"action": "revoke", "_selected_action": [link.pk for link in links]},
    )
    assert not ShareLink.objects.active().exists()


def test_a_users_images_are_one_click_away(operator_client: Client, alice, make_image) -> None:
    make_image(alice)
    page = operator_client.get(reverse("admin:auth_user_change", args=[alice.pk])).content
    assert f"?owner__id__exact={alice.pk}".encode() in page
    assert b"1 image" in page


def test_operators_can_list_the_images_in_the_trash(
    operator_client: Client, alice, make_image
) -> None:
    make_image(alice, prompt="kept harbour")
    trashed = make_image(alice, prompt="gone pier")
    Image.objects.filter(pk=trashed.pk).move_to_trash()
    url = reverse("admin:gallery_image_changelist")
    page = operator_client.get(url, {"trashed_at__isempty": "0"}).content.decode()
    assert "gone pier" in page and "kept harbour" not in page
    page = operator_client.get(url, {"trashed_at__isempty": "1"}).content.decode()
    assert "kept harbour" in page and "gone pier" not in page
