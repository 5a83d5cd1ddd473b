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
