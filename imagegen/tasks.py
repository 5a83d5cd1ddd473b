"""The generation job: call the endpoint, then keep every image it returned, once.

`submit_generation` records the request and enqueues `run_generation` through Django's tasks
API (django-tasks-db by default, so a job outlives the request, the tab and a server restart).
A job may be delivered more than once (a worker killed mid-job is retried): `claim()` makes sure
only one run proceeds, and the (generation, index) uniqueness makes sure no image is kept twice.
"""

import logging
import os
import socket

from django.contrib.auth.models import User
from django.db import transaction
from django.tasks import task
from django.utils.translation import gettext_noop

from gallery.ingest import InvalidImage, NotWanted, ingest_image, verify_image
from imagegen import service
from imagegen.forms import GenerateForm
from imagegen.job_messages import MODEL_GONE, MODEL_GONE_USE
from imagegen.models import Generation, ImageModel, UpstreamModel
from imagegen.service import PartialImage, UpstreamError

logger = logging.getLogger(__name__)


class JobCancelled(Exception):  # a control-flow signal, not an error
    """The person cancelled the job while it ran: stop, and save nothing more."""


def this_worker_id() -> str:
    """The process running jobs here; recovery asks whether this process is still alive."""
    return f"{socket.gethostname()[:150]}:{os.getpid()}"  # fits the 200-character columns


def submit_generation(owner: User, form: GenerateForm) -> Generation:
    """Record a validated request as a queued Generation and hand it to the task queue."""
    prompt = form.cleaned_data["prompt"]
    body = service.build_request_body(form.spec, prompt, form.options())
    generation = Generation.objects.create(
        owner=owner,
        model_name=form.spec.name,
        prompt=prompt,
        parameters={key: value for key, value in body.items() if key not in {"model", "prompt"}},
    )
    enqueue(generation)
    return generation


def enqueue(generation: Generation) -> None:
    # Only once the row is committed, so a worker can never look for a missing row.
    transaction.on_commit(lambda: run_generation.enqueue(str(generation.pk)))


@task()
def run_generation(generation_id: str) -> str:
    """Run one queued generation to its end; returns the final status."""
    generation = Generation.objects.get(pk=generation_id)
    if not generation.claim(this_worker_id()):
        return generation.status  # cancelled, or already run by another delivery of this task
    # The model may have been disabled since the form was sent; its schema still describes
    # what was validated, so the job runs as submitted.
    image_model = ImageModel.objects.get(name=generation.model_name)
    try:
        result = service.generate(
            image_model.spec(),
            generation.prompt,
            generation.parameters,
            on_partial=lambda partial: keep_preview(generation, partial),
        )
    except JobCancelled:
        return Generation.Status.CANCELLED
    except UpstreamError as error:
        message = error.message
        if error.code == "model_not_found":
            UpstreamModel.mark_not_found(image_model.name)
            message = _model_gone_message(image_model)
        generation.mark_failed(error.code, message)
        return generation.status
    if not generation.record_response(
        request_id=result.request_id,
        usage=result.usage,
        returned_settings=result.returned_settings,
        attempts=result.attempts,
        upstream_ms=result.upstream_ms,
    ):
        return generation.status  # cancelled while the upstream worked
    saved, failed, error_code, error_message = 0, 0, "", ""
    for returned in result.images:
        try:
            data = returned.data if returned.data is not None else _download(returned.url)
            ingest_image(
                generation,
                returned.index,
                data,
                revised_prompt=returned.revised_prompt,
                still_wanted=generation.lock_if_running,
            )
            saved += 1
        except NotWanted:
            return Generation.Status.CANCELLED
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


def keep_preview(generation: Generation, partial: PartialImage) -> None:
    """Store a small WebP of a streamed partial image, for the job's card to show."""
    try:
        preview = verify_image(partial.data).thumbnail
    except InvalidImage:
        return  # a broken preview is not worth failing a job that may still finish well
    if not generation.save_preview(preview):
        raise JobCancelled


def _download(url: str | None) -> bytes:
    if not url:
        raise UpstreamError(
            "bad_response",
            gettext_noop("The image service returned an empty result."),
            retryable=False,
        )
    return service.download_image(url)


def _model_gone_message(image_model: ImageModel) -> str:
    """What a job says when the upstream no longer knows its model: stored in English, with the
    replacement named when there is one (job_messages translates it when shown)."""
    replacement = ImageModel.objects.filter(name=image_model.replacement).first()
    if replacement:
        return MODEL_GONE_USE % {"model": image_model.label, "replacement": replacement.label}
    return MODEL_GONE % {"model": image_model.label}
