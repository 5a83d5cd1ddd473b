"""The create page's feed: every job, a page at a time, filtered, with each result's actions."""

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gallery.ingest import ingest_image
from gallery.models import Collection, Comparison, Image
from imagegen.feed import JOBS_PER_PAGE
from imagegen.models import Generation
from tests.conftest import png_bytes

URL = reverse("generate")
HTMX = {"HX-Request": "true"}


def jobs(owner: User, count: int, **fields) -> list[Generation]:
    made = []
    for number in range(count):
        values = {
            "model_name": "qwen-image",
            "prompt": f"job number {number}",
            "parameters": {"n": 1, "size": "1328x1328"},
            "status": Generation.Status.SUCCEEDED,
        } | fields
        made.append(Generation.objects.create(owner=owner, **values))
    return made


def cards(page: str) -> list[str]:
    """The job ids of the cards on a page, in order."""
    return re.findall(r'<article class="generation-card[^"]*" id="generation-([0-9a-f-]+)"', page)


def test_the_feed_holds_every_job_a_page_at_a_time_newest_first(alice_client, alice) -> None:
    made = jobs(alice, JOBS_PER_PAGE + 3)
    page = alice_client.get(URL).content.decode()
    newest_first = [str(job.pk) for job in reversed(made)]
    assert cards(page) == newest_first[:JOBS_PER_PAGE]
    # A real link to the next page, which scrolling fetches as one page of cards.
    assert 'href="/generate/?page=2#feed"' in page
    assert 'hx-trigger="revealed"' in page
    more = alice_client.get(URL, {"page": 2}, headers=HTMX | {"HX-Target": "feed-more"})
    more_page = more.content.decode()
    assert cards(more_page) == newest_first[JOBS_PER_PAGE:]
    assert "<html" not in more_page and 'id="feed-more"' not in more_page  # the last page
    # Without JavaScript the link opens the whole page at page 2, with a way back.
    page_two = alice_client.get(URL, {"page": 2}).content.decode()
    assert cards(page_two) == newest_first[JOBS_PER_PAGE:]
    assert 'href="/generate/?page=1#feed"' in page_two


def test_filters_narrow_the_feed_by_status_and_model(alice_client, alice) -> None:
    done = jobs(alice, 2)
    failed = jobs(alice, 1, status=Generation.Status.FAILED, error_message="refused")
    queued = jobs(alice, 1, status=Generation.Status.QUEUED)
    gpt = jobs(alice, 1, model_name="gpt-image-2")
    shown = cards(alice_client.get(URL, {"status": "failed"}).content.decode())
    assert shown == [str(failed[0].pk)]
    shown = cards(alice_client.get(URL, {"status": "active"}).content.decode())
    assert shown == [str(queued[0].pk)]
    shown = cards(alice_client.get(URL, {"model_filter": "gpt-image-2"}).content.decode())
    assert shown == [str(gpt[0].pk)]
    both = {"status": "succeeded", "model_filter": "qwen-image"}
    assert set(cards(alice_client.get(URL, both).content.decode())) == {str(j.pk) for j in done}
    # An unknown filter value shows everything rather than nothing.
    assert len(cards(alice_client.get(URL, {"status": "nonsense"}).content.decode())) == 5
    # htmx asks for the feed alone when a filter changes; the filter stays in the page links.
    jobs(alice, JOBS_PER_PAGE, status=Generation.Status.FAILED)
    feed = alice_client.get(URL, {"status": "failed"}, headers=HTMX | {"HX-Target": "feed"})
    feed_page = feed.content.decode()
    assert feed_page.lstrip().startswith('<section id="feed"')
    assert "?status=failed&amp;page=2" in feed_page
    empty = alice_client.get(URL, {"status": "cancelled"}).content.decode()
    assert "No job matches these filters." in empty


def test_the_feed_shows_only_the_persons_own_jobs(alice_client, alice, bob) -> None:
    mine = jobs(alice, 1)
    theirs = jobs(bob, 2, model_name="seedream-4-0-250828")
    page = alice_client.get(URL).content.decode()
    assert cards(page) == [str(mine[0].pk)]
    assert str(theirs[0].pk) not in page
    assert "seedream-4-0-250828" not in page  # not even in the model filter
    filtered = alice_client.get(URL, {"model_filter": "seedream-4-0-250828"}).content.decode()
    assert cards(filtered) == [str(mine[0].pk)]  # a model of someone else's is no filter


def test_each_result_offers_every_next_step(alice_client, alice, make_image) -> None:
    image = make_image(alice, model_name="qwen-image")
    collection = Collection.objects.create(owner=alice, name="Harbours")
    page = alice_client.get(URL).content.decode()
    result = page[page.index(f'id="result-{image.uuid}"') :]
    result = result[: result.index("</figure>")]
    assert f'href="/images/{image.uuid}/"' in result  # open
    assert f"?remix={image.generation_id}" in result  # remix
    assert f'action="/images/{image.uuid}/vary/"' in result
    assert f'href="/images/{image.uuid}/edit/"' in result
    assert f'href="/generate/?reference={image.uuid}"' in result
    assert f'href="/images/{image.uuid}/original?download=1" download' in result
    assert f'action="/images/{image.uuid}/favourite/"' in result
    assert f'<option value="{collection.uuid}">Harbours</option>' in result
    assert f'hx-post="/images/{image.uuid}/delete/"' in result


def test_a_job_in_progress_keeps_the_shape_its_images_will_have(alice_client, alice) -> None:
    jobs(alice, 1, status=Generation.Status.RUNNING, parameters={"n": 2, "size": "1536x1024"})
    page = alice_client.get(URL).content.decode()
    assert page.count('viewBox="0 0 1536 1024"') == 2
    jobs(alice, 1, status=Generation.Status.QUEUED, parameters={"n": 1, "size": "auto"})
    assert 'viewBox="0 0 1024 1024"' in alice_client.get(URL).content.decode()


def test_a_submit_through_htmx_puts_the_new_job_at_the_top_of_the_feed(alice_client) -> None:
    response = alice_client.post(
        URL, {"model": "qwen-image", "prompt": "a paper crane", "size": "1328x1328"}, headers=HTMX
    )
    page = response.content.decode()
    generation = Generation.objects.get()
    top = page[page.index('hx-swap-oob="afterbegin:#feed-items"') :]
    assert f'id="generation-{generation.pk}"' in top
    assert "data-just-made" in top
    # The poller is drawn again: it stops when a page has nothing running.
    assert 'id="job-poller"' in page and 'hx-swap-oob="outerHTML"' in page
    # The form comes back with what was typed, ready for the next one.
    assert "a paper crane" in page[: page.index("afterbegin")]


def test_vary_from_the_feed_adds_the_new_job_to_it(alice_client) -> None:
    alice_client.post(URL, {"model": "qwen-image", "prompt": "a paper crane", "size": "1328x1328"})
    image = Image.objects.get()
    url = reverse("image_vary", args=[image.uuid])
    response = alice_client.post(url, {"from_feed": "1"}, headers=HTMX)
    variation = Generation.objects.exclude(pk=image.generation_id).get()
    page = response.content.decode()
    assert 'hx-swap-oob="afterbegin:#feed-items"' in page
    assert f'id="generation-{variation.pk}"' in page
    # Without JavaScript it opens the new job's page, as before.
    response = alice_client.post(url)
    assert response.status_code == 302 and response["Location"].startswith("/generations/")


def test_vary_refused_through_htmx_sends_the_person_to_the_image(alice_client, alice) -> None:
    generation = jobs(alice, 1, model_name="no-longer-offered")[0]
    image = ingest_image(generation, 0, png_bytes())
    response = alice_client.post(
        reverse("image_vary", args=[image.uuid]), {"from_feed": "1"}, headers=HTMX
    )
    assert response["HX-Redirect"] == image.get_absolute_url()
    assert Generation.objects.count() == 1


def test_delete_from_the_feed_removes_the_result_and_keeps_the_page(
    alice_client, alice, bob_client, make_image
) -> None:
    image = make_image(alice)
    url = reverse("image_delete", args=[image.uuid])
    assert bob_client.post(url, headers=HTMX).status_code == 404  # not someone else's
    response = alice_client.post(url, headers=HTMX)
    # In place of the result: a notice that it went to the Trash, with "Undo".
    notice = response.content.decode()
    assert response.status_code == 200 and f'id="result-{image.uuid}"' in notice
    assert "Moved to the Trash." in notice and reverse("trash_undo") in notice
    assert not Image.objects.for_user(alice).exists()
    assert list(Image.objects.in_trash_of(alice)) == [image]
    # Without JavaScript: the confirm page, then back where the person came from (if ours).
    other = make_image(alice)
    url = reverse("image_delete", args=[other.uuid])
    response = alice_client.post(url, {"next": "/generate/#feed"})
    assert response["Location"] == "/generate/#feed"
    third = make_image(alice)
    response = alice_client.post(
        reverse("image_delete", args=[third.uuid]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("image_list")


@pytest.mark.parametrize("status", ["succeeded", "failed"])
def test_jobs_that_ended_unseen_are_new_once(alice_client, alice, status) -> None:
    job = jobs(alice, 1, status=status)[0]
    assert 'class="badge new"' in alice_client.get(URL).content.decode()
    job.refresh_from_db()
    assert job.seen_at is not None
    assert 'class="badge new"' not in alice_client.get(URL).content.decode()


def test_a_job_of_a_comparison_links_to_it(alice_client, alice) -> None:
    alice_client.post(
        URL,
        {
            "model": "qwen-image",
            "prompt": "a paper crane",
            "size": "1328x1328",
            "compare_with": ["doubao-seedream-5-0-260128"],
        },
    )
    comparison = Comparison.objects.get()
    page = alice_client.get(URL).content.decode()
    assert page.count(f'class="in-comparison" href="{comparison.get_absolute_url()}"') == 2


def test_the_feed_costs_the_same_queries_however_many_jobs(alice_client, alice) -> None:
    jobs(alice, 2)
    with CaptureQueriesContext(connection) as few:
        alice_client.get(URL)
    for _round in range(3):
        alice_client.post(
            URL,
            {
                "model": "qwen-image",
                "prompt": "a paper crane",
                "size": "1328x1328",
                "compare_with": ["doubao-seedream-5-0-260128"],
            },
        )
    jobs(alice, 4, status=Generation.Status.FAILED)
    with CaptureQueriesContext(connection) as many:
        alice_client.get(URL)
    assert len(many.captured_queries) <= len(few.captured_queries) + 1, [
        q["sql"] for q in many.captured_queries
    ]


def test_the_page_polls_only_while_a_job_on_it_runs(alice_client, alice) -> None:
    jobs(alice, 2)
    page = alice_client.get(URL).content.decode()
    assert '<div id="job-poller"></div>' in page  # nothing to ask about: no request at all
    jobs(alice, 1, status=Generation.Status.RUNNING)
    page = alice_client.get(URL).content.decode()
    assert 'id="job-poller" hx-get="/generations/status/" hx-trigger="every 1s"' in page
    # A page of older jobs fetched by scrolling brings a poller if one of its jobs runs.
    jobs(alice, JOBS_PER_PAGE)
    more = alice_client.get(URL, {"page": 2}, headers=HTMX | {"HX-Target": "feed-more"})
    assert 'hx-swap-oob="outerHTML"' in more.content.decode()
