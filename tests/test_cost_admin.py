"""Admin for what things cost: a model's price (an administrator's is never replaced by a sync;
"follow the catalogue again"), the import of a price, budgets and limits (the site default and
each person's), and the cost column of jobs."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from imagegen.catalogue.sync import sync_models
from imagegen.models import Allowance, Generation, ImageModel
from tests.test_model_admin import CHANGELIST, IMPORT, edit

ALLOWANCES = reverse("admin:imagegen_allowance_changelist")


@pytest.fixture
def root_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org", "x"))
    return client


def test_an_administrators_price_is_kept_through_every_sync(root_client: Client) -> None:
    response = edit(root_client, "qwen-image", price={"currency": "USD", "per_image": "0.5"})
    assert response.status_code == 302, response.content.decode()[:2000]
    qwen = ImageModel.objects.get(name="qwen-image")
    assert (qwen.price, qwen.price_source) == (
        {"currency": "USD", "per_image": "0.5"}, ImageModel.PriceSource.ADMIN,
    )  # fmt: skip
    sync_models()
    qwen.refresh_from_db()
    assert qwen.price["per_image"] == "0.5"
    # Handed back: the next sync sets the catalogue's.
    root_client.post(CHANGELIST, {"action": "price_from_catalogue", "_selected_action": [qwen.pk]})
    sync_models()
    qwen.refresh_from_db()
    assert (qwen.price["per_image"], qwen.price_source) == ("0.02", "catalogue")


def test_saving_other_fields_leaves_the_price_where_it_came_from(root_client: Client) -> None:
    assert edit(root_client, "qwen-image", label="Qwen").status_code == 302
    assert ImageModel.objects.get(name="qwen-image").price_source == "shipped"


def test_a_bad_price_is_refused_with_where(root_client: Client) -> None:
    response = edit(root_client, "qwen-image", price={"currency": "USD", "per_image": "-2"})
    assert response.status_code == 200
    assert "per_image: an amount such as" in response.content.decode()
    assert ImageModel.objects.get(name="qwen-image").price["per_image"] == "0.02"


def test_the_changelist_shows_each_models_price_and_source(root_client: Client) -> None:
    page = root_client.get(CHANGELIST).content.decode()
    assert "$0.02 per image (Shipped with the studio)" in page
    assert "per million tokens" in page


def test_an_imported_price_is_the_administrators(root_client: Client) -> None:
    qwen = ImageModel.objects.get(name="qwen-image").export()
    qwen["price"] = {"currency": "USD", "per_image": "0.03"}
    upload = SimpleUploadedFile(
        "models.json", json.dumps({"models": [qwen]}).encode(), "application/json"
    )
    assert root_client.post(IMPORT, {"file": upload}).status_code == 302
    assert ImageModel.objects.get(name="qwen-image").price_source == "admin"


def test_the_site_default_is_always_there_and_cannot_be_deleted(root_client: Client) -> None:
    assert root_client.get(ALLOWANCES).status_code == 200
    default = Allowance.objects.get(site_default=True)
    url = reverse("admin:imagegen_allowance_change", args=[default.pk])
    response = root_client.post(
        url, {"monthly_spend_cap": "25", "daily_image_cap": "", "jobs_per_minute": "6",
              "site_key_allowed": "false"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    default.refresh_from_db()
    assert (default.monthly_spend_cap, default.jobs_per_minute, default.site_key_allowed) == (
        Decimal("25"), 6, False,
    )  # fmt: skip
    delete = reverse("admin:imagegen_allowance_delete", args=[default.pk])
    assert root_client.post(delete, {"post": "yes"}).status_code == 403
    assert Allowance.objects.filter(site_default=True).exists()


def test_a_persons_limits_need_the_person(root_client: Client, alice: User) -> None:
    add = reverse("admin:imagegen_allowance_add")
    response = root_client.post(add, {"daily_image_cap": "5", "site_key_allowed": "unknown"})
    assert "Choose the person these limits are for." in response.content.decode()
    response = root_client.post(
        add, {"user": alice.pk, "daily_image_cap": "5", "site_key_allowed": "unknown"}
    )
    assert response.status_code == 302
    assert Allowance.objects.limits_for(alice).daily_image_cap == 5


def test_jobs_list_their_cost(root_client: Client, alice: User) -> None:
    Generation.objects.create(
        owner=alice, model_name="qwen-image", prompt="x", parameters={"n": 1},
        status="succeeded", cost=Decimal("0.02"), cost_currency="USD", cost_basis="price",
    )  # fmt: skip
    page = root_client.get(reverse("admin:imagegen_generation_changelist")).content.decode()
    assert "$0.02" in page


@pytest.mark.parametrize("url", [ALLOWANCES, reverse("admin:imagegen_allowance_add")])
def test_people_who_are_not_staff_cannot_set_limits(alice_client: Client, url: str) -> None:
    assert alice_client.get(url).status_code == 302  # to admin's sign-in
