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


def status(client: Client, *tokens: str):
    return client.get(reverse("generation_status"), {"job": list(tokens)}, headers=HTMX)


def test_a_running_card_carries_its_state_and_the_page_polls_once(alice, alice_client) -> None:
    running = [
        job(alice, status=Generation.Status.RUNNING, started_at=timezone.now()) for _ in range(3)
    ]
    page = alice_client.get(reverse("generate")).content.decode()
    # One poller for the page; no card polls by itself.
    assert page.count('hx-trigger="every 1s"') == 1
    assert page.count('id="job-poller"') == 1
    for generation in running:
        assert f'name="job" value="{generation.pk}:running:0:"' in page
    assert "Cancel" in page


def test_the_status_request_answers_only_the_cards_that_changed(alice, alice_client) -> None:
    quiet = job(alice, status=Generation.Status.RUNNING)
    streaming = job(alice, status=Generation.Status.RUNNING)
    streaming.save_preview(png_bytes())
    ended = job(alice, status=Generation.Status.SUCCEEDED, finished_at=timezone.now())

    before = [f"{generation.pk}:running:0:" for generation in (quiet, streaming, ended)]
    response = status(alice_client, *before)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<article") == 2
    assert f'id="generation-{quiet.pk}"' not in body
    assert f'id="generation-{streaming.pk}" hx-swap-oob="outerHTML"' in body
    assert f'value="{streaming.pk}:running:1:"' in body  # its new state, for the next request
    assert f'id="generation-{ended.pk}" hx-swap-oob="outerHTML"' in body
    assert f'value="{ended.pk}:' not in body  # finished: nothing more to ask about
    ended.refresh_from_db()
    assert ended.seen_at is not None  # it ended in front of the person


def test_nothing_changed_is_an_empty_answer(alice, alice_client: Client) -> None:
    generation = job(alice, status=Generation.Status.QUEUED)
    response = status(alice_client, generation.status_token)
    assert (response.status_code, response.content) == (200, b"")


def test_with_no_running_job_to_ask_about_the_polling_stops(alice, alice_client) -> None:
    assert status(alice_client).status_code == 286
    assert status(alice_client, "not-a-job", "x:y:z").status_code == 286


def test_another_persons_job_is_never_answered(alice, bob, alice_client: Client) -> None:
    bobs = job(bob, status=Generation.Status.SUCCEEDED, finished_at=timezone.now())
    response = status(alice_client, f"{bobs.pk}:running:0:")
    assert (response.status_code, response.content) == (200, b"")
    bobs.refresh_from_db()
    assert bobs.seen_at is None


def test_the_status_request_reads_the_database_a_bounded_number_of_times(
    alice, alice_client: Client, django_assert_max_num_queries
) -> None:
    running = [job(alice, status=Generation.Status.RUNNING) for _ in range(64)]
    tokens = [g.status_token for g in running]
    with django_assert_max_num_queries(4):  # session, user, the states; nothing changed
        response = status(alice_client, *tokens)
    assert response.content == b""


def test_the_job_page_is_seen_and_polls_while_running(alice, alice_client: Client) -> None:
    generation = job(alice, status=Generation.Status.SUCCEEDED, finished_at=timezone.now())
    page = alice_client.get(reverse("generation", args=[generation.pk])).content.decode()
    assert "job-poller" not in page
    generation.refresh_from_db()
    assert generation.seen_at is not None
    running = job(alice, status=Generation.Status.RUNNING)
    page = alice_client.get(reverse("generation", args=[running.pk])).content.decode()
    assert page.count('id="job-poller"') == 1


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


def test_cancelling_with_htmx_swaps_the_card_and_it_is_not_new(alice, alice_client) -> None:
    generation = job(alice, status=Generation.Status.RUNNING)
    response = alice_client.post(reverse("generation_cancel", args=[generation.pk]), headers=HTMX)
    card = response.content.decode()
    assert response.status_code == 200
    assert "status-cancelled" in card
    assert 'name="job"' not in card  # nothing more to ask about
    assert "badge new" not in card
    assert "badge new" not in alice_client.get(reverse("generate")).content.decode()


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


def test_a_failed_job_is_tried_again_in_one_click(alice, alice_client: Client) -> None:
    failed = Generation.objects.create(
        owner=alice,
        model_name="gpt-image-2",
        prompt="a kite",
        parameters={"n": 2, "size": "1024x1024", "quality": "low"},
        status=Generation.Status.FAILED,
        error_code="upstream_unavailable",
    )
    card = alice_client.get(reverse("generation", args=[failed.pk])).content.decode()
    assert reverse("generation_retry", args=[failed.pk]) in card

    response = alice_client.post(reverse("generation_retry", args=[failed.pk]))

    again = Generation.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == reverse("generation", args=[again.pk])
    assert (again.model_name, again.prompt, again.endpoint) == (
        "gpt-image-2",
        "a kite",
        "generations",
    )
    assert again.parameters == failed.parameters
    assert again.owner == alice


def test_only_an_ended_unsuccessful_job_of_ones_own_is_tried_again(
    alice, bob, alice_client: Client
) -> None:
    done = job(alice, status=Generation.Status.SUCCEEDED)
    response = alice_client.post(reverse("generation_retry", args=[done.pk]), follow=True)
    assert "Only a job that failed or was cancelled is tried again." in response.content.decode()
    bobs = job(bob, status=Generation.Status.FAILED)
    assert alice_client.post(reverse("generation_retry", args=[bobs.pk])).status_code == 404
    assert alice_client.get(reverse("generation_retry", args=[done.pk])).status_code == 405
    assert Generation.objects.count() == 2  # nothing was queued
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(alice)
    failed = job(alice, status=Generation.Status.FAILED)
    assert csrf.post(reverse("generation_retry", args=[failed.pk])).status_code == 403


def test_a_queued_job_says_how_many_wait_before_it(alice, bob, alice_client: Client) -> None:
    first = job(bob)  # anyone's job counts: the workers serve one queue
    second = job(alice)
    third = job(alice)
    page = alice_client.get(reverse("generate")).content.decode()
    assert "Waiting for a worker: 1 job ahead of it." in page
    assert "Waiting for a worker: 2 jobs ahead of it." in page
    # The queue moves: the first starts, and the waiting cards are drawn again.
    Generation.objects.filter(pk=first.pk).update(status=Generation.Status.RUNNING)
    response = status(alice_client, f"{second.pk}:queued:0:1", f"{third.pk}:queued:0:2")
    body = response.content.decode()
    assert body.count("<article") == 2
    assert "Waiting for a worker: next in line." in body
    assert "Waiting for a worker: 1 job ahead of it." in body
    assert f'value="{second.pk}:queued:0:0"' in body
