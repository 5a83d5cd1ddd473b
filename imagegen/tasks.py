"""The generation job: call the endpoint, then keep every image it returned, once.

imagegen.submissions records a request and `enqueue`s `run_generation` through Django's tasks
API (django-tasks-db by default, so a job outlives the request, the tab and a server restart).
The task keeps this module's path: queued rows name it.
A job may be delivered more than once (a worker killed mid-job is retried): `claim()` makes sure
only one run proceeds, and the (generation, index) uniqueness makes sure no image is kept twice.
"""

import functools
import logging
import os
import socket
from contextlib import AbstractContextManager, nullcontext

from django.db import transaction
from django.tasks import task
from django.utils.translation import gettext_noop

from gallery.ingest import InvalidImage, NotWanted, ingest_image, verify_image
from gallery.models import Image, ImageInput
from imagegen import logs, service
from imagegen.catalogue import EDITS, GENERATIONS, ModelSpec
from imagegen.costs import ledger
from imagegen.edit_inputs import InputGone, data_uri, read_inputs
from imagegen.job_messages import INPUT_GONE, MODEL_GONE, MODEL_GONE_USE
from imagegen.models import Generation, ImageModel, UpstreamModel
from imagegen.models.keys import NoKeyToUse, job_key
from imagegen.service import PartialImage, UpstreamError

logger = logging.getLogger(__name__)


class JobCancelled(Exception):  # a control-flow signal, not an error
    """The person cancelled the job while it ran: stop, and save nothing more."""


def this_worker_id() -> str:
    """The process running jobs here; recovery asks whether this process is still alive."""
    return f"{socket.gethostname()[:150]}:{os.getpid()}"  # fits the 200-character columns


def enqueue(generation: Generation) -> None:
    # Only once the row is committed, so a worker can never look for a missing row.
    transaction.on_commit(lambda: run_generation.enqueue(str(generation.pk)))


@task()
@logs.for_generation  # every line of the job carries its id, on any tasks backend
def run_generation(generation_id: str) -> str:
    """Run one queued generation to its end; returns the final status."""
    generation = Generation.objects.filter(pk=generation_id).first()
    if generation is None:  # deleted with its owner's account while it waited
        return Generation.Status.CANCELLED
    if not generation.claim(this_worker_id()):
        return generation.status  # cancelled, or already run by another delivery of this task
    # The model may have been disabled since the form was sent; its schema still describes
    # what was validated, so the job runs as submitted.
    image_model = ImageModel.objects.get(name=generation.model_name)
    try:
        result = _call_upstream(generation, image_model.spec())
    except InputGone:
        ledger.record_not_billed(generation)
        generation.mark_failed("input_gone", INPUT_GONE)
        return generation.status
    except JobCancelled:
        return Generation.Status.CANCELLED
    except UpstreamError as error:
        ledger.record_not_billed(generation)
        message = error.message
        if error.code == "model_not_found":
            UpstreamModel.mark_not_found(image_model.name)
            message = _model_gone_message(image_model)
        generation.mark_failed(
            error.code, message, attempts=error.attempts, request_id=error.request_id
        )
        return generation.status
    # Answered, so billed: the cost is kept even if the job was cancelled meanwhile.
    ledger.record_answer(generation, image_model.price, result.usage, len(result.images))
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
            with _image_bytes(returned) as data:  # a download: in memory within its budget
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
    if saved:
        Image.objects.filter(generation=generation).update(
            cost=ledger.image_share(generation), cost_currency=generation.cost_currency
        )
    generation.mark_finished(
        saved=saved, failed=failed, error_code=error_code, error_message=error_message
    )
    return generation.status


def _call_upstream(generation: Generation, spec: ModelSpec) -> service.GenerationResult:
    """Send the job to its endpoint, with the images it starts from, and the owner's own key
    when they have one (decrypted now, for this request only) else the site's."""
    api_key = _owners_key(generation)
    inputs = [i for i in generation.inputs.select_related("image") if i.is_sent]
    files = read_inputs(inputs)
    on_partial = functools.partial(keep_preview, generation)
    if generation.endpoint == EDITS:
        edited = inputs[0] if inputs and inputs[0].role == ImageInput.Role.EDITED else None
        mask = bytes(edited.mask) if edited is not None and edited.mask else None
        return service.edit(
            spec,
            generation.prompt,
            generation.parameters,
            files,
            mask=mask,
            on_partial=on_partial,
            api_key=api_key,
        )
    options = dict(generation.parameters)
    images = spec.references(GENERATIONS)
    if files and images is not None:
        options[images.name] = [data_uri(file) for file in files]
    return service.generate(
        spec, generation.prompt, options, on_partial=on_partial, api_key=api_key
    )


def _owners_key(generation: Generation) -> str | None:
    """The job's key (imagegen.models.keys.job_key); when there is none it may use, the job fails
    as an upstream refusal would, before any request (not retryable: a person must act)."""
    try:
        key = job_key(generation.owner)
    except NoKeyToUse as missing:
        raise UpstreamError(missing.code, missing.message, retryable=False, attempts=0) from None
    if generation.on_own_key != (key is not None):  # the key was added or removed since
        generation.on_own_key = key is not None
        Generation.objects.filter(pk=generation.pk).update(on_own_key=generation.on_own_key)
    return key


def keep_preview(generation: Generation, partial: PartialImage) -> None:
    """Store a small WebP of a streamed partial image, for the job's card to show."""
    try:
        preview = verify_image(partial.data).thumbnail
    except InvalidImage:
        return  # a broken preview is not worth failing a job that may still finish well
    if not generation.save_preview(preview):
        raise JobCancelled


def _image_bytes(returned: service.ReturnedImage) -> AbstractContextManager[bytes]:
    """A result's bytes: inline, or downloaded and counted in the process's memory budget until
    the block ends (imagegen/downloads.py)."""
    if returned.data is not None:
        return nullcontext(returned.data)
    if not returned.url:
        raise UpstreamError(
            "bad_response",
            gettext_noop("The image service returned an empty result."),
            retryable=False,
        )
    return service.downloaded_image(returned.url)


def _model_gone_message(image_model: ImageModel) -> str:
    """What a job says when the upstream no longer knows its model: stored in English, with the
    replacement named when there is one (job_messages translates it when shown)."""
    replacement = ImageModel.objects.filter(name=image_model.replacement).first()
    if replacement:
        return MODEL_GONE_USE % {"model": image_model.label, "replacement": replacement.label}
    return MODEL_GONE % {"model": image_model.label}
