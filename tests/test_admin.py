"""Django admin for operators: models, generations, images, collections, share links, users."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from gallery.models import Collection, ShareLink
from imagegen.models import ImageModel


@pytest.fixture
def operator_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org", "x"))
    return client


def test_every_admin_list_renders(operator_client: Client, alice, make_image) -> None:
    image = make_image(alice, prompt="a harbour")
    Collection.objects.create(owner=alice, name="Set").images.add(image)
    ShareLink.objects.create(owner=alice, image=image)
    for name in (
        "imagegen_imagemodel",
        "imagegen_generation",
        "gallery_image",
        "gallery_collection",
        "gallery_sharelink",
        "auth_user",
    ):
        response = operator_client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200, name


def test_image_search_and_thumbnail_column(operator_client: Client, alice, make_image) -> None:
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


def test_an_administrator_adds_a_model_and_it_appears_in_the_form(
    operator_client: Client, alice_client: Client
) -> None:
    response = operator_client.post(
        reverse("admin:imagegen_imagemodel_add"),
        {
            "name": "gpt-image-2.5-flare",
            "label": "GPT Image 2.5 Flare",
            "family": "gpt-image",
            "enabled": "on",
            "position": "5",
            "prompt_max_length": "32000",
            "max_images": "4",
            "sizes": '["auto", "1024x1024"]',
            "default_size": "auto",
            "qualities": '["auto", "xhigh"]',
            "default_quality": "auto",
            "styles": "[]",
            "response_formats": "[]",
            "output_formats": '["png", "webp"]',
            "default_output_format": "png",
            "backgrounds": "[]",
            "moderations": "[]",
            "max_partial_images": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ImageModel.objects.get(name="gpt-image-2.5-flare").profile().max_images == 4
    page = alice_client.get(reverse("generate"), {"model": "gpt-image-2.5-flare"}).content.decode()
    assert "GPT Image 2.5 Flare" in page
    assert '<option value="xhigh">' in page


def test_the_admin_refuses_an_inconsistent_model(operator_client: Client) -> None:
    response = operator_client.post(
        reverse("admin:imagegen_imagemodel_add"),
        {
            "name": "broken",
            "label": "Broken",
            "family": "gpt-image",
            "position": "5",
            "prompt_max_length": "100",
            "max_images": "1",
            "sizes": '["1024x1024"]',
            "default_size": "512x512",
            "qualities": "[]",
            "styles": "[]",
            "response_formats": "[]",
            "output_formats": "[]",
            "backgrounds": "[]",
            "moderations": "[]",
            "max_partial_images": "0",
        },
    )
    assert response.status_code == 200
    assert "The default must be one of 1024x1024" in response.content.decode()
    assert not ImageModel.objects.filter(name="broken").exists()
