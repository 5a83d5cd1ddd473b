"""An image's live share links are shown on its page, and a second "Share" offers them."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from gallery.models import Collection, ShareLink


def test_the_image_page_lists_its_live_links_only(alice_client, alice, bob, make_image) -> None:
    image = make_image(alice)
    live = ShareLink.objects.create(owner=alice, image=image)
    ShareLink.objects.create(owner=alice, image=image, revoked_at=timezone.now())
    expired = timezone.now() - timedelta(days=1)
    ShareLink.objects.create(owner=alice, image=image, expires_at=expired)
    other = make_image(alice)
    ShareLink.objects.create(owner=alice, image=other)
    page = alice_client.get(reverse("image_detail", args=[image.uuid])).content.decode()
    assert "Shared by link" in page
    assert len(re.findall(r'href="/shares/\d+/"', page)) == 1
    assert f'href="/shares/{live.pk}/"' in page
    bare = alice_client.get(reverse("image_detail", args=[make_image(alice).uuid]))
    assert "Shared by link" not in bare.content.decode()


def test_a_second_share_offers_the_live_link_first(alice_client, alice, make_image) -> None:
    image = make_image(alice)
    url = reverse("share_create_image", args=[image.uuid])
    first = alice_client.get(url).content.decode()
    assert "already live" not in first
    alice_client.post(url, {"expiry": "never"})
    link = ShareLink.objects.get()
    again = alice_client.get(url).content.decode()
    assert "A link is already live" in again
    assert f'href="/shares/{link.pk}/"' in again
    assert "Create link" in again  # another can still be made
    # A collection's live links are its own, not its images'.
    collection = Collection.objects.create(owner=alice, name="Coast")
    page = alice_client.get(reverse("share_create_collection", args=[collection.uuid]))
    assert "already live" not in page.content.decode()


def test_a_long_prompt_is_folded_with_show_more(alice_client, alice, make_image) -> None:
    long_prompt = "A harbour at dawn, fishing boats, gulls, mist over the water. " * 12
    image = make_image(alice, prompt=long_prompt)
    page = alice_client.get(reverse("image_detail", args=[image.uuid])).content.decode()
    assert 'class="fold-toggle"' in page and "Show more" in page
    assert long_prompt.strip()[-40:] in page  # the whole text is in the page
    short = make_image(alice, prompt="A harbour at dawn")
    page = alice_client.get(reverse("image_detail", args=[short.uuid])).content.decode()
    assert "Show more" not in page
