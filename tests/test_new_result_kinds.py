"""End to end through the offline provider: the result kinds the newer models bring are kept.

A job is submitted through the generate page, runs (the immediate task backend in tests), goes
through the offline provider and the gallery's ingest; what is kept is then fetched back.
"""

import io
from typing import Any

import pytest
from django.test import Client
from PIL import Image as PILImage

from gallery.models import Image
from imagegen.models import Generation

pytestmark = pytest.mark.django_db

GPT_26 = {
    "model": "gpt-image-2.6-flare",
    "n": "1",
    "size": "1024x1024",
    "quality": "auto",
    "background": "auto",
    "moderation": "auto",
    "complexity": "high",
}


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def pixels(client: Client, image: Image) -> bytes:
    with PILImage.open(io.BytesIO(body(client.get(f"/images/{image.uuid}/original")))) as picture:
        return picture.convert("RGB").tobytes()


def submit(client: Client, **values: Any) -> Generation:
    response = client.post("/generate/", values)
    errors = [line for line in response.content.decode().splitlines() if 'class="error"' in line]
    assert response.status_code == 302, errors
    return Generation.objects.latest("created_at")


def test_a_gif_job_keeps_the_whole_animation_and_a_still_webp_thumbnail(
    alice_client: Client,
) -> None:
    generation = submit(
        alice_client, **GPT_26, output_format="gif", frame_count="4", prompt="A paper windmill"
    )

    assert generation.status == "succeeded", generation.error_message
    assert generation.parameters["frame_count"] == 4
    image = Image.objects.get(generation=generation)
    assert image.format == "gif"
    original = alice_client.get(f"/images/{image.uuid}/original")
    data = body(original)
    with PILImage.open(io.BytesIO(data)) as animation:
        assert animation.format == "GIF" and animation.n_frames == 4
    thumbnail = alice_client.get(f"/images/{image.uuid}/thumbnail")
    assert body(thumbnail)[8:12] == b"WEBP"


def test_an_svg_job_is_kept_and_only_ever_served_sandboxed(alice_client: Client) -> None:
    generation = submit(alice_client, **GPT_26, output_format="svg", prompt="A line-art fox")

    assert generation.status == "succeeded", generation.error_message
    image = Image.objects.get(generation=generation)
    assert image.format == "svg"
    original = alice_client.get(f"/images/{image.uuid}/original")
    assert original["Content-Type"] == "image/svg+xml"
    assert original["Content-Security-Policy"].startswith("sandbox")
    assert original["X-Content-Type-Options"] == "nosniff"
    assert b"<script" not in body(original)
    detail = alice_client.get(f"/images/{image.uuid}/").content.decode()
    assert "<svg" not in detail  # shown as <img>, never inline


def test_a_seedream_job_draws_its_watermark_and_the_same_seed_draws_the_same_image(
    alice_client: Client,
) -> None:
    seedream = {
        "model": "doubao-seedream-5-0-260128",
        "n": "1",
        "size": "2048x2048",
        "response_format": "url",
        "watermark": "on",
        "seed": "42",
    }
    first = submit(alice_client, **seedream, prompt="A lighthouse keeper's cat")
    second = submit(alice_client, **seedream, prompt="A lighthouse keeper's cat")
    unmarked = submit(
        alice_client, **{**seedream, "watermark": ""}, prompt="A lighthouse keeper's cat"
    )

    assert [g.status for g in (first, second, unmarked)] == ["succeeded"] * 3
    assert first.parameters["watermark"] is True and unmarked.parameters["watermark"] is False
    images = [Image.objects.get(generation=g) for g in (first, second, unmarked)]
    assert (images[0].width, images[0].height) == (2048, 2048)
    # The files differ (each carries its own metadata); the pictures are the same for a seed.
    assert pixels(alice_client, images[0]) == pixels(alice_client, images[1])
    assert pixels(alice_client, images[0]) != pixels(alice_client, images[2])  # the watermark
