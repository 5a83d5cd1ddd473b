"""A job's card: polling until it ends, cancel, streamed previews, and "new" results."""

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imagegen.models import Generation
from tests.conftest import png_bytes

HTMX = {"HX-Request": "true"}


def job(owner, **fields) -> Generation:
    return Generation.objects.create(
        owner=owner,
        model_name="dall-e-2",
        prompt="a kite",
        parameters={"n": 1, "size": "256x256", "response_format": "url"},
        **fields,
    )


def test_an_unfinished_job_card_keeps_polling(alice, alice_client: Client) -> None:
    generation = job(alice, status=Generation.Status.RUNNING, started_at=timezone.now())
    response = alice_client.get(reverse("generation", args=[generation.pk]), headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith('<article class="generation-card status-running"')
    assert 'hx-trigger="every 1s"' in page
    assert "Cancel" in page


def test_a_finished_job_stops_the_polling_and_is_seen(alice, alice_client: Client) -> None:
    generation = job(alice, status=Generation.Status.SUCCEEDED, finished_at=timezone.now())
    response = alice_client.get(reverse("generation", args=[generation.pk]), headers=HTMX)
    assert response.status_code == 286
    assert "every 1s" not in response.content.decode()
    generation.refresh_from_db()
    assert generation.seen_at is not None


def test_a_job_that_ended_elsewhere_is_shown_as_new_once(alice, alice_client: Client) -> None:
    job(alice, status=Generation.Status.SUCCEEDED, finished_at=timezone.now())
    assert "badge new" in alice_client.get(reverse("generate")).content.decode()
    assert "badge new" not in alice_client.get(reverse("generate")).content.decode()


def test_cancelling_a_queued_job(alice, alice_client: Client) -> None:
    generation = job(alice)
    response = alice_client.post(reverse("generation_cancel", args=[generation.pk]))
    assert response["Location"] == reverse("generation", args=[generation.pk])
    generation.refresh_from_db()
    assert generation.status == Generation.Status.CANCELLED
    assert not generation.claim("worker")  # a worker that picks it up later does nothing


def test_cancelling_with_htmx_swaps_the_card_and_stops_polling(alice, alice_client) -> None:
    generation = job(alice, status=Generation.Status.RUNNING)
    response = alice_client.post(reverse("generation_cancel", args=[generation.pk]), headers=HTMX)
    assert response.status_code == 286
    assert "status-cancelled" in response.content.decode()


def test_a_finished_job_cannot_be_cancelled(alice, alice_client: Client) -> None:
    generation = job(alice, status=Generation.Status.SUCCEEDED)
    alice_client.post(reverse("generation_cancel", args=[generation.pk]))
    generation.refresh_from_db()
    assert generation.status == Generation.Status.SUCCEEDED


def test_the_newest_preview_is_served_to_the_owner(alice, alice_client: Client) -> None:
    generation = job(alice, status=Generation.Status.RUNNING)
    url = reverse("generation_preview", args=[generation.pk])
    assert alice_client.get(url).status_code == 404
    generation.save_preview(png_bytes())
    response = alice_client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    card = alice_client.get(reverse("generation", args=[generation.pk]), headers=HTMX)
    assert f"{url}?n=1" in card.content.decode()


def test_job_urls_are_private_to_their_owner(alice, bob_client: Client) -> None:
    generation = job(alice, status=Generation.Status.RUNNING)
    generation.save_preview(png_bytes())
    for name, method in (
        ("generation", "get"),
        ("generation_preview", "get"),
        ("generation_cancel", "post"),
    ):
        response = getattr(bob_client, method)(reverse(name, args=[generation.pk]), headers=HTMX)
        assert response.status_code == 404, name
    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING


def test_cancel_needs_post(alice, alice_client: Client) -> None:
    generation = job(alice)
    assert alice_client.get(reverse("generation_cancel", args=[generation.pk])).status_code == 405
