"""Changing one of one's images: the editor (a prompt, a model that can change it, a mask) and
Vary (its settings again, at once)."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from gallery.models import Image
from imagegen.forms import EditForm, NoModelAvailable, initial_from
from imagegen.tasks import CannotVary, submit_generation, submit_variation


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
                generation = submit_generation(request.user, form)
                return redirect("generation", generation_id=generation.pk)
        else:
            initial = _initial(request, source)
            form = EditForm(initial=initial, owner=request.user, source=source)
    except NoModelAvailable:
        form = None
    template = "imagegen/edit.html"
    if getattr(request, "htmx", False) and request.htmx.target == "model-fields":
        template += "#model-fields"
    return render(request, template, {"form": form, "source": source})


def _initial(request: HttpRequest, source: Image) -> dict[str, Any]:
    """Prefill from the query string (a model switch) or, for "edit again", the source's own
    prompt and model when they still fit."""
    values = initial_from(request.POST or request.GET)
    if not values and source.generation_id is not None:
        values = {"prompt": source.prompt, "model": source.model_name}
    values.pop("mask", None)
    if "reference" in (request.POST or request.GET):
        values["reference"] = (request.POST or request.GET).getlist("reference")
    return values


@require_POST
def vary_image(request: HttpRequest, image_id: str) -> HttpResponse:
    image = get_object_or_404(Image.objects.for_user(request.user), uuid=image_id)
    try:
        generation = submit_variation(request.user, image)
    except CannotVary as refused:
        messages.error(request, refused.message)
        return redirect("image_detail", image_id=image.uuid)
    return redirect("generation", generation_id=generation.pk)
