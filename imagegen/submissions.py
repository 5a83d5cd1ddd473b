"""Making jobs: a validated form (or an image's settings, or a job tried again) becomes a
queued Generation, checked once more as it will be sent, counted against the person's limits,
and handed to the task queue (imagegen.tasks runs it).

Each form carries a token (imagegen.forms.submit_token): the same form sent again, its first
answer lost on the way, finds the job it already made, under the person's lock, instead of
making and billing a second.
"""

import secrets
import uuid
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext

from gallery.models import Comparison, Image, ImageInput
from imagegen import service
from imagegen.catalogue import EDITS, GENERATIONS, ModelSpec
from imagegen.costs import budgets, ledger
from imagegen.forms import GenerateForm, choose_model
from imagegen.forms.references import PlannedInput
from imagegen.models import Generation, ImageModel
from imagegen.models.keys import PersonalKey
from imagegen.tasks import enqueue


def submit_generation(
    owner: User, form: GenerateForm, token: uuid.UUID | None = None
) -> Generation:
    """Record a validated request, with the images it starts from, as a queued Generation and
    hand it to the task queue; or, for a form sent again, the job its token already made."""
    with transaction.atomic():
        if made := already_made(owner, token):
            return made[0]
        return _job_for(owner, form, token)


def submit_comparison(
    owner: User, forms: list[GenerateForm], token: uuid.UUID | None = None
) -> Comparison:
    """One prompt on several models: a job per validated form, kept together as a comparison
    in the order the form listed them (the chosen model first); every job carries the token."""
    with transaction.atomic():
        if made := already_made(owner, token):
            kept = Comparison.objects.filter(owner=owner, entries__generation=made[0]).first()
            # Its comparison was deleted since, or the first send compared nothing: the jobs
            # shown together again, still without making or billing any.
            return kept or Comparison.objects.start_for_jobs(owner, made, title=made[0].prompt)
        jobs = [_job_for(owner, form, token) for form in forms]
        return Comparison.objects.start_for_jobs(owner, jobs, title=forms[0].cleaned_data["prompt"])


def already_made(owner: User, token: uuid.UUID | None) -> list[Generation]:
    """The jobs a form with this token already made for this person (the answer to its first
    send was lost), oldest first. Looked for inside the submit's transaction and under the
    person's lock, so two sends of one form at once cannot both find nothing."""
    if token is None:
        return []
    budgets.hold_for_person(owner)
    return list(Generation.objects.filter(owner=owner, submit_token=token).order_by("created_at"))


def _job_for(owner: User, form: GenerateForm, token: uuid.UUID | None) -> Generation:
    return create_job(
        owner,
        form.job_spec,
        form.endpoint,
        form.cleaned_data["prompt"],
        form.options(),
        form.planned_inputs(),
        token=token,
    )


def create_job(
    owner: User,
    spec: ModelSpec,
    endpoint: str,
    prompt: str,
    options: dict[str, Any],
    inputs: list[PlannedInput],
    *,
    token: uuid.UUID | None = None,
) -> Generation:
    """The one place a job is made: checked once more as it will be sent, then queued."""
    sent = [planned for planned in inputs if planned.role != ImageInput.Role.VARIED]
    if endpoint == EDITS:
        service.build_edit_fields(spec, prompt, options, len(sent))
    else:
        images = spec.references(GENERATIONS)
        counted = {images.name: [str(p.image.uuid) for p in sent]} if images and sent else {}
        service.build_request_body(spec, prompt, options | counted)
    image_model = ImageModel.objects.filter(name=spec.name).first()
    estimate = image_model and ledger.estimate_for(image_model, options, prompt, len(sent))
    with transaction.atomic():
        # Counted against the person's limits one submit at a time (imagegen/costs/budgets.py).
        budgets.hold_for_person(owner)
        own_key = PersonalKey.objects.filter(user=owner).exists()
        budgets.check_limits(
            owner,
            images=int(options.get("n", 1)),
            estimate=estimate.amount if estimate else None,
            currency=estimate.currency if estimate else "",
            has_price=estimate is not None,
            own_key=own_key,
        )
        generation = Generation.objects.create(
            owner=owner,
            model_name=spec.name,
            endpoint=endpoint,
            prompt=prompt,
            parameters=options,
            estimated_cost=estimate.amount if estimate else None,
            cost_currency=estimate.currency if estimate else "",
            on_own_key=own_key,
            submit_token=token,
        )
        ImageInput.objects.bulk_create(
            ImageInput(
                generation=generation,
                image=planned.image,
                image_uuid=planned.image.uuid,
                role=planned.role,
                position=position,
                mask=planned.mask,
            )
            for position, planned in enumerate(inputs)
        )
        enqueue(generation)
    return generation


class CannotRunAgain(Exception):
    """Why a job cannot run again as it was; `message` is safe to show (translated)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def submit_variation(owner: User, image: Image, token: uuid.UUID | None = None) -> Generation:
    """Run an image's settings again, with the same inputs and mask: a new random value where
    the schema says so (a seed), the retired model's replacement where it has one."""
    if image.generation is None:
        raise CannotRunAgain(gettext("An uploaded image has no settings to run again: edit it."))
    with transaction.atomic():
        if again := already_made(owner, token):
            return again[0]
        return _run_again(owner, image.generation, varied=image, token=token)


def submit_retry(owner: User, made: Generation, token: uuid.UUID | None = None) -> Generation:
    """A job that failed or was cancelled, once more: the same model, settings and inputs."""
    if made.status not in {Generation.Status.FAILED, Generation.Status.CANCELLED}:
        raise CannotRunAgain(gettext("Only a job that failed or was cancelled is tried again."))
    with transaction.atomic():
        if again := already_made(owner, token):
            return again[0]
        return _run_again(owner, made, varied=None, token=token)


def _run_again(
    owner: User, made: Generation, *, varied: Image | None, token: uuid.UUID | None
) -> Generation:
    chosen = choose_model(made.model_name, ImageModel.objects.for_new_jobs())
    if chosen.model is None or (chosen.model.name != made.model_name and not chosen.replaced):
        raise CannotRunAgain(gettext("Its model is not available any more: remix it with another."))
    spec = chosen.model.spec()
    if made.endpoint == EDITS and not spec.can_edit:
        raise CannotRunAgain(gettext("Its model no longer edits images: remix it with another."))
    options = dict(made.parameters)
    for parameter in spec.parameters if varied is not None else ():
        if parameter.new_on_vary and parameter.minimum is not None and parameter.maximum:
            low, high = int(parameter.minimum), int(parameter.maximum)
            options[parameter.name] = low + secrets.randbelow(high - low + 1)
    kept = [i for i in made.inputs.select_related("image") if i.is_sent]
    if any(i.image is None for i in kept):
        raise CannotRunAgain(gettext("An image it started from was deleted."))
    inputs = [PlannedInput(i.image, i.role, i.mask and bytes(i.mask)) for i in kept if i.image]
    if varied is not None:
        inputs.append(PlannedInput(varied, ImageInput.Role.VARIED))
    try:
        return create_job(
            owner,
            spec.for_endpoint(made.endpoint),
            made.endpoint,
            made.prompt,
            options,
            inputs,
            token=token,
        )
    except budgets.OverLimit as over:
        raise CannotRunAgain(over.message) from None
    except ValueError:
        raise CannotRunAgain(
            gettext("Its settings are no longer accepted by %(model)s: remix it to adjust them.")
            % {"model": spec.label}
        ) from None
