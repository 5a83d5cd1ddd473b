"""Changing one of one's images: the editor (a prompt, a model that can change it, a mask) and
Vary (its settings again, at once)."""

import base64
import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from gallery.models import Image, ImageInput
from imagegen.costs.budgets import OverLimit
from imagegen.costs.estimates import render_estimate, with_some_prompt
from imagegen.feed import own_collections
from imagegen.forms import EditForm, NoModelAvailable, initial_from
from imagegen.forms.submit_token import submit_token_from
from imagegen.models import Generation
from imagegen.submissions import CannotRunAgain, submit_generation, submit_variation


@require_http_methods(["GET", "POST"])
def edit_image(request: HttpRequest, image_id: str) -> HttpResponse:
    """The editor. A POST with `switch_model` (no JavaScript) or an htmx GET for #model-fields
    only redraws the options for another model; the painted mask stays in the page."""
    source = get_object_or_404(Image.objects.for_user(request.user), uuid=image_id)
    form: EditForm | None = None
    try:
        if request.method == "POST" and "switch_model" not in request.POST:
            form = EditForm(request.POST, request.FILES, owner=request.user, source=source)
            if form.is_valid():
                try:
                    token = submit_token_from(request.POST)
                    generation = submit_generation(request.user, form, token)
                except OverLimit as over:  # nothing was queued; the form keeps its values
                    form.add_error(None, over.message)
                else:
                    return redirect("generation", generation_id=generation.pk)
        else:
            initial = _initial(request, source)
            form = EditForm(initial=initial, owner=request.user, source=source)
    except NoModelAvailable:
        form = None
    template = "imagegen/edit.html"
    model_switch = getattr(request, "htmx", False) and request.htmx.target == "model-fields"
    if model_switch:
        template += "#model-fields"
    context = {"form": form, "source": source, "mask_src": _mask_sent(form)}
    response = render(request, template, context)
    if model_switch:
        response["HX-Trigger-After-Settle"] = "model-fields-changed"  # the estimate follows
    return response


def _mask_sent(form: EditForm | None) -> str:
    """The mask a form came back with (it had another error), to be painted again."""
    mask = form.cleaned_data.get("mask") if form is not None and form.is_bound else None
    if not mask:
        return ""
    return "data:image/png;base64," + base64.b64encode(mask).decode("ascii")


def _initial(request: HttpRequest, source: Image) -> dict[str, Any]:
    """Prefill from the query string (a model switch) or, for "edit again", the source's own
    prompt and model when they still fit."""
    values = initial_from(request.POST or request.GET)
    if remix := request.GET.get("remix"):  # "use these settings again" on an edit
        try:
            made = Generation.objects.for_user(request.user).get(pk=uuid.UUID(remix))
        except (ValueError, Generation.DoesNotExist):
            raise Http404 from None
        return made.form_initial()
    if not values and source.generation_id is not None:
        values = {"prompt": source.prompt, "model": source.model_name}
    values.pop("mask", None)
    if "reference" in (request.POST or request.GET):
        values["reference"] = (request.POST or request.GET).getlist("reference")
    return values


@require_POST
def edit_cost_estimate(request: HttpRequest, image_id: str) -> HttpResponse:
    """What the editor's form as it stands would cost (htmx asks as it changes)."""
    source = get_object_or_404(Image.objects.for_user(request.user), uuid=image_id)
    try:
        form = EditForm(
            with_some_prompt(request.POST), request.FILES, owner=request.user, source=source
        )
    except NoModelAvailable:
        return HttpResponse(b"")
    return render_estimate(request, [form] if form.is_valid() else [])


@require_GET
def generation_mask(request: HttpRequest, generation_id: str) -> HttpResponse:
    """The mask an edit was sent with, to its owner."""
    generation = get_object_or_404(Generation.objects.for_user(request.user), pk=generation_id)
    edited = generation.inputs.filter(role=ImageInput.Role.EDITED, mask__isnull=False).first()
    if edited is None or not edited.mask:
        raise Http404
    response = HttpResponse(bytes(edited.mask), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def vary_image(request: HttpRequest, image_id: str) -> HttpResponse:
    image = get_object_or_404(Image.objects.for_user(request.user), uuid=image_id)
    try:
        generation = submit_variation(request.user, image, submit_token_from(request.POST))
    except CannotRunAgain as refused:
        messages.error(request, refused.message)
        if request.htmx:  # the message waits on the image's page
            return HttpResponseClientRedirect(image.get_absolute_url())
        return redirect("image_detail", image_id=image.uuid)
    if request.htmx and request.POST.get("from_feed"):  # the new job joins the top of the feed
        context = {
            "made": [generation],
            "collections": own_collections(request.user),
            "renewed_token": f"vary-token-{image.uuid}",  # a second click is a second job
        }
        return render(request, "includes/new_jobs.html", context)
    return redirect("generation", generation_id=generation.pk)
