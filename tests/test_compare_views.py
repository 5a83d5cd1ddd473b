"""The comparison pages: the list, one comparison (and its one polling request), rename,
delete, the winner, "Compare" in the gallery's bulk bar, and sharing a comparison by link.
Each is only ever its owner's; every POST needs its CSRF token."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery.models import Collection, Comparison, Image, ShareLink
from imagegen.models import Generation
from imagegen.tasks import run_generation

HTMX = {"HTTP_HX_REQUEST": "true"}
POLL = {**HTMX, "HTTP_HX_TARGET": "compare-body"}


def job(owner: User, model: str = "gpt-image-2", n: int = 1) -> Generation:
    return Generation.objects.create(
        owner=owner,
        model_name=model,
        prompt="a paper crane on a windowsill",
        parameters={"n": n, "size": "1024x1536", "quality": "low", "output_format": "png"},
    )


@pytest.fixture
def images(alice: User, make_image) -> list[Image]:
    return [make_image(alice, prompt=f"a lighthouse, take {n}") for n in range(3)]


@pytest.fixture
def comparison(alice: User, images: list[Image]) -> Comparison:
    return Comparison.objects.start_for_images(alice, images)


def url(name: str, comparison: Comparison) -> str:
    return reverse(name, args=[comparison.uuid])


# The list


def test_the_list_shows_my_comparisons_newest_first_with_thumbnails_and_the_winner(
    alice: User, alice_client: Client, comparison: Comparison, images: list[Image]
) -> None:
    comparison.pick_winner(images[1])
    newer = Comparison.objects.start_for_jobs(alice, [job(alice)], title="Cranes")

    page = alice_client.get(reverse("comparison_list")).content.decode()

    assert page.index("Cranes") < page.index("Comparison of 3 images")
    for image in images:
        assert reverse("image_thumbnail", args=[image.uuid]) in page
    assert "Winner picked" in page
    assert "(winner)" in page
    assert url("comparison_detail", newer) in page
    assert 'aria-current="page">Comparisons<' in page


def test_the_list_is_paginated(alice: User, alice_client: Client) -> None:
    for _n in range(21):
        Comparison.objects.create(owner=alice, title="one of many")
    first = alice_client.get(reverse("comparison_list")).content.decode()
    assert first.count('class="comparison-card') == 20
    assert 'href="?page=2" rel="next"' in first
    second = alice_client.get(reverse("comparison_list") + "?page=2").content.decode()
    assert second.count('class="comparison-card') == 1


def test_the_list_shows_no_one_elses_comparisons(
    bob_client: Client, comparison: Comparison
) -> None:
    page = bob_client.get(reverse("comparison_list")).content.decode()
    assert str(comparison.uuid) not in page
    assert "No comparisons yet." in page


# One comparison


def test_the_page_shows_each_image_with_its_model_parameters_and_slider(
    alice_client: Client, comparison: Comparison, images: list[Image]
) -> None:
    response = alice_client.get(url("comparison_detail", comparison))

    page = response.content.decode()
    assert response.status_code == 200
    assert "compare.css" in page and "compare.js" in page
    for image in images:
        assert reverse("image_thumbnail", args=[image.uuid]) in page
        assert f'name="image" value="{image.uuid}"' in page  # pick as winner
    assert page.count('data-parameter="size"') == 3
    assert 'type="range"' in page
    # The slider starts with the first two images, A over B.
    assert f'src="{reverse("image_original", args=[images[0].uuid])}"' in page
    assert f'src="{reverse("image_original", args=[images[1].uuid])}"' in page
    assert "hx-trigger" not in page  # nothing is running: no polling


def test_the_slider_shows_the_two_images_chosen_without_javascript(
    alice_client: Client, comparison: Comparison, images: list[Image]
) -> None:
    chosen = f"?a={images[2].uuid}&b={images[0].uuid}"
    page = alice_client.get(url("comparison_detail", comparison) + chosen).content.decode()
    a_src = reverse("image_original", args=[images[2].uuid])
    b_src = reverse("image_original", args=[images[0].uuid])
    assert page.index(f'<img src="{b_src}"') < page.index(f'<img src="{a_src}"')
    # The same image on both sides is not a comparison: B falls back to another one.
    same = f"?a={images[2].uuid}&b={images[2].uuid}"
    page = alice_client.get(url("comparison_detail", comparison) + same).content.decode()
    assert f'<img src="{reverse("image_original", args=[images[0].uuid])}"' in page


def test_running_jobs_show_placeholders_of_their_shape_and_the_page_polls_once(
    alice: User, alice_client: Client
) -> None:
    jobs = [job(alice), job(alice, n=2), job(alice, "qwen-image")]
    comparison = Comparison.objects.start_for_jobs(alice, jobs)

    page = alice_client.get(url("comparison_detail", comparison)).content.decode()

    assert page.count('hx-trigger="every 2s"') == 1
    assert page.count('viewBox="0 0 1024 1536"') == 4  # n=2 has two places
    assert "The slider shows two images once at least two are ready." in page


def test_a_running_job_with_a_preview_shows_it(alice: User, alice_client: Client) -> None:
    running = job(alice)
    Generation.objects.filter(pk=running.pk).update(
        status="running", preview=b"RIFF", previews_received=2
    )
    comparison = Comparison.objects.start_for_jobs(alice, [running, job(alice)])
    page = alice_client.get(url("comparison_detail", comparison)).content.decode()
    assert reverse("generation_preview", args=[running.pk]) + "?n=2" in page


def test_the_poll_answers_204_while_nothing_changed_then_the_grid_then_286(
    alice: User, alice_client: Client
) -> None:
    jobs = [job(alice), job(alice, "qwen-image")]
    jobs[1].parameters = {"n": 1, "size": "1328x1328"}
    jobs[1].save()
    comparison = Comparison.objects.start_for_jobs(alice, jobs)
    detail = url("comparison_detail", comparison)
    first = alice_client.get(detail, **POLL)
    assert first.status_code == 200
    state = first.content.decode().split('"state": "')[1].split('"')[0]
    state = state.encode().decode("unicode_escape")

    assert alice_client.get(detail, {"state": state}, **POLL).status_code == 204

    run_generation.call(str(jobs[0].pk))
    changed = alice_client.get(detail, {"state": state}, **POLL)
    assert changed.status_code == 200
    assert changed.content.decode().strip().startswith('<div id="compare-body"')
    assert "<html" not in changed.content.decode()

    run_generation.call(str(jobs[1].pk))
    done = alice_client.get(detail, {"state": state}, **POLL)
    assert done.status_code == 286  # htmx swaps the finished grid in, then stops polling
    body = done.content.decode()
    assert "hx-trigger" not in body
    assert body.count("Pick as winner") == 2
    for made in jobs:
        made.refresh_from_db()
        assert f"{made.total_ms:,} ms" in body


def test_a_failed_job_shows_its_error_and_a_deleted_one_says_so(
    alice: User, alice_client: Client
) -> None:
    failed, gone = job(alice), job(alice)
    Generation.objects.filter(pk=failed.pk).update(
        status="failed", error_message="The image service refused this prompt."
    )
    comparison = Comparison.objects.start_for_jobs(alice, [failed, gone])
    gone.delete()

    page = alice_client.get(url("comparison_detail", comparison)).content.decode()

    assert "The image service refused this prompt." in page
    assert "Deleted: this image or job is no longer in the gallery." in page


def test_a_job_whose_images_were_deleted_says_so(alice: User, alice_client: Client) -> None:
    made = job(alice)
    run_generation.call(str(made.pk))
    comparison = Comparison.objects.start_for_jobs(alice, [made])
    made.images.all().delete_with_files()
    page = alice_client.get(url("comparison_detail", comparison)).content.decode()
    assert "the images of this job are no longer in the gallery" in page


# Rename and delete


def test_rename_with_and_without_a_title(
    alice_client: Client, comparison: Comparison, images: list[Image]
) -> None:
    response = alice_client.post(url("comparison_rename", comparison), {"title": "Lights"})
    assert response.status_code == 302
    comparison.refresh_from_db()
    assert comparison.shown_title == "Lights"
    alice_client.post(url("comparison_rename", comparison), {"title": ""})
    comparison.refresh_from_db()
    assert comparison.shown_title == "Comparison of 3 images"


def test_rename_refuses_a_title_too_long_and_returns_to_the_list(
    alice_client: Client, comparison: Comparison
) -> None:
    back = reverse("comparison_list")
    response = alice_client.post(
        url("comparison_rename", comparison), {"title": "x" * 201, "next": back}, follow=True
    )
    assert response.redirect_chain == [(back, 302)]
    assert "at most 200 characters" in response.content.decode()
    comparison.refresh_from_db()
    assert comparison.title == ""


def test_delete_asks_first_then_deletes_only_the_comparison(
    alice_client: Client, comparison: Comparison, images: list[Image]
) -> None:
    confirm = alice_client.get(url("comparison_delete", comparison))
    assert confirm.status_code == 200
    assert "Delete this comparison?" in confirm.content.decode()
    assert Comparison.objects.exists()

    response = alice_client.post(url("comparison_delete", comparison))

    assert response.status_code == 302
    assert response["Location"] == reverse("comparison_list")
    assert not Comparison.objects.exists()
    assert Image.objects.count() == 3


# The winner


def test_picking_a_winner_without_javascript(
    alice: User, alice_client: Client, comparison: Comparison, images: list[Image]
) -> None:
    best = Collection.objects.create(owner=alice, name="Best of")
    response = alice_client.post(
        url("comparison_winner", comparison),
        {"image": images[2].uuid, "collection": best.uuid},
        follow=True,
    )
    assert response.redirect_chain == [(url("comparison_detail", comparison), 302)]
    page = response.content.decode()
    assert "Winner chosen: marked as a favourite and added to “Best of”." in page
    assert "★ Winner" in page
    comparison.refresh_from_db()
    images[2].refresh_from_db()
    assert (comparison.winner, images[2].favourite) == (images[2], True)
    assert list(best.images.all()) == [images[2]]


def test_picking_a_winner_with_htmx_answers_the_grid(
    alice_client: Client, comparison: Comparison, images: list[Image]
) -> None:
    response = alice_client.post(
        url("comparison_winner", comparison), {"image": images[0].uuid, "collection": ""}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.strip().startswith('<div id="compare-body"')
    assert 'role="status">Winner chosen: marked as a favourite.' in body
    assert body.count("Pick as winner") == 2  # not on the winner itself


@pytest.mark.parametrize("which", ["not compared", "someone else's", "no uuid", "not a uuid"])
def test_the_winner_must_be_one_of_the_compared_images(
    alice: User,
    bob: User,
    alice_client: Client,
    comparison: Comparison,
    make_image,
    which: str,
) -> None:
    image = {
        "not compared": lambda: make_image(alice).uuid,
        "someone else's": lambda: make_image(bob).uuid,
        "no uuid": lambda: "",
        "not a uuid": lambda: "crane",
    }[which]()
    response = alice_client.post(url("comparison_winner", comparison), {"image": image})
    assert response.status_code == 404
    comparison.refresh_from_db()
    assert comparison.winner is None


@pytest.mark.parametrize("collection", ["bob's", "not a uuid"])
def test_the_winners_collection_must_be_mine(
    bob: User,
    alice_client: Client,
    comparison: Comparison,
    images: list[Image],
    collection: str,
) -> None:
    chosen = {
        "bob's": lambda: Collection.objects.create(owner=bob, name="Bob's").uuid,
        "not a uuid": lambda: "best",
    }[collection]()
    response = alice_client.post(
        url("comparison_winner", comparison), {"image": images[0].uuid, "collection": chosen}
    )
    assert response.status_code == 404
    images[0].refresh_from_db()
    assert not images[0].favourite


# Methods, people, CSRF


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("comparison_detail", "post"),
        ("comparison_rename", "get"),
        ("comparison_winner", "get"),
        ("comparison_delete", "put"),
    ],
)
def test_wrong_methods_are_refused(
    alice_client: Client, comparison: Comparison, name: str, method: str
) -> None:
    assert getattr(alice_client, method)(url(name, comparison)).status_code == 405


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("comparison_detail", "get"),
        ("comparison_rename", "post"),
        ("comparison_delete", "get"),
        ("comparison_delete", "post"),
        ("comparison_winner", "post"),
        ("share_create_comparison", "get"),
        ("share_create_comparison", "post"),
    ],
)
def test_another_persons_comparison_is_not_found(
    bob_client: Client, comparison: Comparison, images: list[Image], name: str, method: str
) -> None:
    data = {"image": images[0].uuid, "title": "mine now", "expiry": "never"}
    response = getattr(bob_client, method)(url(name, comparison), data)
    assert response.status_code == 404
    comparison.refresh_from_db()
    assert (comparison.title, comparison.winner) == ("", None)
    assert not ShareLink.objects.exists()


def test_signed_out_people_are_sent_to_sign_in(client: Client, comparison: Comparison) -> None:
    for address in (reverse("comparison_list"), url("comparison_detail", comparison)):
        response = client.get(address)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "name",
    ["comparison_rename", "comparison_delete", "comparison_winner", "share_create_comparison"],
)
def test_every_post_needs_a_csrf_token(
    alice: User, comparison: Comparison, images: list[Image], name: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    data = {"image": images[0].uuid, "title": "x", "expiry": "never"}
    assert client.post(url(name, comparison), data).status_code == 403
    assert Comparison.objects.get().title == ""


# Compare from the gallery


def test_comparing_three_selected_images_opens_the_comparison(
    alice: User, alice_client: Client, images: list[Image]
) -> None:
    response = alice_client.post(
        reverse("image_bulk"), {"action": "compare", "images": [i.uuid for i in images]}
    )
    comparison = Comparison.objects.get()
    assert response.status_code == 302
    assert response["Location"] == comparison.get_absolute_url()
    assert set(comparison.images()) == set(images)
    assert comparison.owner == alice


@pytest.mark.parametrize("count", [1, 5])
def test_comparing_too_few_or_too_many_says_so(
    alice: User, alice_client: Client, make_image, count: int
) -> None:
    chosen = [make_image(alice, f"take {n}") for n in range(count)]
    response = alice_client.post(
        reverse("image_bulk"),
        {"action": "compare", "images": [i.uuid for i in chosen]},
        follow=True,
    )
    assert "Choose between 2 and 4 images to compare." in response.content.decode()
    assert not Comparison.objects.exists()


def test_the_gallery_offers_compare(alice_client: Client, images: list[Image]) -> None:
    page = alice_client.get(reverse("image_list")).content.decode()
    assert '<option value="compare">' in page


def test_someone_elses_selected_images_are_left_out(
    alice_client: Client, bob: User, images: list[Image], make_image
) -> None:
    theirs = make_image(bob)
    alice_client.post(
        reverse("image_bulk"), {"action": "compare", "images": [images[0].uuid, theirs.uuid]}
    )
    assert not Comparison.objects.exists()  # one of hers is too few


# Sharing


def test_a_comparison_can_be_shared(
    alice_client: Client, comparison: Comparison, images: list[Image]
) -> None:
    share = url("share_create_comparison", comparison)
    form = alice_client.get(share).content.decode()
    assert "Share comparison" in form

    response = alice_client.post(share, {"expiry": "7d"}, follow=True)

    link = ShareLink.objects.get()
    assert (link.comparison, link.image, link.collection) == (comparison, None, None)
    assert link.expires_at > timezone.now() + timedelta(days=6)
    assert "Comparison of 3 images" in response.content.decode()
    listed = alice_client.get(reverse("share_list")).content.decode()
    assert url("comparison_detail", comparison) in listed


def shared(comparison: Comparison, **fields: object) -> ShareLink:
    return ShareLink.objects.create(owner=comparison.owner, comparison=comparison, **fields)


def test_the_shared_page_shows_the_grid_slider_and_winner_read_only(
    client: Client, comparison: Comparison, images: list[Image]
) -> None:
    comparison.pick_winner(images[1])
    link = shared(comparison)

    response = client.get(reverse("shared_page", args=[link.token]))

    page = response.content.decode()
    assert response.status_code == 200
    for image in images:
        assert reverse("shared_thumbnail", args=[link.token, image.uuid]) in page
        assert reverse("image_thumbnail", args=[image.uuid]) not in page
    assert 'type="range"' in page and "compare.js" in page
    assert "★ Winner" in page
    assert "Pick as winner" not in page
    assert "csrfmiddlewaretoken" not in page
    assert "a lighthouse, take 0" in page
    assert 'property="og:title" content="Comparison of 3 images"' in page
    assert f'content="http://testserver/s/{link.token}/{images[1].uuid}/original"' in page


def test_a_shared_comparison_hides_the_prompt_when_asked(
    client: Client, comparison: Comparison, images: list[Image]
) -> None:
    link = shared(comparison, hide_prompt=True)
    page = client.get(reverse("shared_page", args=[link.token])).content.decode()
    assert "lighthouse" not in page
    assert "dall-e-3" not in page
    assert 'data-parameter="size"' not in page


def test_a_shared_comparison_serves_only_its_own_images(
    client: Client, alice: User, bob: User, comparison: Comparison, images: list[Image], make_image
) -> None:
    link = shared(comparison)
    for image in images:
        for name in ("shared_original", "shared_thumbnail", "shared_image"):
            response = client.get(reverse(name, args=[link.token, image.uuid]))
            response.close()
            assert response.status_code == 200, name
    for outsider in (make_image(alice, "a private picnic"), make_image(bob)):
        for name in ("shared_original", "shared_thumbnail", "shared_image"):
            response = client.get(reverse(name, args=[link.token, outsider.uuid]))
            assert response.status_code == 404, name


def test_a_shared_comparison_of_jobs_shows_their_images(client: Client, alice: User) -> None:
    jobs = [job(alice), job(alice, n=2)]
    comparison = Comparison.objects.start_for_jobs(alice, jobs)
    for made in jobs:
        run_generation.call(str(made.pk))
    link = shared(comparison)
    page = client.get(reverse("shared_page", args=[link.token])).content.decode()
    made = Image.objects.filter(generation__in=jobs)
    assert made.count() == 3
    for image in made:
        assert reverse("shared_thumbnail", args=[link.token, image.uuid]) in page
        response = client.get(reverse("shared_original", args=[link.token, image.uuid]))
        response.close()
        assert response.status_code == 200


def test_a_revoked_comparison_link_opens_nothing(
    client: Client, comparison: Comparison, images: list[Image]
) -> None:
    link = shared(comparison)
    link.revoke()
    assert client.get(reverse("shared_page", args=[link.token])).status_code == 404
    response = client.get(reverse("shared_original", args=[link.token, images[0].uuid]))
    assert response.status_code == 404


def test_a_link_shares_exactly_one_thing(
    alice: User, comparison: Comparison, images: list[Image]
) -> None:
    with pytest.raises(IntegrityError):
        ShareLink.objects.create(owner=alice, comparison=comparison, image=images[0])


def test_the_list_and_a_page_cost_the_same_queries_however_many_entries(
    alice: User, alice_client: Client, make_image, django_assert_max_num_queries
) -> None:
    def made(count: int) -> Comparison:
        return Comparison.objects.start_for_images(
            alice, [make_image(alice, f"take {n}") for n in range(count)]
        )

    small = made(2)
    with django_assert_max_num_queries(12) as few:
        alice_client.get(reverse("comparison_list"))
    for _n in range(6):
        made(4)
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice_client.get(reverse("comparison_list"))
    large = made(4)
    with django_assert_max_num_queries(16) as small_page:
        alice_client.get(url("comparison_detail", small))
    # Each entry reads its model's labels once (Generation.parameters_shown): two more.
    with django_assert_max_num_queries(len(small_page.captured_queries) + 2):
        alice_client.get(url("comparison_detail", large))
