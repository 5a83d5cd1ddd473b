"""Share links: making and revoking them (their owner), and the public pages they open (anyone).

The public views are the only ones that work signed out. Each starts from an active link, so an
unknown, revoked or expired token is a 404 for the page and every file alike, and each shows only
what the link shares: never the owner's name, other images, or how an image was generated.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django_htmx.middleware import HtmxDetails

from gallery import sharing
from gallery.archive import stream_archive
from gallery.compare_views import TwoUp
from gallery.forms_share import ShareForm
from gallery.media import file_response
from gallery.models import Collection, Comparison, Image, ShareLink

COLLECTION_PAGE_SIZE = 60


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@dataclass(frozen=True)
class ShareRow:
    """A link as its owner sees it in the list: with its public address and its status."""

    link: ShareLink
    url: str
    status: sharing.Status

    @property
    def is_active(self) -> bool:
        return self.status == sharing.Status.ACTIVE

    @classmethod
    def of(cls, request: HttpRequest, link: ShareLink) -> "ShareRow":
        return cls(link, sharing.public_url(request, link), sharing.status_of(link))


# Managing links: signed in (the site-wide LoginRequiredMiddleware), owner only.


@require_http_methods(["GET", "POST"])
def share_image(request: HttpRequest, image_id: str) -> HttpResponse:
    image = get_object_or_404(Image.objects.for_user(request.user), uuid=image_id)
    return _share_form(request, ShareLink(owner=request.user, image=image))


@require_http_methods(["GET", "POST"])
def share_collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    collection = get_object_or_404(Collection.objects.for_user(request.user), uuid=collection_id)
    return _share_form(request, ShareLink(owner=request.user, collection=collection))


@require_http_methods(["GET", "POST"])
def share_comparison(request: HttpRequest, comparison_id: str) -> HttpResponse:
    comparison = get_object_or_404(Comparison.objects.for_user(request.user), uuid=comparison_id)
    return _share_form(request, ShareLink(owner=request.user, comparison=comparison))


def _share_form(request: HttpRequest, link: ShareLink) -> HttpResponse:
    """GET shows the form (so sharing works without JavaScript); POST makes the link."""
    form = ShareForm(request.POST if request.method == "POST" else None, instance=link)
    if form.is_valid():
        form.save()
        messages.success(request, _("Link created. Copy it and send it to whoever should see it."))
        return redirect("share_detail", share_id=link.pk)
    # A second "Share" offers the links already live rather than silently making another.
    live = ShareLink.objects.for_user(request.user).active().to_same_thing_as(link)
    context = {"form": form, "link": link, "live_links": list(live)}
    return render(request, "gallery/share/form.html", context)


@require_GET
def share_list(request: HttpRequest) -> HttpResponse:
    links = ShareLink.objects.for_user(request.user).select_related(
        "image", "collection", "comparison"
    )
    rows = [ShareRow.of(request, link) for link in links]
    return render(request, "gallery/share/list.html", {"rows": rows})


@require_GET
def share_detail(request: HttpRequest, share_id: int) -> HttpResponse:
    link = _own_link_or_404(request, share_id)
    return render(request, "gallery/share/detail.html", {"row": ShareRow.of(request, link)})


@require_POST
def share_revoke(request: HtmxHttpRequest, share_id: int) -> HttpResponse:
    link = _own_link_or_404(request, share_id)
    link.revoke()
    if request.htmx:
        context = {"row": ShareRow.of(request, link), "announce": True}
        return render(request, "gallery/share/card.html", context)
    messages.success(request, _("Link revoked: its page and its files no longer open."))
    return redirect("share_list")


def _own_link_or_404(request: HttpRequest, share_id: int) -> ShareLink:
    # Addressed by its key, not its token: the secret stays out of these URLs and their logs,
    # and another person's key is simply not found.
    links = ShareLink.objects.for_user(request.user).select_related(
        "image", "collection", "comparison"
    )
    return get_object_or_404(links, pk=share_id)


# The public side: no sign-in, nothing but what the link shares.


@login_not_required
@require_safe
def shared_archive(request: HttpRequest, token: str) -> StreamingHttpResponse:
    """Every image of a shared collection or comparison, as one zip (a link to one image has
    its download button)."""
    link = sharing.active_link_or_404(token)
    if link.image_id is not None:
        raise Http404
    rows = sharing.shared_images(link).select_related("generation").order_by("-id")
    archive = stream_archive(rows, shared=True, hide_prompt=link.hide_prompt)
    response = StreamingHttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="shared-images.zip"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_not_required
@require_safe
@never_cache  # a revoked link must stop answering at once, and every view is counted
def shared_page(request: HttpRequest, token: str) -> HttpResponse:
    link = sharing.active_link_or_404(token)
    keep_language = _use_chosen_language(request)
    _count_view(request, link)
    if link.image is not None:
        return _image_page(request, link, link.image, keep_language)
    if link.comparison is not None:
        return _comparison_page(request, link, keep_language)
    images = sharing.shared_images(link)
    page = Paginator(images, COLLECTION_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "link": link,
        "collection": link.collection,
        "page": page,
        "preview": sharing.collection_preview(request, link, images.first(), page.paginator.count),
        "keep_language": keep_language,
    }
    return render(request, "shared/collection.html", context)


@login_not_required
@require_safe
@never_cache
def shared_image(request: HttpRequest, token: str, image_id: str) -> HttpResponse:
    """One image of a shared collection (or the one shared image), on its own page."""
    link = sharing.active_link_or_404(token)
    image = sharing.shared_image_or_404(link, image_id)
    keep_language = _use_chosen_language(request)
    _count_view(request, link)
    return _image_page(request, link, image, keep_language)


def _image_page(
    request: HttpRequest, link: ShareLink, image: Image, keep_language: str
) -> HttpResponse:
    context = {
        "link": link,
        "collection": link.collection,
        "image": image,
        "source_url": None if link.hide_prompt else sharing.shared_source(link, image),
        "preview": sharing.image_preview(request, link, image),
        "keep_language": keep_language,
    }
    return render(request, "shared/image.html", context)


def _comparison_page(request: HttpRequest, link: ShareLink, keep_language: str) -> HttpResponse:
    """A shared comparison, read only: its grid, its slider and its winner, with only its own
    images, served through the link."""
    comparison = sharing.shared_comparison(link)
    images = [image for entry in comparison.entries.all() for image in entry.shown_images]
    context = {
        "link": link,
        "comparison": comparison,
        "entries": comparison.entries.all(),
        "two_up": TwoUp.choose(images, request.GET.get("a"), request.GET.get("b")),
        "preview": sharing.comparison_preview(request, link, comparison, images),
        "keep_language": keep_language,
    }
    return render(request, "shared/comparison.html", context)


def _use_chosen_language(request: HttpRequest) -> str:
    """Show a public page in the language its visitor chose with the page's own switcher.

    Signed-in pages post to set_language, which needs a CSRF token; a public page carries none,
    so its switcher asks for the same page with ?language=. Nothing is stored (a GET changes no
    other page); the page's links keep the choice. Returns that query, or "" when none.
    """
    code = request.GET.get("language", "")
    if code not in dict(settings.LANGUAGES):
        return ""
    translation.activate(code)
    request.LANGUAGE_CODE = code
    return urlencode({"language": code})


def _count_view(request: HttpRequest, link: ShareLink) -> None:
    if request.method == "GET":  # a HEAD (a link checker) is not someone looking
        sharing.count_view(link)


@login_not_required
@require_safe
def shared_file(request: HttpRequest, token: str, image_id: str, variant: str) -> HttpResponse:
    """An original or a thumbnail of what the link shares; fetching it is not a view. Every
    cache must ask again before reusing it (gallery.media.SHARED_CACHE), so a revoked or expired
    link's files stop answering at once."""
    link = sharing.active_link_or_404(token)
    image = sharing.shared_image_or_404(link, image_id)
    response = file_response(
        request,
        image,
        variant,
        download=request.GET.get("download") == "1",
        public=True,
        strip_metadata=link.hide_prompt,
    )
    response["X-Robots-Tag"] = "noindex"
    return response
