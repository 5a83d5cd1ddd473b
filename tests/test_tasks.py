"""The generation task: every way a run can end, through the offline provider."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from gallery.ingest import InvalidImage
from gallery.models import Image
from imagegen import service, tasks
from imagegen.job_messages import MODEL_GONE, MODEL_GONE_USE
from imagegen.models import Generation, ImageModel, UpstreamModel
from imagegen.service import PartialImage
from imagegen.tasks import run_generation

SEEDREAM = "doubao-seedream-5-0-260128"  # URL or base64 results, up to 15 images
QWEN = "qwen-image"  # URL results, one image
GPT = "gpt-image-2"  # base64 results, up to 10 images, streams
# What each model is sent when a test asks for nothing else: small images, quickly drawn.
PARAMETERS: dict[str, dict[str, Any]] = {
    SEEDREAM: {"n": 1, "size": "1280x720", "response_format": "url", "watermark": False},
    QWEN: {"n": 1, "size": "1328x1328"},
    GPT: {"n": 1, "size": "1024x1024", "quality": "low", "output_format": "png"},
    # Models the upstream has shut down, as a job submitted before their end recorded them.
    "dall-e-3": {"n": 1, "size": "1024x1024", "response_format": "url"},
    "gpt-image-1.5": {"n": 1, "size": "1024x1024", "quality": "low"},
    "gpt-image-1": {"n": 1, "size": "1024x1024", "quality": "low"},
}


def queued(
    owner: User, model: str = SEEDREAM, prompt: str = "a kite", **parameters: Any
) -> Generation:
    return Generation.objects.create(
        owner=owner, model_name=model, prompt=prompt, parameters=PARAMETERS[model] | parameters
    )


@pytest.mark.parametrize(
    ("model", "parameters"),
    [
        (SEEDREAM, {"n": 3}),  # several URL results, each fetched
        (SEEDREAM, {"n": 3, "response_format": "b64_json"}),
        (GPT, {"n": 3}),
        (QWEN, {}),
    ],
)
def test_a_run_saves_every_image_and_records_the_response(
    alice: User, model: str, parameters: dict[str, Any]
) -> None:
    generation = queued(alice, model, **parameters)
    assert run_generation.call(str(generation.pk)) == "succeeded"
    generation.refresh_from_db()
    assert generation.images.count() == generation.requested_images
    assert generation.request_id.startswith("req_")
    assert generation.started_at <= generation.finished_at
    assert generation.upstream_ms is not None
    assert (generation.error_code, generation.images_failed) == ("", 0)


def test_a_gpt_image_run_records_the_usage_and_the_settings_it_was_given(alice: User) -> None:
    generation = queued(alice, GPT)
    run_generation.call(str(generation.pk))
    generation.refresh_from_db()
    assert generation.usage["output_tokens"] > 0
    assert generation.returned_settings == {
        "size": "1024x1024",
        "quality": "low",
        "background": "opaque",
        "output_format": "png",
    }


def test_a_run_of_a_finished_generation_does_nothing(alice: User) -> None:
    generation = queued(alice)
    run_generation.call(str(generation.pk))
    assert run_generation.call(str(generation.pk)) == "succeeded"
    assert Image.objects.count() == 1


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("insufficient_quota", "insufficient_quota"),
        ("unauthorized", "auth_failed"),
        ("html", "bad_response"),
        ("not_an_image", "download_failed"),  # a URL result whose bytes are not an image
        ("expired_url", "download_failed"),
    ],
)
@pytest.mark.parametrize("model", [SEEDREAM, QWEN])
def test_a_failure_is_recorded_with_its_code_and_keeps_nothing(
    alice: User, model: str, fault: str, code: str
) -> None:
    generation = queued(alice, model, prompt=f"[fault:{fault}] a kite")
    assert run_generation.call(str(generation.pk)) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == code
    assert generation.error_message
    assert generation.finished_at
    assert not Image.objects.exists()


@pytest.mark.parametrize(
    ("model", "parameters"), [(SEEDREAM, {"response_format": "b64_json"}), (GPT, {})]
)
def test_base64_that_is_not_an_image_fails_the_generation(
    alice: User, model: str, parameters: dict[str, Any]
) -> None:
    generation = queued(alice, model, prompt="[fault:not_an_image] x", **parameters)
    assert run_generation.call(str(generation.pk)) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == "bad_image"
    assert not Image.objects.exists()


@pytest.mark.parametrize(
    ("model", "parameters"), [(SEEDREAM, {"n": 3}), (GPT, {"n": 3})], ids=["url", "b64_json"]
)
def test_some_images_saved_and_some_failed_is_done_with_a_count(
    alice: User, monkeypatch: pytest.MonkeyPatch, model: str, parameters: dict[str, Any]
) -> None:
    real_ingest = tasks.ingest_image

    def ingest_all_but_the_second(generation: Generation, index: int, data: bytes, **kw: Any):
        if index == 1:
            raise InvalidImage("The image could not be read.")
        return real_ingest(generation, index, data, **kw)

    monkeypatch.setattr(tasks, "ingest_image", ingest_all_but_the_second)
    generation = queued(alice, model, **parameters)
    assert run_generation.call(str(generation.pk)) == "succeeded"
    generation.refresh_from_db()
    assert sorted(generation.images.values_list("index", flat=True)) == [0, 2]
    assert generation.images_failed == 1
    assert generation.error_code == "bad_image"


def test_a_job_cancelled_while_the_upstream_works_saves_nothing(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    generation = queued(alice, n=2)
    real_generate = service.generate

    def generate_then_cancel(*args: Any, **kwargs: Any) -> Any:
        result = real_generate(*args, **kwargs)
        Generation.objects.get(pk=generation.pk).cancel()  # the person pressed Cancel
        return result

    monkeypatch.setattr(service, "generate", generate_then_cancel)
    assert run_generation.call(str(generation.pk)) == "cancelled"
    assert not Image.objects.exists()


@pytest.mark.parametrize(
    ("model", "parameters"),
    [(GPT, {"n": 3}), (SEEDREAM, {"n": 3, "response_format": "url"})],
    ids=["b64_json", "url"],
)
def test_a_cancel_between_two_images_keeps_only_the_first(
    alice: User, monkeypatch: pytest.MonkeyPatch, model: str, parameters: dict[str, Any]
) -> None:
    generation = queued(alice, model, **parameters)
    real_ingest = tasks.ingest_image

    def ingest_then_cancel(*args: Any, **kwargs: Any) -> Image:
        image = real_ingest(*args, **kwargs)
        Generation.objects.get(pk=generation.pk).cancel()
        return image

    monkeypatch.setattr(tasks, "ingest_image", ingest_then_cancel)
    assert run_generation.call(str(generation.pk)) == "cancelled"
    assert Image.objects.count() == 1
    assert Generation.objects.get(pk=generation.pk).status == "cancelled"


def streaming(owner: User, partial_images: int) -> Generation:
    """A queued GPT image job that streams `partial_images` previews."""
    parameters = {
        "n": 1,
        "size": "1024x1024",
        "quality": "low",
        "output_format": "png",
        "background": "auto",
        "moderation": "auto",
        "stream": True,
        "partial_images": partial_images,
    }
    return Generation.objects.create(
        owner=owner, model_name=GPT, prompt="a glass fox", parameters=parameters
    )


def test_streamed_partial_images_become_previews(alice: User) -> None:
    generation = streaming(alice, partial_images=2)
    assert run_generation.call(str(generation.pk)) == "succeeded"
    generation.refresh_from_db()
    assert generation.previews_received == 2
    assert generation.preview is None  # the image replaced the preview
    assert generation.images.count() == 1


def test_a_cancel_during_streaming_stops_the_stream(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    generation = streaming(alice, partial_images=3)
    real_keep = tasks.keep_preview
    kept: list[int] = []

    def keep_then_cancel(job: Generation, partial: PartialImage) -> None:
        kept.append(partial.index)
        real_keep(job, partial)
        Generation.objects.get(pk=generation.pk).cancel()

    monkeypatch.setattr(tasks, "keep_preview", keep_then_cancel)
    assert run_generation.call(str(generation.pk)) == "cancelled"
    assert kept == [0, 1]  # the second preview found the job cancelled; the third never came
    assert not Image.objects.exists()


# A model the upstream has shut down (api.md §8): the offline provider answers 404 model_not_found.


@pytest.mark.parametrize(
    ("model", "replacement"),
    [("gpt-image-1.5", "GPT Image 2.6 Sunburst"), ("dall-e-3", "GPT Image 2")],
)
def test_a_job_for_a_retired_model_fails_and_names_the_replacement(
    alice: User, model: str, replacement: str
) -> None:
    generation = queued(alice, model)
    assert run_generation.call(str(generation.pk)) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == "model_not_found"
    label = ImageModel.objects.get(name=model).label
    assert generation.error_message == MODEL_GONE_USE % {
        "model": label,
        "replacement": replacement,
    }
    assert generation.shown_error_message == (
        f"{label} is no longer available from the image service; use {replacement} instead."
    )
    assert generation.finished_at is not None
    assert not Image.objects.exists()


@pytest.mark.parametrize("language", ["ar", "ja"])
def test_a_retired_models_message_names_both_models_in_every_language(
    alice: User, language: str
) -> None:
    generation = queued(alice, "gpt-image-1.5")
    run_generation.call(str(generation.pk))
    generation.refresh_from_db()
    with translation.override(language):
        shown = generation.shown_error_message
    # Labels are names: they stay as they are around whatever the sentence becomes.
    assert "GPT Image 1.5" in shown
    assert "GPT Image 2.6 Sunburst" in shown


def test_a_retired_model_with_no_replacement_is_named_alone(alice: User) -> None:
    ImageModel.objects.filter(name="gpt-image-1").update(replacement="")
    generation = queued(alice, "gpt-image-1")
    run_generation.call(str(generation.pk))
    generation.refresh_from_db()
    assert generation.error_code == "model_not_found"
    assert generation.error_message == MODEL_GONE % {"model": "GPT Image 1"}


def test_a_model_not_found_withdraws_the_model_from_new_jobs_at_once(alice: User) -> None:
    # A sync said the key still offered it: new jobs could choose it.
    UpstreamModel.objects.create(name="gpt-image-1.5", offered=True)
    assert "gpt-image-1.5" in {m.name for m in ImageModel.objects.for_new_jobs()}
    generation = queued(alice, "gpt-image-1.5")
    run_generation.call(str(generation.pk))
    live = UpstreamModel.objects.get(name="gpt-image-1.5")
    assert live.offered is False
    assert live.checked_at is not None
    assert "gpt-image-1.5" not in {m.name for m in ImageModel.objects.for_new_jobs()}
    assert GPT in {m.name for m in ImageModel.objects.for_new_jobs()}  # only that model


def test_a_retired_model_never_synced_is_recorded_as_not_offered(alice: User) -> None:
    assert not UpstreamModel.objects.filter(name="dall-e-3").exists()
    generation = queued(alice, "dall-e-3")
    run_generation.call(str(generation.pk))
    assert UpstreamModel.objects.get(name="dall-e-3").offered is False


def test_other_failures_leave_the_live_model_list_alone(alice: User) -> None:
    generation = queued(alice, GPT, prompt="[fault:server_error] a kite")
    assert run_generation.call(str(generation.pk)) == "failed"
    assert not UpstreamModel.objects.exists()


def test_a_failed_job_records_every_request_it_made_and_its_page_says_so(
    alice: User, alice_client: Any, settings: Any
) -> None:
    """Issue 14: a job that failed after three requests recorded 0 attempts."""
    settings.COMETAPI_MAX_RETRIES = 2
    generation = queued(alice, QWEN, prompt="[fault:server_error] a kite")
    assert run_generation.call(str(generation.pk)) == "failed"
    generation.refresh_from_db()
    assert generation.attempts == 3  # the first request and two retries
    assert generation.request_id  # the last answer's id, for the upstream's support
    page = alice_client.get(f"/generations/{generation.pk}/").content.decode()
    assert "<dt>Attempts</dt><dd>3</dd>" in page
    refused = queued(alice, QWEN, prompt="[fault:moderation_blocked] a kite")
    run_generation.call(str(refused.pk))
    refused.refresh_from_db()
    assert refused.attempts == 1  # not retried: one request
