"""Comparisons: the person's list of them, one comparison (a grid and a two-up slider, kept
current while its jobs run), renaming, deleting, and picking the winner."""

import uuid
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from gallery.models import Collection, Comparison, Image
from gallery.views import redirect_back

PAGE_SIZE = 20


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class RenameForm(forms.ModelForm):
    class Meta:
        model = Comparison
        fields = ["title"]
        labels = {"title": gettext_lazy("Title")}
        help_texts = {"title": gettext_lazy("Leave it empty to show the prompt instead.")}


@dataclass(frozen=True)
class TwoUp:
    """The two images the slider shows (A over B), chosen from the comparison's images."""

    images: list[Image]
    a: Image | None
    b: Image | None

    @property
    def sides(self) -> list[tuple[str, Image | None]]:
        return [("a", self.a), ("b", self.b)]

    @classmethod
    def choose(cls, images: list[Image], a: str | None, b: str | None) -> "TwoUp":
        by_uuid = {str(image.uuid): image for image in images}
        first = by_uuid.get(a or "") or (images[0] if images else None)
        others = [image for image in images if image != first]
        second = by_uuid.get(b or "")
        if second is None or second == first:
            second = others[0] if others else None
        return cls(images, first, second)


def uuid_or_404(value: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        raise Http404 from None


def own_comparison_or_404(request: HttpRequest, comparison_id: str) -> Comparison:
    comparisons = Comparison.objects.for_user(request.user).with_entries()
    return get_object_or_404(comparisons, uuid=comparison_id)


def shown_images(comparison: Comparison) -> list[Image]:
    return [image for entry in comparison.entries.all() for image in entry.shown_images]


def state_of(comparison: Comparison) -> str:
    """What the page knows of the comparison: when this changes, the grid is drawn again."""
    parts = [
        f"{entry.generation.status_token}:{len(entry.shown_images)}"
        for entry in comparison.entries.all()
        if entry.generation is not None
    ]
    return f"{comparison.winner_id}|" + "|".join(parts)


@require_GET
def comparison_list(request: HttpRequest) -> HttpResponse:
    comparisons = Comparison.objects.for_user(request.user).with_entries()
    page = Paginator(comparisons, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "gallery/compare/list.html", {"page": page})


@require_GET
@vary_on_headers("HX-Request")
def comparison_detail(request: HtmxHttpRequest, comparison_id: str) -> HttpResponse:
    """The grid and the slider. While a job runs, the page asks for its body every 2 s with the
    state it shows: nothing changed is a 204; once every job has finished, 286 stops it."""
    comparison = own_comparison_or_404(request, comparison_id)
    if request.htmx and request.htmx.target == "compare-body":
        running = comparison.is_running
        if running and request.GET.get("state") == state_of(comparison):
            return HttpResponse(status=204)  # htmx swaps nothing
        # The last answer carries the finished grid too: htmx swaps a 286 in, then stops.
        body = render_to_string(
            "gallery/compare/detail.html#body", detail_context(request, comparison), request
        )
        return HttpResponse(body) if running else HttpResponseStopPolling(body)
    return render(request, "gallery/compare/detail.html", detail_context(request, comparison))


def detail_context(request: HttpRequest, comparison: Comparison) -> dict[str, object]:
    images = shown_images(comparison)
    return {
        "comparison": comparison,
        "entries": comparison.entries.all(),
        "two_up": TwoUp.choose(images, request.GET.get("a"), request.GET.get("b")),
        "collections": Collection.objects.for_user(request.user).manual(),
        "state": state_of(comparison),
        "rename_form": RenameForm(instance=comparison),
    }


@require_POST
def comparison_rename(request: HttpRequest, comparison_id: str) -> HttpResponse:
    comparison = own_comparison_or_404(request, comparison_id)
    form = RenameForm(request.POST, instance=comparison)
    if form.is_valid():
        form.save()
        messages.success(request, _("Comparison renamed."))
    else:
        messages.error(request, " ".join(form.errors.get("title", [])))
    return redirect_back(request, comparison.get_absolute_url())


@require_http_methods(["GET", "POST"])
def comparison_delete(request: HttpRequest, comparison_id: str) -> HttpResponse:
    """GET asks for confirmation (so it works without JavaScript); POST deletes the comparison
    only: its images and jobs stay."""
    comparison = own_comparison_or_404(request, comparison_id)
    if request.method == "POST":
        comparison.delete()
        messages.success(request, _("Comparison deleted. Its images are still in your gallery."))
        return redirect("comparison_list")
    return render(request, "gallery/compare/confirm_delete.html", {"comparison": comparison})


@require_POST
def comparison_winner(request: HtmxHttpRequest, comparison_id: str) -> HttpResponse:
    """Make one of the comparison's images the winner: favoured, and added to the collection
    chosen with it, if any."""
    comparison = own_comparison_or_404(request, comparison_id)
    image = get_object_or_404(comparison.images(), uuid=uuid_or_404(request.POST.get("image")))
    collection = None
    if chosen := request.POST.get("collection"):
        collections = Collection.objects.for_user(request.user).manual()  # not a smart one
        collection = get_object_or_404(collections, uuid=uuid_or_404(chosen))
    comparison.pick_winner(image, collection)
    if collection is not None:
        message = _("Winner chosen: marked as a favourite and added to “%(name)s”.") % {
            "name": collection.name
        }
    else:
        message = _("Winner chosen: marked as a favourite.")
    if request.htmx:
        comparison = own_comparison_or_404(request, comparison_id)
        context = detail_context(request, comparison) | {"announce": message}
        return render(request, "gallery/compare/detail.html#body", context)
    messages.success(request, message)
    return redirect(reverse("comparison_detail", args=[comparison.uuid]))
