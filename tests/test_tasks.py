"""The generation task: every way a run can end, through the offline provider."""

import pytest

from gallery.ingest import InvalidImage
from gallery.models import Image
from imagegen.models import Generation
from imagegen.tasks import run_generation


def queued(owner, model: str = "dall-e-2", prompt: str = "a kite", **parameters) -> Generation:
    parameters = {"n": 1, "size": "256x256", "response_format": "url"} | parameters
    return Generation.objects.create(
        owner=owner, model_name=model, prompt=prompt, parameters=parameters
    )


def test_a_run_saves_every_image_and_records_the_response(alice) -> None:
    generation = queued(alice, n=3)
    assert run_generation.call(str(generation.pk)) == "succeeded"
    generation.refresh_from_db()
    assert generation.images.count() == 3
    assert generation.request_id.startswith("req_")
    assert generation.started_at <= generation.finished_at
    assert generation.upstream_ms is not None


def test_a_run_of_a_finished_generation_does_nothing(alice) -> None:
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
def test_a_failure_is_recorded_with_its_code_and_keeps_nothing(alice, fault, code) -> None:
    generation = queued(alice, prompt=f"[fault:{fault}] a kite")
    assert run_generation.call(str(generation.pk)) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == code
    assert generation.error_message
    assert generation.finished_at
    assert not Image.objects.exists()


def test_base64_that_is_not_an_image_fails_the_generation(alice) -> None:
    generation = queued(alice, prompt="[fault:not_an_image] x", response_format="b64_json")
    assert run_generation.call(str(generation.pk)) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == "bad_image"


def test_some_images_saved_and_some_failed_is_done_with_a_count(alice, monkeypatch) -> None:
    from imagegen import tasks

    real_ingest = tasks.ingest_image

    def ingest_all_but_the_second(generation, index, data, **kwargs):
        if index == 1:
            raise InvalidImage("The image could not be read.")
        return real_ingest(generation, index, data, **kwargs)

    monkeypatch.setattr(tasks, "ingest_image", ingest_all_but_the_second)
    generation = queued(alice, n=3)
    assert run_generation.call(str(generation.pk)) == "succeeded"
    generation.refresh_from_db()
    assert generation.images.count() == 2
    assert generation.images_failed == 1
    assert generation.error_code == "bad_image"


def test_a_job_cancelled_while_the_upstream_works_saves_nothing(alice, monkeypatch) -> None:
    from imagegen import service

    generation = queued(alice, n=2)
    real_generate = service.generate

    def generate_then_cancel(*args, **kwargs):
        result = real_generate(*args, **kwargs)
        Generation.objects.get(pk=generation.pk).cancel()  # the person pressed Cancel
        return result

    monkeypatch.setattr(service, "generate", generate_then_cancel)
    assert run_generation.call(str(generation.pk)) == "cancelled"
    assert not Image.objects.exists()


def test_a_cancel_between_two_images_keeps_only_the_first(alice, monkeypatch) -> None:
    from imagegen import tasks

    generation = queued(alice, n=3, response_format="b64_json")
    real_ingest = tasks.ingest_image

    def ingest_then_cancel(*args, **kwargs):
        image = real_ingest(*args, **kwargs)
        Generation.objects.get(pk=generation.pk).cancel()
        return image

    monkeypatch.setattr(tasks, "ingest_image", ingest_then_cancel)
    assert run_generation.call(str(generation.pk)) == "cancelled"
    assert Image.objects.count() == 1
    assert Generation.objects.get(pk=generation.pk).status == "cancelled"


def streaming(owner, partial_images: int) -> Generation:
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
        owner=owner, model_name="gpt-image-1", prompt="a glass fox", parameters=parameters
    )


def test_streamed_partial_images_become_previews(alice) -> None:
    generation = streaming(alice, partial_images=2)
    assert run_generation.call(str(generation.pk)) == "succeeded"
    generation.refresh_from_db()
    assert generation.previews_received == 2
    assert generation.preview is None  # the image replaced the preview
    assert generation.images.count() == 1


def test_a_cancel_during_streaming_stops_the_stream(alice, monkeypatch) -> None:
    from imagegen import tasks

    generation = streaming(alice, partial_images=3)
    real_keep = tasks.keep_preview

    def keep_then_cancel(job, partial):
        real_keep(job, partial)
        Generation.objects.get(pk=generation.pk).cancel()

    monkeypatch.setattr(tasks, "keep_preview", keep_then_cancel)
    assert run_generation.call(str(generation.pk)) == "cancelled"
    assert not Image.objects.exists()
