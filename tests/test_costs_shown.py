"""The ledger, shown (issue 13): each job card's cost line in every state, the image page's cost
(its share and the job's total, with how it is known), the comparison's costs and total, the
cost in the embedded metadata and the zip's JSON (never in a share link's), and the admin."""

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage

from gallery.embedding import read_metadata
from gallery.ingest import ingest_image
from gallery.models import Comparison, Image, ShareLink
from imagegen.models import Generation
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db

Basis = Generation.CostBasis


def job(owner: User, status: str = "succeeded", n: int = 1, **fields) -> Generation:
    return Generation.objects.create(
        owner=owner,
        model_name="gpt-image-2",
        prompt="a lighthouse at dusk",
        parameters={"n": n, "size": "1024x1024"},
        status=status,
        **fields,
    )


def billed(owner: User, cost: str, basis: str = Basis.USAGE, images: int = 1) -> list[Image]:
    """A finished job the upstream billed, with its images kept and priced as the worker does."""
    made = job(owner, n=images)
    made.record_cost(Decimal(cost), "USD", basis, images)
    kept = [ingest_image(made, index, png_bytes()) for index in range(images)]
    share = Decimal(cost) / images
    Image.objects.filter(generation=made).update(cost=share, cost_currency="USD")
    return [Image.objects.get(pk=image.pk) for image in kept]


def card(client: Client, made: Generation) -> str:
    response = client.get(reverse("generation", args=[made.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_waiting_or_running_job_shows_its_estimate_as_about(alice, alice_client) -> None:
    queued = job(alice, "queued", estimated_cost=Decimal("0.19"), cost_currency="USD")
    assert "Cost: about $0.19" in card(alice_client, queued)
    running = job(alice, "running", estimated_cost=Decimal("0.04"), cost_currency="USD")
    assert "Cost: about $0.04" in card(alice_client, running)


def test_a_job_of_unknown_price_says_so_rather_than_guess(alice, alice_client) -> None:
    assert "Cost unknown" in card(alice_client, job(alice, "queued"))
    unknown = job(alice)
    unknown.record_cost(None, "", Basis.UNKNOWN, 1)
    page = card(alice_client, unknown)
    assert "Cost unknown" in page and "$" not in page.split("job-cost")[1][:80]


def test_a_finished_job_shows_its_actual_cost_and_how_it_is_known(alice, alice_client) -> None:
    tokens = billed(alice, "0.042")[0].generation
    assert "Cost: $0.042, from the tokens counted" in card(alice_client, tokens)
    priced = billed(alice, "0.04", Basis.PRICE)[0].generation
    page = card(alice_client, priced)
    assert "Cost: $0.04, at the model&#x27;s price" in page
    assert "about" not in page.split("job-cost")[1][:80]


def test_a_failed_job_is_not_billed_unless_the_upstream_billed(alice, alice_client) -> None:
    refused = job(alice, "failed", error_message="Refused by the safety system.")
    refused.record_cost(Decimal(0), "", Basis.NOT_BILLED, 0)
    assert "Not billed" in card(alice_client, refused)
    lost = job(alice, "failed", error_message="The image could not be saved.")
    lost.record_cost(Decimal("0.04"), "USD", Basis.PRICE, 1)
    assert "Billed $0.04, though no image was saved" in card(alice_client, lost)
    never_sent = job(alice, "cancelled")
    assert "Not billed" in card(alice_client, never_sent)
    drawn = job(alice, "cancelled", started_at=timezone.now())  # no answer recorded
    assert "Cost unknown" in card(alice_client, drawn)


def test_the_feed_and_the_status_poller_draw_the_cost_line(alice, alice_client) -> None:
    running = job(alice, "running", estimated_cost=Decimal("0.19"), cost_currency="USD")
    assert "Cost: about $0.19" in alice_client.get(reverse("generate")).content.decode()
    token = running.status_token.replace("running", "queued")
    response = alice_client.get(
        reverse("generation_status"), {"job": token}, HTTP_HX_REQUEST="true"
    )
    assert "Cost: about $0.19" in response.content.decode()


def test_the_image_page_shows_its_share_and_the_jobs_total(alice, alice_client) -> None:
    first, _second = billed(alice, "0.08", Basis.USAGE, images=2)
    page = alice_client.get(first.get_absolute_url()).content.decode()
    assert "$0.04, its share of $0.08 for 2 images, from the tokens counted" in page
    alone = billed(alice, "0.04", Basis.PRICE)[0]
    page = alice_client.get(alone.get_absolute_url()).content.decode()
    assert "$0.04, at the model&#x27;s price" in page and "its share" not in page


def test_the_image_page_of_an_unpriced_image_says_the_cost_is_unknown(
    alice, alice_client, make_image
) -> None:
    image = make_image(alice)
    assert "Cost unknown" in alice_client.get(image.get_absolute_url()).content.decode()


def test_the_comparison_shows_each_models_cost_and_the_total(alice, alice_client) -> None:
    one, two = billed(alice, "0.04", Basis.PRICE)[0], billed(alice, "0.02")[0]
    comparison = Comparison.objects.start_for_images(alice, [one, two])
    page = alice_client.get(comparison.get_absolute_url()).content.decode()
    assert "$0.04, at the model&#x27;s price" in page
    assert "$0.02, from the tokens counted" in page
    assert "Cost of this comparison: $0.06" in page


def test_a_running_comparison_totals_its_estimates_as_about(alice, alice_client) -> None:
    jobs = [
        job(alice, "running", estimated_cost=Decimal(cost), cost_currency="USD")
        for cost in ("0.04", "0.17")
    ]
    comparison = Comparison.objects.start_for_jobs(alice, jobs)
    page = alice_client.get(comparison.get_absolute_url()).content.decode()
    assert "Cost of this comparison: about $0.21" in page


def test_a_shared_comparison_shows_no_cost(client, alice) -> None:
    one, two = billed(alice, "0.04")[0], billed(alice, "0.02")[0]
    comparison = Comparison.objects.start_for_images(alice, [one, two])
    link = ShareLink.objects.create(owner=alice, comparison=comparison)
    page = client.get(reverse("shared_page", args=[link.token])).content.decode()
    assert "$0.0" not in page and "Cost" not in page


def test_the_embedded_metadata_carries_the_cost_its_currency_and_basis(alice) -> None:
    made = job(alice, n=2)
    made.record_cost(Decimal("0.084"), "USD", Basis.USAGE, 2)
    image = ingest_image(made, 0, png_bytes())
    with image.file.open("rb") as file:
        stored = file.read()
    assert read_metadata(stored)["cost"] == {
        "amount": "0.042000",
        "currency": "USD",
        "basis": "usage",
        "job_amount": "0.084000",
        "job_images": 2,
    }
    with PILImage.open(io.BytesIO(stored)) as im:
        assert im.text["parameters"].endswith(", Cost: 0.042000 USD, Cost basis: usage")


def test_an_image_of_unknown_price_embeds_no_cost(alice) -> None:
    made = job(alice)
    made.record_cost(None, "", Basis.UNKNOWN, 1)
    with ingest_image(made, 0, png_bytes()).file.open("rb") as file:
        stored = file.read()
    assert "cost" not in read_metadata(stored)
    with PILImage.open(io.BytesIO(stored)) as im:
        assert "Cost" not in im.text["parameters"]


def test_the_owners_zip_json_has_the_cost_and_a_share_links_has_not(
    alice, alice_client, client
) -> None:
    image = billed(alice, "0.04", Basis.PRICE)[0]
    response = alice_client.post(reverse("image_bulk"), {"action": "zip", "images": [image.uuid]})
    zipped = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    document = json.loads(zipped.read(next(n for n in zipped.namelist() if n.endswith(".json"))))
    assert document["cost"] == {"amount": "0.040000", "currency": "USD", "basis": "price"}

    collection = alice.collections.create(name="Harbours")
    collection.images.add(image)
    link = ShareLink.objects.create(owner=alice, collection=collection)
    response = client.get(reverse("shared_archive", args=[link.token]))
    zipped = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    document = json.loads(zipped.read(next(n for n in zipped.namelist() if n.endswith(".json"))))
    assert "cost" not in document and "favourite" not in document


def test_the_image_admin_lists_and_filters_by_cost(admin_client, alice) -> None:
    dear = billed(alice, "0.25", Basis.PRICE)[0]
    cheap = billed(alice, "0.004")[0]
    url = reverse("admin:gallery_image_changelist")
    page = admin_client.get(url).content.decode()
    assert "$0.25" in page and "$0.004" in page
    listed = admin_client.get(url, {"cost_band": "more"}).context["cl"].result_list
    assert list(listed) == [dear]
    listed = admin_client.get(url, {"cost_band": "cent"}).context["cl"].result_list
    assert list(listed) == [cheap]
