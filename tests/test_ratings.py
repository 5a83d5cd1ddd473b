"""Ratings: 1-5 stars given on an image's page (or by key in the gallery), shown on its tile,
taken away with 0; only the owner's images, only whole stars 0-5."""

import pytest
from django.urls import reverse

from gallery.models import Image

HTMX = {"HX-Request": "true"}


def rate(client, image: Image, stars: str, **headers):
    return client.post(reverse("image_rate", args=[image.uuid]), {"stars": stars}, headers=headers)


def test_stars_are_given_shown_and_taken_away(alice_client, alice, make_image) -> None:
    image = make_image(alice)
    response = rate(alice_client, image, "4", **HTMX)
    assert response.status_code == 200
    control = response.content.decode()
    assert control.lstrip().startswith('<form method="post"') and 'data-rating="4"' in control
    assert control.count("is-lit") == 4
    # The lit star says so, and pressing it again takes the rating away.
    assert 'name="stars" value="0" class="star is-lit" aria-pressed="true"' in control
    image.refresh_from_db()
    assert image.rating == 4
    page = alice_client.get(reverse("image_list")).content.decode()
    assert 'data-rating="4"' in page and ">★★★★</span>" in page
    assert rate(alice_client, image, "0").status_code == 302  # without JavaScript: back
    image.refresh_from_db()
    assert image.rating is None
    assert "tile-rating" not in alice_client.get(reverse("image_list")).content.decode()


@pytest.mark.parametrize("stars", ["6", "-1", "²", "", "4.5", "99999999999999999999", "4\x00"])
def test_anything_but_0_to_5_whole_stars_is_refused(alice_client, alice, make_image, stars) -> None:
    image = make_image(alice)
    assert rate(alice_client, image, stars).status_code == 400
    image.refresh_from_db()
    assert image.rating is None


def test_only_the_owner_rates(alice, bob_client, make_image, client) -> None:
    image = make_image(alice)
    assert rate(bob_client, image, "5").status_code == 404
    assert rate(client, image, "5").status_code == 302  # to sign in
    assert bob_client.get(reverse("image_rate", args=[image.uuid])).status_code == 405
    image.refresh_from_db()
    assert image.rating is None


def test_the_model_refuses_a_rating_out_of_range(alice, make_image) -> None:
    image = make_image(alice)
    with pytest.raises(ValueError):
        image.rate(6)
    image.rate(5)
    assert Image.objects.get(pk=image.pk).rating == 5


def uuids_in(page: str, images: list[Image]) -> list[Image]:
    """The images of `images` that the page shows, in the page's order."""
    found = [(page.find(f'value="{image.uuid}"'), image) for image in images]
    return [image for at, image in sorted(found, key=lambda pair: pair[0]) if at >= 0]


def test_filter_by_stars_and_sort_best_rated_first_page_by_page(
    alice_client, alice, make_image, monkeypatch
) -> None:
    images = [make_image(alice, prompt=f"a tin robot {n}") for n in range(6)]
    for image, stars in zip(images, [5, None, 3, 5, 1, 4], strict=True):
        if stars:
            image.rate(stars)
    at_least_4 = alice_client.get(reverse("image_list"), {"rating": "4"}).content.decode()
    assert set(uuids_in(at_least_4, images)) == {images[0], images[3], images[5]}
    monkeypatch.setattr("gallery.paging.PAGE_SIZE", 2)
    url = reverse("image_list")
    first = alice_client.get(url, {"sort": "rating"}).content.decode()
    # Most stars first, the newest first among equals; unrated images are left out.
    assert uuids_in(first, images) == [images[3], images[0]]
    assert f"before=5.{images[0].pk}" in first
    second = alice_client.get(url, {"sort": "rating", "before": f"5.{images[0].pk}"})
    assert uuids_in(second.content.decode(), images) == [images[5], images[2]]
    third = alice_client.get(url, {"sort": "rating", "before": f"3.{images[2].pk}"})
    assert uuids_in(third.content.decode(), images) == [images[4]]
    # A cursor that is not one is the first page, never an error.
    for junk in ("9.1", "5.x", "²", "5.1.1"):
        response = alice_client.get(url, {"sort": "rating", "before": junk})
        assert response.status_code == 200
        assert uuids_in(response.content.decode(), images) == [images[3], images[0]]
