"""The prompt history: a person's distinct past prompts, newest first, with the model last used
and when, searchable by any part (any case), bounded and paginated; opened from the generate
form by htmx, or as a page of its own."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imagegen import prompt_history
from imagegen.models import Generation
from imagegen.prompt_history import past_prompts

pytestmark = pytest.mark.django_db

URL = reverse("prompt_history")
HTMX = {"HX-Request": "true"}


def job(owner: User, prompt: str, model: str = "gpt-image-2", minutes_ago: int = 0) -> Generation:
    generation = Generation.objects.create(
        owner=owner, model_name=model, prompt=prompt, parameters={"n": 1}
    )
    moved = timezone.now() - timedelta(minutes=minutes_ago)
    Generation.objects.filter(pk=generation.pk).update(created_at=moved)
    return generation


def prompts(user: User, query: str = "", page: int = 1) -> list[tuple[str, str]]:
    return [(p.prompt, p.model_name) for p in past_prompts(user, query, page).object_list]


def test_distinct_newest_first_with_the_model_last_used(alice: User) -> None:
    job(alice, "a red kite", "qwen-image", minutes_ago=30)
    job(alice, "a blue boat", minutes_ago=20)
    job(alice, "a red kite", "doubao-seedream-5-0-260128", minutes_ago=10)
    assert prompts(alice) == [
        ("a red kite", "doubao-seedream-5-0-260128"),
        ("a blue boat", "gpt-image-2"),
    ]


def test_search_is_a_substring_in_any_case_and_any_language(alice: User) -> None:
    job(alice, "A Red Kite over the dunes", minutes_ago=3)
    job(alice, "山の上の小さな茶屋", minutes_ago=2)
    job(alice, "قطة على السطح", minutes_ago=1)
    assert prompts(alice, "red KITE") == [("A Red Kite over the dunes", "gpt-image-2")]
    assert prompts(alice, "茶屋") == [("山の上の小さな茶屋", "gpt-image-2")]
    assert prompts(alice, "قطة") == [("قطة على السطح", "gpt-image-2")]
    assert prompts(alice, "%") == [] and prompts(alice, "_") == []  # not wildcards
    assert prompts(alice, "nothing like it") == []


def test_only_ones_own_prompts(alice: User, bob: User, alice_client: Client) -> None:
    job(alice, "alice's lighthouse")
    job(bob, "bob's secret lighthouse")
    assert prompts(alice, "lighthouse") == [("alice's lighthouse", "gpt-image-2")]
    page = alice_client.get(URL, {"q": "secret"}).content.decode()
    assert "secret lighthouse" not in page


def test_pages_of_twenty(alice: User) -> None:
    for n in range(45):
        job(alice, f"prompt number {n}", minutes_ago=100 - n)
    first = past_prompts(alice)
    assert len(first.object_list) == 20 and first.paginator.num_pages == 3
    assert first.object_list[0].prompt == "prompt number 44"
    assert [p.prompt for p in past_prompts(alice, page=3).object_list][-1] == "prompt number 0"
    assert past_prompts(alice, page="no").number == 1  # a bad page is the first
    assert past_prompts(alice, page=99).number == 3  # past the end is the last


def test_it_groups_only_the_newest_jobs(alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompt_history, "MOST_JOBS", 3)
    for n in range(5):
        job(alice, f"prompt {n}", minutes_ago=10 - n)
    assert [p for p, _ in prompts(alice)] == ["prompt 4", "prompt 3", "prompt 2"]
    # A search looks through every job first, then bounds what it groups.
    assert prompts(alice, "prompt 0") == [("prompt 0", "gpt-image-2")]


def test_a_very_long_query_is_cut_short(alice: User) -> None:
    job(alice, "x" * 300)
    assert len(prompts(alice, "x" * 5000)) == 1


def test_the_page_lists_them_with_links_that_open_the_form(
    alice: User, alice_client: Client
) -> None:
    job(alice, "a kite & a boat", "qwen-image")
    page = alice_client.get(URL).content.decode()
    assert "<h1>Prompt history</h1>" in page
    assert 'href="/generate/?prompt=a+kite+%26+a+boat&amp;model=qwen-image"' in page
    assert 'data-use-prompt="a kite &amp; a boat"' in page
    assert "qwen-image" in page


def test_htmx_gets_only_the_results(alice: User, alice_client: Client) -> None:
    job(alice, "a paper crane")
    response = alice_client.get(URL, {"q": "crane"}, headers=HTMX)
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="prompt-history-results"')
    assert "<html" not in page and "a paper crane" in page


def test_page_links_keep_the_search(alice: User, alice_client: Client) -> None:
    for n in range(25):
        job(alice, f"a fox number {n}", minutes_ago=30 - n)
    page = alice_client.get(URL, {"q": "fox"}, headers=HTMX).content.decode()
    assert 'href="/prompts/?q=fox&amp;page=2"' in page
    assert 'hx-get="/prompts/?q=fox&amp;page=2"' in page
    assert "Page 1 of 2" in page


def test_nothing_found_and_nothing_yet_say_so(alice_client: Client) -> None:
    assert "No prompts yet." in alice_client.get(URL).content.decode()
    assert "contains “owl”" in alice_client.get(URL, {"q": "owl"}).content.decode()


def test_it_needs_a_get_and_a_sign_in(alice_client: Client) -> None:
    assert alice_client.post(URL).status_code == 405
    response = Client().get(URL)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_generate_page_opens_it_from_the_form(alice_client: Client) -> None:
    page = alice_client.get(reverse("generate")).content.decode()
    assert 'hx-get="/prompts/" hx-trigger="toggle once"' in page
    assert '<a href="/prompts/">Open your prompt history</a>' in page  # without JavaScript
    assert 'src="/static/js/form_tools.js" defer' in page


def test_a_nul_byte_in_the_search_is_no_error(alice_client) -> None:
    response = alice_client.get("/prompts/", {"q": "cat\x00"})
    assert response.status_code == 200
