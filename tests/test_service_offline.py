"""End to end: the service against the embedded offline provider, the default without a key."""

import httpx
import pytest

from imagegen.catalogue import Profile, shipped_profile
from imagegen.offline import OfflineProvider
from imagegen.service import PartialImage, UpstreamError, download_image, generate

PROMPT = "A lighthouse on a cliff at dusk"


def profile(name: str) -> Profile:
    found = shipped_profile(name)
    assert found is not None, name
    return found


def test_without_a_key_it_generates_and_downloads_a_url_result_offline(settings) -> None:
    settings.COMETAPI_KEY = ""

    result = generate(profile("dall-e-3"), PROMPT, {})
    (returned,) = result.images
    data = download_image(returned.url or "")

    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert returned.revised_prompt
    assert result.request_id
    assert result.attempts == 1


def test_without_a_key_it_streams_partial_images_offline(settings) -> None:
    settings.COMETAPI_KEY = ""
    partials: list[PartialImage] = []
    options = {"stream": True, "partial_images": 2, "quality": "low", "size": "1024x1024"}

    result = generate(profile("gpt-image-1"), PROMPT, options, on_partial=partials.append)

    assert [partial.index for partial in partials] == [0, 1]
    assert result.images[0].data is not None
    assert result.usage is not None
    assert result.returned_settings["output_format"] == "png"


def test_it_retries_the_offline_providers_rate_limits_and_then_succeeds(settings) -> None:
    provider = OfflineProvider(faults=["rate_limit", "rate_limit"])
    client = httpx.Client(base_url=settings.COMETAPI_BASE_URL, transport=provider)
    sleeps: list[float] = []

    result = generate(profile("gpt-image-1"), PROMPT, {}, client=client, sleep=sleeps.append)

    assert result.attempts == 3
    assert sleeps == [0.01, 0.01]  # its retry-after-ms


def test_it_reads_cometapis_request_id_from_an_offline_invalid_request() -> None:
    with pytest.raises(UpstreamError) as caught:
        generate(profile("gpt-image-1"), PROMPT + " [fault:comet_invalid_request]", {})

    assert (caught.value.code, caught.value.attempts) == ("invalid_request", 1)
    assert caught.value.request_id.isdigit()


def test_an_expired_offline_url_fails_to_download_without_retrying() -> None:
    result = generate(profile("dall-e-3"), PROMPT + " [fault:expired_url]", {})

    with pytest.raises(UpstreamError) as caught:
        download_image(result.images[0].url or "")

    assert (caught.value.code, caught.value.status, caught.value.retryable) == (
        "download_failed",
        403,
        False,
    )
