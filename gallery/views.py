"""The signed-in person's gallery: browse and search, one image, its files, favourite, rate."""

import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from gallery.access import record_view
from gallery.filters import GalleryFilters
from gallery.lineage import family_tree
from gallery.media import file_response
from gallery.models import Collection, Image, ShareLink
from gallery.models.images import MAX_RATING
from gallery.paging import ResultCount, count_of, count_versions, neighbours, page_of


@require_GET
@vary_on_headers("HX-Request")
def image_list(request: HttpRequest, collection: Collection | None = None) -> HttpResponse:
    """Newest first, 60 at a time; htmx appends the next page when its link scrolls into view."""
    filters = GalleryFilters(request.GET, user=request.user)
    everything = Image.objects.for_user(request.user)
    images = filters.apply(everything)
    if collection is not None and not collection.is_smart:  # a smart one's page is its search
        images = images.filter(collections=collection)
    page, next_before = page_of(images, request.GET.get("before"), filters.chosen_sort)
    count_versions(page, stacked=filters.stacks())
    first_page = "before" not in request.GET
    template = "gallery/image_list.html"
    if request.htmx:  # a search swaps the whole grid; a scroll appends the next page in place
        template += "#gallery" if request.htmx.target == "gallery" else "#page"
    count = None  # shown above the grid's first page, not on each appended page
    if first_page and not template.endswith("#page"):
        newest = () if filters.chosen_sort else page  # the count samples the newest images
        count = count_of(images, everything, newest) if next_before else ResultCount(len(page))
    context = {
        "filters": filters,
        "images": page,
        "next_before": next_before,
        "collection": collection,
        "manual_collections": filters.collections,  # those made by hand, as the filter offers
        "first_page": first_page,
        "count": count,
    }
    return render(request, template, context)


@require_GET
def image_detail(request: HttpRequest, image_id: str) -> HttpResponse:
    mine = Image.objects.for_user(request.user)
    image = get_object_or_404(mine.select_related("generation"), uuid=image_id)
    filters = GalleryFilters(request.GET, user=request.user)
    previous, following = neighbours(filters.apply(mine), image, filters.chosen_sort)
    context = {
        "image": image,
        "filters": filters,
        "previous": previous,
        "following": following,
        "collections": Collection.objects.for_user(request.user).manual(),
        "in_collections": list(image.collections.all()),
        "tree": family_tree(image),
        "live_links": list(ShareLink.objects.for_user(request.user).active().filter(image=image)),
    }
    return render(request, "gallery/image_detail.html", context)


@require_GET
def image_file(request: HttpRequest, image_id: str, variant: str) -> HttpResponse:
    """The original, the thumbnail or the grid rendition, only to its owner, or to a person
    granted `gallery.view_any_files` (admin thumbnails), each such view recorded."""
    image = get_object_or_404(Image.objects.files_visible_to(request.user), uuid=image_id)
    recorded = record_view(request, image, variant)  # nothing is recorded for the owner
    response = file_response(request, image, variant, download=request.GET.get("download") == "1")
    if recorded:  # kept by no cache: each view is recorded, and ends with the permission
        response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def toggle_favourite(request: HttpRequest, image_id: str) -> HttpResponse:
    image = get_object_or_404(Image.objects.for_user(request.user), uuid=image_id)
    image.toggle_favourite()
    if request.htmx:
        in_form = request.POST.get("in_form") == "1"  # the grid button, not the detail form
        return render(
            request, "includes/favourite_button.html", {"image": image, "in_form": in_form}
        )
    return redirect_back(request, reverse("image_detail", args=[image.uuid]))


@require_POST
def rate_image(request: HttpRequest, image_id: str) -> HttpResponse:
    """Give the image 1-5 stars (0 takes the rating away)."""
    image = get_object_or_404(Image.objects.for_user(request.user), uuid=image_id)
    stars = request.POST.get("stars", "")
    if not (stars.isascii() and stars.isdigit() and int(stars) <= MAX_RATING):
        return HttpResponseBadRequest(_("A rating is 0 to 5 stars."))
    image.rate(int(stars))
    back = safe_next(request, reverse("image_detail", args=[image.uuid]))
    if request.htmx:  # the control again, still going back where the page was
        return render(request, "includes/rating.html", {"image": image, "back": back})
    return redirect(back)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The page a form came from (its `next` field), if it is one of ours: a path on this site.

    Anything else (another site, or a word that redirect() would take for a view's name) is the
    fallback."""
    return safe_path(request, request.POST.get("next", ""), fallback)


def safe_path(request: HttpRequest, target: str, fallback: str) -> str:
    """`target` if it is a path on this site, else `fallback`."""
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if safe and target.startswith("/") else fallback


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponse:
    return redirect(safe_next(request, fallback))


def selected_uuids(request: HttpRequest) -> list[uuid.UUID]:
    """The image ids a form selected (its `images` fields); what is not a UUID is left out."""
    ids = []
    for value in request.POST.getlist("images"):
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    return ids
