"""The generate page and the generation status page."""

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from imagegen.forms import GenerateForm, NoModelAvailable, initial_from
from imagegen.models import Generation
from imagegen.tasks import submit_generation

RECENT_GENERATIONS = 12


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_http_methods(["GET", "POST"])
def generate(request: HtmxHttpRequest) -> HttpResponse:
    """Show the form; on a valid POST, queue the generation.

    A POST with `switch_model` (the no-JavaScript "Change model" button) only re-renders the
    form for the newly chosen model; htmx does the same with a GET when the picker changes.
    """
    form: GenerateForm | None = None
    try:
        if request.method == "POST" and "switch_model" not in request.POST:
            form = GenerateForm(request.POST, owner=request.user)
            if form.is_valid():
                generation = submit_generation(request.user, form)
                if not request.htmx:
                    return redirect("generation", generation_id=generation.pk)
                form = GenerateForm(initial=initial_from(request.POST), owner=request.user)
        else:
            form = GenerateForm(initial=_initial_values(request), owner=request.user)
    except NoModelAvailable:
        form = None  # the page says so; an administrator enables a model in admin
    template = "imagegen/generate.html"
    if request.htmx.target == "model-fields":
        template += "#model-fields"
    elif request.htmx and request.method == "POST":
        template += "#layout"
    recent = list(
        Generation.objects.for_user(request.user).prefetch_related("images")[:RECENT_GENERATIONS]
    )
    response = render(request, template, {"form": form, "recent": recent})
    # Jobs that ended while the person was away were just shown marked "new"; now they are seen.
    Generation.objects.filter(pk__in=[g.pk for g in recent if g.is_new]).update(
        seen_at=timezone.now()
    )
    return response


def _initial_values(request: HtmxHttpRequest) -> dict[str, Any]:
    """Prefill from a remixed generation of the person's own, or from the submitted values."""
    remix = request.GET.get("remix")
    if remix:
        try:
            generation = Generation.objects.for_user(request.user).get(pk=uuid.UUID(remix))
        except (ValueError, Generation.DoesNotExist):
            raise Http404 from None
        return generation.form_initial()
    values = initial_from(request.POST or request.GET)
    if "reference" in request.GET:  # "Use as reference" from an image's page
        values["reference"] = request.GET.getlist("reference")
    return values


@require_GET
def generation_detail(request: HtmxHttpRequest, generation_id: str) -> HttpResponse:
    """The job's page; its card polls this URL (htmx) until the job has ended."""
    generation = get_object_or_404(
        Generation.objects.for_user(request.user).prefetch_related("images"), pk=generation_id
    )
    if not request.htmx:
        generation.mark_seen()
        return render(request, "imagegen/generation_detail.html", {"generation": generation})
    response = render(request, "includes/generation_card.html", {"generation": generation})
    if generation.is_finished:
        generation.mark_seen()  # it ended in front of the person
        return HttpResponseStopPolling(response.content)
    return response


@require_POST
def cancel_generation(request: HtmxHttpRequest, generation_id: str) -> HttpResponse:
    generation = get_object_or_404(Generation.objects.for_user(request.user), pk=generation_id)
    generation.cancel()
    if request.htmx:
        response = render(request, "includes/generation_card.html", {"generation": generation})
        return HttpResponseStopPolling(response.content)
    return redirect("generation", generation_id=generation.pk)


@require_GET
def generation_preview(request: HtmxHttpRequest, generation_id: str) -> HttpResponse:
    """The newest streamed partial image of a running job, as a small WebP."""
    generation = get_object_or_404(Generation.objects.for_user(request.user), pk=generation_id)
    if not generation.preview:
        raise Http404
    response = HttpResponse(bytes(generation.preview), content_type="image/webp")
    response["Cache-Control"] = "private, no-store"  # replaced by the next partial image
    return response
