"""The token each form that makes jobs carries: the same form sent twice (its first answer lost)
makes, and bills, one job and answers with it; a form drawn again after an answer carries a new
token, so that asking again on purpose makes another. Generate, comparisons, edits, Vary and Try
again; tokens of another person, missing or malformed ones."""

import re
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from gallery.models import Comparison, Image
from imagegen.models import Generation
from tests.test_edit_jobs import mask_upload, striped

URL = reverse("generate")
HTMX = {"HX-Request": "true"}
TOKEN = re.compile(r'<input type="hidden" name="submit_token" value="([0-9a-f-]{36})"([^>]*)>')


def gpt(**values: Any) -> dict[str, Any]:
    return {
        "model": "gpt-image-2",
        "prompt": "a lighthouse at dusk",
        "size": "1024x1024",
        "n": 2,
        "quality": "low",
        "output_format": "png",
        "background": "auto",
        "moderation": "auto",
        **values,
    }


def tokens_in(page: str) -> list[str]:
    return [match.group(1) for match in TOKEN.finditer(page)]


def token_of(response: Any) -> str:
    [token] = tokens_in(response.content.decode())
    return token


def billed(owner: User) -> list[Any]:
    return sorted(
        str(cost) for cost in Generation.objects.filter(owner=owner).values_list("cost", flat=True)
    )


# --- the generate form ----------------------------------------------------------------------


def test_each_drawing_of_the_generate_form_carries_a_new_token(alice_client: Client) -> None:
    first, second = token_of(alice_client.get(URL)), token_of(alice_client.get(URL))
    assert first != second
    assert uuid.UUID(first).version == 4


def test_the_same_form_sent_twice_makes_one_job_and_answers_with_it(
    alice: User, alice_client: Client
) -> None:
    token = token_of(alice_client.get(URL))

    first = alice_client.post(URL, gpt(submit_token=token))
    again = alice_client.post(URL, gpt(submit_token=token))

    job = Generation.objects.get()
    assert job.submit_token == uuid.UUID(token)
    assert job.status == Generation.Status.SUCCEEDED
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == reverse("generation", args=[job.pk])
    assert Image.objects.filter(generation=job).count() == 2
    assert Image.objects.count() == 2
    assert job.cost is not None and billed(alice) == [str(job.cost)]


def test_through_htmx_the_form_sent_again_shows_the_same_card_and_a_new_token(
    alice_client: Client,
) -> None:
    token = token_of(alice_client.get(URL))

    first = alice_client.post(URL, gpt(submit_token=token), headers=HTMX).content.decode()
    again = alice_client.post(URL, gpt(submit_token=token), headers=HTMX).content.decode()

    job = Generation.objects.get()
    for answer in (first, again):
        assert f'id="generation-{job.pk}"' in answer  # the card for the top of the feed
        renewed = tokens_in(answer)[0]  # the form drawn again, ready for the next job
        assert renewed != token
    assert tokens_in(first)[0] != tokens_in(again)[0]


def test_sending_the_renewed_form_on_purpose_makes_a_second_job(alice_client: Client) -> None:
    token = token_of(alice_client.get(URL))
    answer = alice_client.post(URL, gpt(submit_token=token), headers=HTMX)

    alice_client.post(URL, gpt(submit_token=tokens_in(answer.content.decode())[0]), headers=HTMX)

    assert Generation.objects.count() == 2
    assert len(set(Generation.objects.values_list("submit_token", flat=True))) == 2


@pytest.mark.parametrize("sent", [None, "", "not-a-token", "1234", "{" + "0" * 40 + "}"])
def test_a_form_without_a_usable_token_still_works_without_the_protection(
    alice_client: Client, sent: str | None
) -> None:
    data = gpt() if sent is None else gpt(submit_token=sent)

    answers = [alice_client.post(URL, data) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [302, 302]
    assert Generation.objects.count() == 2
    assert set(Generation.objects.values_list("submit_token", flat=True)) == {None}


def test_another_persons_token_never_matches(
    alice: User, bob: User, alice_client: Client, bob_client: Client
) -> None:
    token = token_of(alice_client.get(URL))
    alice_client.post(URL, gpt(submit_token=token))
    alices = Generation.objects.get(owner=alice)

    answer = bob_client.post(URL, gpt(submit_token=token, prompt="bob's own"))

    bobs = Generation.objects.get(owner=bob)
    assert bobs.pk != alices.pk and bobs.prompt == "bob's own"
    assert answer["Location"] == reverse("generation", args=[bobs.pk])
    assert Generation.objects.filter(submit_token=token).count() == 2  # one each


def test_a_refused_submit_keeps_its_token_for_the_next_send(
    alice: User, alice_client: Client
) -> None:
    from imagegen.models import Allowance

    allowance = Allowance.objects.create(user=alice, daily_image_cap=1)
    token = str(uuid.uuid4())
    refused = alice_client.post(URL, gpt(submit_token=token))  # two images, one allowed
    assert refused.status_code == 200 and not Generation.objects.exists()
    allowance.daily_image_cap = 10
    allowance.save()

    assert alice_client.post(URL, gpt(submit_token=token)).status_code == 302
    assert Generation.objects.get().submit_token == uuid.UUID(token)


# --- comparisons ----------------------------------------------------------------------------


def test_a_comparison_sent_twice_is_one_comparison_of_jobs_carrying_its_token(
    alice: User, alice_client: Client
) -> None:
    token = str(uuid.uuid4())
    data = gpt(compare_with=["qwen-image", "gpt-image-2.5-flare"], submit_token=token)

    first = alice_client.post(URL, data)
    again = alice_client.post(URL, data, headers=HTMX)

    comparison = Comparison.objects.get()
    assert first["Location"] == again["HX-Redirect"] == comparison.get_absolute_url()
    jobs = Generation.objects.all()
    assert len(jobs) == 3
    assert {job.submit_token for job in jobs} == {uuid.UUID(token)}
    assert set(comparison.entries.values_list("generation", flat=True)) == {j.pk for j in jobs}


def test_a_comparison_deleted_since_comes_back_without_new_jobs(alice_client: Client) -> None:
    data = gpt(compare_with=["qwen-image"], submit_token=str(uuid.uuid4()))
    alice_client.post(URL, data)
    jobs = set(Generation.objects.values_list("pk", flat=True))
    Comparison.objects.get().delete()

    again = alice_client.post(URL, data)

    shown = Comparison.objects.get()
    assert again["Location"] == shown.get_absolute_url()
    assert set(Generation.objects.values_list("pk", flat=True)) == jobs
    assert set(shown.entries.values_list("generation", flat=True)) == jobs


# --- edits, Vary, Try again -----------------------------------------------------------------


@pytest.fixture
def source(alice: User, make_image) -> Image:
    return make_image(alice, data=striped())


def test_an_edit_sent_twice_is_one_job(alice_client: Client, source: Image) -> None:
    editor = reverse("image_edit", args=[source.uuid])
    token = token_of(alice_client.get(editor))
    values = {"model": "gpt-image-2", "prompt": "a red kite", "size": "auto", "n": 1}
    values |= {"quality": "low", "output_format": "png", "background": "auto"}

    answers = [
        alice_client.post(editor, {**values, **mask_upload(), "submit_token": token})
        for _ in range(2)
    ]

    edit = Generation.objects.get(endpoint="edits")
    assert edit.submit_token == uuid.UUID(token)
    assert {a["Location"] for a in answers} == {reverse("generation", args=[edit.pk])}
    assert Image.objects.filter(generation=edit).count() == 1


@pytest.fixture
def made(alice_client: Client) -> Image:
    """An image of Alice's, made through the generate form."""
    alice_client.post(URL, gpt(n=1))
    return Image.objects.get()


def test_vary_from_the_image_page_sent_twice_is_one_variation(
    alice_client: Client, made: Image
) -> None:
    page = alice_client.get(reverse("image_detail", args=[made.uuid]))
    token = token_of(page)
    vary = reverse("image_vary", args=[made.uuid])

    answers = [alice_client.post(vary, {"submit_token": token}) for _ in range(2)]

    variation = Generation.objects.exclude(pk=made.generation_id).get()
    assert {a["Location"] for a in answers} == {reverse("generation", args=[variation.pk])}


def test_vary_from_the_feed_renews_the_buttons_token(alice_client: Client, made: Image) -> None:
    feed = alice_client.get(URL).content.decode()
    vary_token = re.search(
        r'name="submit_token" value="([0-9a-f-]{36})" id="vary-token-' + str(made.uuid), feed
    )
    assert vary_token, "the feed's Vary button carries a named token"
    data = {"submit_token": vary_token.group(1), "from_feed": "1"}
    vary = reverse("image_vary", args=[made.uuid])

    first = alice_client.post(vary, data, headers=HTMX).content.decode()
    again = alice_client.post(vary, data, headers=HTMX).content.decode()

    variation = Generation.objects.exclude(pk=made.generation_id).get()
    renewed = set()
    for answer in (first, again):
        assert f'id="generation-{variation.pk}"' in answer
        [value] = [v for v, attributes in TOKEN.findall(answer) if "hx-swap-oob" in attributes]
        assert f'value="{value}" id="vary-token-{made.uuid}" hx-swap-oob="true">' in answer
        renewed.add(value)
    assert vary_token.group(1) not in renewed and len(renewed) == 2
    alice_client.post(vary, {**data, "submit_token": renewed.pop()}, headers=HTMX)
    assert Generation.objects.exclude(pk=made.generation_id).count() == 2


def test_try_again_sent_twice_is_one_new_job(alice: User, alice_client: Client) -> None:
    failed = Generation.objects.create(
        owner=alice,
        model_name="gpt-image-2",
        prompt="a kite",
        parameters={"n": 1, "size": "1024x1024", "quality": "low"},
        status=Generation.Status.FAILED,
        error_code="upstream_unavailable",
    )
    token = token_of(alice_client.get(reverse("generation", args=[failed.pk])))
    retry = reverse("generation_retry", args=[failed.pk])

    answers = [alice_client.post(retry, {"submit_token": token}) for _ in range(2)]

    again = Generation.objects.exclude(pk=failed.pk).get()
    assert {a["Location"] for a in answers} == {reverse("generation", args=[again.pk])}
    assert again.submit_token == uuid.UUID(token)


def test_the_pages_a_submit_leads_to_name_the_token_they_answered(alice_client: Client) -> None:
    """static/js/submit_tokens.js renews a form's token once such a page has shown it answered
    (Back may show the form as it was left)."""
    single, compared = str(uuid.uuid4()), str(uuid.uuid4())
    job_page = alice_client.get(alice_client.post(URL, gpt(submit_token=single))["Location"])
    data = gpt(compare_with=["qwen-image"], submit_token=compared)
    comparison_page = alice_client.get(alice_client.post(URL, data)["Location"])

    assert f'data-answered-submit-token="{single}"' in job_page.content.decode()
    assert f'data-answered-submit-token="{compared}"' in comparison_page.content.decode()
    assert 'src="/static/js/submit_tokens.js" defer' in job_page.content.decode()
