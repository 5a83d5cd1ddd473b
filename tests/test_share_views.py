"""Making, listing and revoking share links: signed in, and only ever one's own."""

import base64
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery.models import Collection, Image, ShareLink


@pytest.fixture
def alices_image(alice: User, make_image) -> Image:
    return make_image(alice, prompt="a lantern in fog")


@pytest.fixture
def alices_collection(alice: User, alices_image: Image) -> Collection:
    collection = Collection.objects.create(owner=alice, name="Harbour walks")
    collection.images.add(alices_image)
    return collection


def test_the_share_page_offers_a_form_for_my_image(
    alice_client: Client, alices_image: Image
) -> None:
    response = alice_client.get(reverse("share_create_image", args=[alices_image.uuid]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'method="post"' in page
    assert 'name="expiry"' in page
    assert 'name="hide_prompt"' in page
    assert "a lantern in fog" in page


def test_creating_a_link_shows_its_full_address_to_copy(
    alice_client: Client, alices_image: Image
) -> None:
    response = alice_client.post(
        reverse("share_create_image", args=[alices_image.uuid]), {"expiry": "never"}, follow=True
    )

    link = ShareLink.objects.get()
    assert link.image == alices_image
    assert link.collection is None
    assert link.expires_at is None
    assert not link.hide_prompt
    assert response.redirect_chain == [(reverse("share_detail", args=[link.pk]), 302)]
    page = response.content.decode()
    assert f'value="http://testserver/s/{link.token}/"' in page
    assert 'data-copy="#share-url-' in page


def test_a_collection_can_be_shared(alice_client: Client, alices_collection: Collection) -> None:
    url = reverse("share_create_collection", args=[alices_collection.uuid])
    assert "Harbour walks" in alice_client.get(url).content.decode()

    response = alice_client.post(url, {"expiry": "7d", "hide_prompt": "on"})

    link = ShareLink.objects.get()
    assert response["Location"] == reverse("share_detail", args=[link.pk])
    assert link.collection == alices_collection
    assert link.image is None
    assert link.hide_prompt


@pytest.mark.parametrize(
    ("choice", "lifetime"),
    [
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("7d", timedelta(days=7)),
        ("30d", timedelta(days=30)),
    ],
)
def test_each_expiry_choice_sets_when_the_link_stops_working(
    alice_client: Client, alices_image: Image, choice: str, lifetime: timedelta
) -> None:
    before = timezone.now()
    alice_client.post(reverse("share_create_image", args=[alices_image.uuid]), {"expiry": choice})

    expires_at = ShareLink.objects.get().expires_at
    assert before + lifetime <= expires_at <= timezone.now() + lifetime


def test_a_chosen_day_keeps_the_link_working_to_its_end(
    alice_client: Client, alices_image: Image
) -> None:
    last_day = timezone.localdate() + timedelta(days=3)

    alice_client.post(
        reverse("share_create_image", args=[alices_image.uuid]),
        {"expiry": "date", "last_day": last_day.isoformat()},
    )

    expires_at = timezone.localtime(ShareLink.objects.get().expires_at)
    assert expires_at.date() == last_day + timedelta(days=1)
    assert (expires_at.hour, expires_at.minute) == (0, 0)


@pytest.mark.parametrize(
    "data",
    [
        {"expiry": "date"},
        {"expiry": "date", "last_day": (date.today() - timedelta(days=2)).isoformat()},
        {"expiry": "forever"},
        {},
    ],
    ids=["no-day", "past-day", "unknown-choice", "nothing"],
)
def test_a_bad_expiry_shows_the_form_again_with_an_error(
    alice_client: Client, alices_image: Image, data: dict
) -> None:
    response = alice_client.post(reverse("share_create_image", args=[alices_image.uuid]), data)

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not ShareLink.objects.exists()


def test_tokens_are_long_random_and_unrelated_to_any_id(
    alice_client: Client, alices_image: Image
) -> None:
    url = reverse("share_create_image", args=[alices_image.uuid])
    for _ in range(3):
        alice_client.post(url, {"expiry": "never"})

    links = list(ShareLink.objects.all())
    tokens = {link.token for link in links}
    assert len(tokens) == 3  # the same image shared three times: three unrelated tokens
    for link in links:
        raw = base64.urlsafe_b64decode(link.token + "=" * (-len(link.token) % 4))
        assert len(raw) * 8 >= 128
        assert len(raw) == 32  # 256 bits from secrets.token_urlsafe(32)
        for identifier in (str(link.pk), alices_image.uuid.hex, str(alices_image.pk)):
            assert identifier != link.token
        assert alices_image.uuid.hex[:8] not in link.token.lower()


def test_nobody_can_share_another_persons_image_or_collection(
    bob_client: Client, alices_image: Image, alices_collection: Collection
) -> None:
    urls = [
        reverse("share_create_image", args=[alices_image.uuid]),
        reverse("share_create_collection", args=[alices_collection.uuid]),
    ]
    for url in urls:
        assert bob_client.get(url).status_code == 404, url
        assert bob_client.post(url, {"expiry": "never"}).status_code == 404, url
    assert not ShareLink.objects.exists()


def test_the_list_shows_my_links_with_their_address_views_and_state(
    alice: User,
    bob: User,
    alice_client: Client,
    alices_image: Image,
    alices_collection: Collection,
    make_image,
) -> None:
    active = ShareLink.objects.create(owner=alice, image=alices_image, view_count=7)
    expired = ShareLink.objects.create(
        owner=alice, collection=alices_collection, expires_at=timezone.now() - timedelta(hours=1)
    )
    revoked = ShareLink.objects.create(owner=alice, image=alices_image)
    revoked.revoke()
    theirs = ShareLink.objects.create(owner=bob, image=make_image(bob, prompt="their garden"))

    page = alice_client.get(reverse("share_list")).content.decode()

    assert f"http://testserver/s/{active.token}/" in page
    assert ">7<" in page
    assert "Harbour walks" in page
    assert "Active" in page
    assert "Expired" in page
    assert "Revoked" in page
    # Only an active link offers its address and a revoke button.
    assert expired.token not in page
    assert revoked.token not in page
    assert page.count(reverse("share_revoke", args=[active.pk])) == 2  # action and hx-post
    assert theirs.token not in page
    assert "their garden" not in page


def test_revoking_a_link_stops_it_and_goes_back_to_the_list(
    alice: User, alice_client: Client, alices_image: Image
) -> None:
    link = ShareLink.objects.create(owner=alice, image=alices_image)

    response = alice_client.post(reverse("share_revoke", args=[link.pk]))

    assert response["Location"] == reverse("share_list")
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert not link.is_active


@pytest.mark.parametrize("variant", ["shared_original", "shared_thumbnail", "shared_grid"])
def test_a_cache_revalidating_a_shared_file_gets_304_while_the_link_lives_and_404_after(
    alice: User, alice_client: Client, client: Client, alices_image: Image, variant: str
) -> None:
    """A shared file is sent `no-cache` with its ETag: a browser or a proxy may keep the bytes
    but asks each time, so the revocation takes effect at its next use, not minutes later."""
    link = ShareLink.objects.create(owner=alice, image=alices_image)
    url = reverse(variant, args=[link.token, alices_image.uuid])
    first = client.get(url)
    first.close()
    assert first.status_code == 200
    assert first["Cache-Control"] == "no-cache"
    asked_again = {"If-None-Match": first["ETag"]}

    still_fresh = client.get(url, headers=asked_again)
    alice_client.post(reverse("share_revoke", args=[link.pk]))
    after_revocation = client.get(url, headers=asked_again)

    assert still_fresh.status_code == 304
    assert still_fresh["Cache-Control"] == "no-cache"
    assert after_revocation.status_code == 404
    assert "ETag" not in after_revocation


def test_a_cache_revalidating_a_file_of_an_expired_link_gets_404(
    alice: User, client: Client, alices_image: Image
) -> None:
    link = ShareLink.objects.create(owner=alice, image=alices_image)
    url = reverse("shared_original", args=[link.token, alices_image.uuid])
    first = client.get(url)
    first.close()
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(url, headers={"If-None-Match": first["ETag"]})

    assert response.status_code == 404


def test_revoking_with_htmx_swaps_in_the_revoked_card(
    alice: User, alice_client: Client, alices_image: Image
) -> None:
    link = ShareLink.objects.create(owner=alice, image=alices_image)

    response = alice_client.post(
        reverse("share_revoke", args=[link.pk]), headers={"HX-Request": "true"}
    )

    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment
    assert f'id="share-{link.pk}"' in fragment
    assert "status-revoked" in fragment
    assert 'hx-swap-oob="innerHTML"' in fragment  # announced to screen readers
    assert link.token not in fragment


def test_another_persons_link_can_be_neither_seen_nor_revoked(
    alice: User, bob_client: Client, alices_image: Image
) -> None:
    link = ShareLink.objects.create(owner=alice, image=alices_image)

    assert bob_client.get(reverse("share_detail", args=[link.pk])).status_code == 404
    assert bob_client.post(reverse("share_revoke", args=[link.pk])).status_code == 404
    link.refresh_from_db()
    assert link.is_active


def test_revoking_needs_a_post(alice: User, alice_client: Client, alices_image: Image) -> None:
    link = ShareLink.objects.create(owner=alice, image=alices_image)

    assert alice_client.get(reverse("share_revoke", args=[link.pk])).status_code == 405
    assert alice_client.post(reverse("share_list")).status_code == 405


def test_signed_out_people_are_sent_to_sign_in(
    client: Client, alice: User, alices_image: Image, alices_collection: Collection
) -> None:
    link = ShareLink.objects.create(owner=alice, image=alices_image)
    urls = [
        reverse("share_create_image", args=[alices_image.uuid]),
        reverse("share_create_collection", args=[alices_collection.uuid]),
        reverse("share_list"),
        reverse("share_detail", args=[link.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))
    response = client.post(reverse("share_revoke", args=[link.pk]))
    assert response["Location"].startswith(reverse("login"))
    link.refresh_from_db()
    assert link.is_active


def test_every_share_post_needs_a_csrf_token(
    alice: User, alices_image: Image, alices_collection: Collection
) -> None:
    link = ShareLink.objects.create(owner=alice, image=alices_image)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    posts = [
        reverse("share_create_image", args=[alices_image.uuid]),
        reverse("share_create_collection", args=[alices_collection.uuid]),
        reverse("share_revoke", args=[link.pk]),
    ]
    for url in posts:
        assert client.post(url, {"expiry": "never"}).status_code == 403, url
    assert ShareLink.objects.count() == 1
    link.refresh_from_db()
    assert link.is_active
