"""End to end: the service against the embedded offline provider, the default without a key."""

import httpx
import pytest
from pytest_django.fixtures import Settings

from imagegen.catalogue import ModelSpec as Profile
from imagegen.catalogue import shipped_spec as shipped_profile
from imagegen.models import ImageModel
from imagegen.offline import RETIRED, OfflineProvider
from imagegen.service import PartialImage, UpstreamError, download_image, generate

# The offline provider reads each model's schema from the catalogue's rows.
pytestmark = pytest.mark.django_db

PROMPT = "A lighthouse on a cliff at dusk"
PNG = b"\x89PNG\r\n\x1a\n"


def profile(name: str) -> Profile:
    found = shipped_profile(name)
    assert found is not None, name
    return found


def test_without_a_key_it_generates_and_downloads_a_url_result_offline(
    settings: Settings,
) -> None:
    settings.COMETAPI_KEY = ""

    options = {"size": "1280x720", "response_format": "url"}
    result = generate(profile("doubao-seedream-5-0-260128"), PROMPT, options)
    (returned,) = result.images
    data = download_image(returned.url or "")

    assert data.startswith(PNG)
    assert returned.revised_prompt == ""
    assert result.request_id
    assert result.attempts == 1


def test_without_a_key_it_returns_the_revised_prompt_of_a_model_that_revises_prompts(
    settings: Settings,
) -> None:
    settings.COMETAPI_KEY = ""
    size = {"name": "size", "kind": "size", "label": "Size", "choices": ["1024x1024"],
            "default": "1024x1024", "send_default": True}  # fmt: skip
    model = ImageModel(
        name="house-painter-1",
        label="House Painter",
        family="other",
        max_images=1,
        result_kind="url",
        returns_revised_prompt=True,
        schema={"parameters": [size], "rules": []},
    )
    model.full_clean()
    model.save()

    result = generate(model.spec(), PROMPT, {})
    (returned,) = result.images

    assert PROMPT in returned.revised_prompt
    assert download_image(returned.url or "").startswith(PNG)


def test_without_a_key_it_generates_seedream_base64_when_asked(settings: Settings) -> None:
    settings.COMETAPI_KEY = ""
    options = {"size": "1280x720", "response_format": "b64_json", "n": 2}

    result = generate(profile("doubao-seedream-4-5-251128"), PROMPT, options)

    assert [image.url for image in result.images] == [None, None]
    assert all((image.data or b"").startswith(PNG) for image in result.images)


def test_without_a_key_it_streams_partial_images_offline(settings: Settings) -> None:
    settings.COMETAPI_KEY = ""
    partials: list[PartialImage] = []
    options = {"stream": True, "partial_images": 2, "quality": "low", "size": "1024x1024"}

    result = generate(profile("gpt-image-2"), PROMPT, options, on_partial=partials.append)

    assert [partial.index for partial in partials] == [0, 1]
    assert result.images[0].data is not None
    assert result.usage is not None
    assert result.returned_settings["output_format"] == "png"


def test_it_retries_the_offline_providers_rate_limits_and_then_succeeds(
    settings: Settings,
) -> None:
    provider = OfflineProvider(faults=["rate_limit", "rate_limit"])
    client = httpx.Client(base_url=settings.COMETAPI_BASE_URL, transport=provider)
    sleeps: list[float] = []

    result = generate(profile("gpt-image-2"), PROMPT, {}, client=client, sleep=sleeps.append)

    assert result.attempts == 3
    assert sleeps == [0.01, 0.01]  # its retry-after-ms


def test_it_reads_cometapis_request_id_from_an_offline_invalid_request() -> None:
    with pytest.raises(UpstreamError) as caught:
        generate(profile("gpt-image-2"), PROMPT + " [fault:comet_invalid_request]", {})

    assert (caught.value.code, caught.value.attempts) == ("invalid_request", 1)
    assert caught.value.request_id.isdigit()


def test_an_expired_offline_url_fails_to_download_without_retrying() -> None:
    result = generate(profile("qwen-image"), PROMPT + " [fault:expired_url]", {})

    with pytest.raises(UpstreamError) as caught:
        download_image(result.images[0].url or "")

    assert (caught.value.code, caught.value.status, caught.value.retryable) == (
        "download_failed",
        403,
        False,
    )


@pytest.mark.parametrize("model", sorted(RETIRED))
def test_a_retired_model_fails_with_model_not_found_without_retrying(model: str) -> None:
    sleeps: list[float] = []

    with pytest.raises(UpstreamError) as caught:
        generate(profile(model), PROMPT, {}, sleep=sleeps.append)

    error = caught.value
    assert (error.code, error.status, error.retryable, error.attempts) == (
        "model_not_found",
        404,
        False,
        1,
    )
    assert sleeps == []
