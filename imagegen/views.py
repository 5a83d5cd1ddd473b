"""The generate page and the generation status page."""

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from imagegen.costs.budgets import OverLimit
from imagegen.costs.estimates import render_estimate, with_some_prompt
from imagegen.feed import Feed, own_collections
from imagegen.forms import GenerateForm, NoModelAvailable, initial_from
from imagegen.forms.compare import COMPARE, companions, shown_parameters
from imagegen.forms.submit_token import submit_token_from
from imagegen.models import Generation
from imagegen.models.jobs import queue_places
from imagegen.presets import FEED_KEYS, last_settings, typed_initial
from imagegen.submissions import (
    CannotRunAgain,
    submit_comparison,
    submit_generation,
    submit_retry,
)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_http_methods(["GET", "POST"])
def generate(request: HtmxHttpRequest) -> HttpResponse:
    """The create page: the form, and the feed of every job the person made.

    A valid POST queues the job; htmx then gets the form back with the new card for the top of
    the feed (templates/includes/new_jobs.html), and without JavaScript the job's own page. A
    POST with `switch_model` (the no-JavaScript "Change model" button) only re-renders the form
    for the newly chosen model; htmx does the same with a GET when the picker changes. The
    feed's filters and infinite scroll ask for the feed, or one page of it, with a GET.
    """
    if request.htmx.target in ("feed", "feed-more"):
        return _feed(request)
    form: GenerateForm | None = None
    made: list[Generation] = []
    try:
        if request.method == "POST" and "switch_model" not in request.POST:
            submitted = _submit(request)
            if isinstance(submitted, HttpResponse):
                return submitted
            form, made = submitted
        else:
            form = GenerateForm(initial=_initial_values(request), owner=request.user)
    except NoModelAvailable:
        form = None  # the page says so; an administrator enables a model in admin
    ticked = request.POST.getlist(COMPARE) if request.method == "POST" else []
    context: dict[str, Any] = {"form": form, "made": made, "compare_ticked": ticked}
    if request.htmx.target == "model-fields":
        response = render(request, "imagegen/generate.html#model-fields", context)
        response["HX-Trigger-After-Settle"] = "model-fields-changed"  # the estimate follows
        return response
    if request.htmx and request.method == "POST":
        context["collections"] = own_collections(request.user) if made else []
        return render(request, "imagegen/generate.html#panel", context)
    return _feed(request, "imagegen/generate.html", context)


def _submit(request: HtmxHttpRequest) -> HttpResponse | tuple[GenerateForm, list[Generation]]:
    """The form posted: where the page goes next, or the form to draw again (with its errors,
    or fresh with the same values for the next job) and the jobs it made."""
    form = GenerateForm(request.POST, request.FILES, owner=request.user)
    if not form.is_valid():
        return form, []
    others = companions(form, request.POST, request.FILES, request.user)
    if not form.is_valid():  # a model ticked beside it cannot take the request
        return form, []
    token = submit_token_from(request.POST)  # the form sent again: what it already made
    try:
        if others:  # one prompt, several models: they land together, or none does
            forms = [form, *(c.form for c in others)]
            comparison = submit_comparison(request.user, forms, token)
            if request.htmx:
                return HttpResponseClientRedirect(comparison.get_absolute_url())
            return redirect(comparison.get_absolute_url())
        made = [submit_generation(request.user, form, token)]
    except OverLimit as over:  # nothing was queued; the form keeps every value
        form.add_error(None, over.message)
        return form, []
    if not request.htmx:
        return redirect("generation", generation_id=made[0].pk)
    return GenerateForm(initial=initial_from(request.POST), owner=request.user), made


@require_POST
def comparison_plan(request: HtmxHttpRequest) -> HttpResponse:
    """What each model ticked for a comparison will receive, from the form as it stands now
    (htmx asks again whenever it changes). Nothing is saved or sent."""
    try:
        form = GenerateForm(request.POST, request.FILES, owner=request.user)
    except NoModelAvailable:
        return HttpResponse(b"")
    valid = form.is_valid()
    others = companions(form, request.POST, request.FILES, request.user) if valid else []
    context = {
        "form": form,
        "valid": valid,
        "others": others,
        "ticked": request.POST.getlist(COMPARE),
        "primary_sent": shown_parameters(form) if valid else [],
    }
    return render(request, "includes/comparison_plan.html", context)


@require_POST
def cost_estimate(request: HtmxHttpRequest) -> HttpResponse:
    """What the generate form as it stands would cost, for each model it goes to (htmx asks
    again whenever the form changes). Nothing is saved or sent."""
    data = with_some_prompt(request.POST)
    try:
        form = GenerateForm(data, request.FILES, owner=request.user)
    except NoModelAvailable:
        return HttpResponse(b"")
    others = companions(form, data, request.FILES, request.user) if form.is_valid() else []
    valid = form.is_valid() and all(other.form for other in others)
    forms = [form, *(other.form for other in others if other.form)] if valid else []
    return render_estimate(request, forms)


def _feed(
    request: HtmxHttpRequest, template: str = "", context: dict[str, Any] | None = None
) -> HttpResponse:
    """The page (or, for htmx, the feed or its next page) with one page of the feed; jobs that
    ended while the person was away are shown marked "new" once, and so are now seen."""
    feed = Feed.of(request.user, request.GET)
    if not template:
        more = request.htmx.target == "feed-more"
        template = "includes/feed_page.html" if more else "includes/feed.html"
    context = {**(context or {}), "feed": feed, "collections": feed.collections}
    response = render(request, template, context)
    shown = [job.pk for job in feed.page if job.is_new]
    Generation.objects.filter(pk__in=shown).update(seen_at=timezone.now())
    return response


def _initial_values(request: HtmxHttpRequest) -> dict[str, Any]:
    """Prefill from a remixed generation of the person's own, from the values in the address
    or submitted, or else from the person's last job (imagegen/presets.py)."""
    remix = request.GET.get("remix")
    if remix:
        try:
            generation = Generation.objects.for_user(request.user).get(pk=uuid.UUID(remix))
        except (ValueError, Generation.DoesNotExist):
            raise Http404 from None
        return generation.form_initial()
    if request.method == "GET" and set(request.GET) <= FEED_KEYS:
        # Opened afresh (or only paging the feed): the model and options last used.
        return last_settings(request.user)
    values = typed_initial(initial_from(request.POST or request.GET))
    if "reference" in request.GET:  # "Use as reference" from an image's page
        values["reference"] = request.GET.getlist("reference")
    return values


@require_GET
def generation_detail(request: HtmxHttpRequest, generation_id: str) -> HttpResponse:
    """The job's page; its card follows the job through the page's status request."""
    generation = get_object_or_404(
        Generation.objects.for_user(request.user).for_cards(), pk=generation_id
    )
    generation.mark_seen()
    return render(request, "imagegen/generation_detail.html", {"generation": generation})


# At most this many running jobs are asked about at once (a long-scrolled feed can hold many).
MOST_POLLED = 200


@require_GET
def generation_status(request: HtmxHttpRequest) -> HttpResponse:
    """The page's one status request: given each running card's state token (`job`), the cards
    whose job changed since, as out-of-band swaps; 286 (htmx: stop polling) when the page has
    no running job left to ask about."""
    tokens = request.GET.getlist("job")[:MOST_POLLED]
    known: dict[uuid.UUID, str] = {}
    for token in tokens:
        job_id = token.split(":", 1)[0]
        try:
            known[uuid.UUID(job_id)] = token
        except ValueError:
            continue  # not a job of ours: nothing to say about it
    if not known:
        return HttpResponseStopPolling()
    mine = Generation.objects.for_user(request.user).filter(pk__in=known)
    current = list(mine.only("id", "status", "previews_received", "created_at"))
    queue_places(current)
    changed = [job.pk for job in current if job.status_token != known[job.pk]]
    if not changed:
        return HttpResponse(b"")  # the usual answer: nothing to swap
    generations = list(mine.filter(pk__in=changed).for_cards())
    queue_places(generations)
    context = {"generations": generations, "oob": True}
    if any(g.status == Generation.Status.SUCCEEDED for g in generations):
        context["collections"] = own_collections(request.user)
    response = render(request, "includes/generation_cards.html", context)
    ended = [g.pk for g in generations if g.is_new]
    if ended:  # they ended in front of the person
        Generation.objects.filter(pk__in=ended).update(seen_at=timezone.now())
    return response


@require_POST
def cancel_generation(request: HtmxHttpRequest, generation_id: str) -> HttpResponse:
    generation = get_object_or_404(Generation.objects.for_user(request.user), pk=generation_id)
    generation.cancel()
    if request.htmx:
        return render(request, "includes/generation_card.html", {"generation": generation})
    return redirect("generation", generation_id=generation.pk)


@require_POST
def retry_generation(request: HtmxHttpRequest, generation_id: str) -> HttpResponse:
    """One click: a failed or cancelled job, queued again as it was."""
    generation = get_object_or_404(Generation.objects.for_user(request.user), pk=generation_id)
    try:
        again = submit_retry(request.user, generation, submit_token_from(request.POST))
    except CannotRunAgain as refused:
        messages.error(request, refused.message)
        return redirect("generation", generation_id=generation.pk)
    return redirect("generation", generation_id=again.pk)


@require_GET
def generation_preview(request: HtmxHttpRequest, generation_id: str) -> HttpResponse:
    """The newest streamed partial image of a running job, as a small WebP."""
    generation = get_object_or_404(Generation.objects.for_user(request.user), pk=generation_id)
    if not generation.preview:
        raise Http404
    response = HttpResponse(bytes(generation.preview), content_type="image/webp")
    response["Cache-Control"] = "private, no-store"  # replaced by the next partial image
    return response
