"""The generation task: call the endpoint, then keep every image it returned."""

import logging

from django.contrib.auth.models import User
from django.db import transaction
from django.tasks import task

from gallery.ingest import InvalidImage, ingest_image
from imagegen import service
from imagegen.forms import GenerateForm
from imagegen.models import Generation, ImageModel
from imagegen.service import UpstreamError

logger = logging.getLogger(__name__)


@task()
def run_generation(generation_id: str) -> str:
    """Run one queued generation to its end; returns the final status."""
    generation = Generation.objects.get(pk=generation_id)
    if generation.status != Generation.Status.QUEUED:
        return generation.status  # already run, e.g. a duplicate delivery of the task
    generation.mark_running()
    # The model may have been disabled since the form was sent; its profile still describes
    # what was validated, so the job runs as submitted.
    profile = ImageModel.objects.get(name=generation.model_name).profile()
    try:
        result = service.generate(profile, generation.prompt, generation.parameters)
    except UpstreamError as error:
        generation.mark_failed(error.code, error.message)
        return generation.status
    generation.record_response(
        request_id=result.request_id,
        usage=result.usage,
        returned_settings=result.returned_settings,
        attempts=result.attempts,
        upstream_ms=result.upstream_ms,
    )
    saved, failed, error_code, error_message = 0, 0, "", ""
    for returned in result.images:
        try:
            data = returned.data if returned.data is not None else _download(returned.url)
            ingest_image(generation, returned.index, data, revised_prompt=returned.revised_prompt)
            saved += 1
        except (UpstreamError, InvalidImage) as error:
            logger.warning(
                "generation %s image %s not saved: %s", generation.pk, returned.index, error.code
            )
            failed += 1
            # The first failure explains the rest; one line is enough for the person.
            error_code = error_code or error.code
            error_message = error_message or error.message
    generation.mark_finished(
        saved=saved, failed=failed, error_code=error_code, error_message=error_message
    )
    return generation.status


def _download(url: str | None) -> bytes:
    if not url:
        raise UpstreamError(
            "bad_response", "The image service returned an empty result.", retryable=False
        )
    return service.download_image(url)


def submit_generation(owner: User, form: GenerateForm) -> Generation:
    """Record a validated request as a queued Generation and hand it to the task queue."""
    prompt = form.cleaned_data["prompt"]
    body = service.build_request_body(form.profile, prompt, form.options())
    generation = Generation.objects.create(
        owner=owner,
        model_name=form.profile.name,
        prompt=prompt,
        parameters={key: value for key, value in body.items() if key not in {"model", "prompt"}},
    )
    # Enqueue only once the row is committed, so a worker can never look for a missing row.
    transaction.on_commit(lambda: run_generation.enqueue(str(generation.pk)))
    return generation
