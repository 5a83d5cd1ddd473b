"""Uploading one's own images, and the picker that chooses reference images from the gallery."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from gallery.models import Image
from gallery.uploads import upload_files

PICKER_SIZE = 24


@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """GET: the upload page. POST: keep every image sent (zips opened) and report. A request from
    a reference slot (`slots=1`) gets the new slots back, to be added to its form."""
    if request.method == "GET":
        return render(request, "gallery/upload.html", {"limits": _limits()})
    report = upload_files(request.user, request.FILES.getlist("files"))
    if request.POST.get("slots") == "1":
        return render(request, "includes/reference_slots.html", {"report": report})
    status = 200 if report.kept or not report.refused else 400
    context = {"report": report, "limits": _limits()}
    return render(request, "gallery/upload.html", context, status=status)


@require_GET
def reference_picker(request: HttpRequest) -> HttpResponse:
    """The person's images to pick references from, newest first, narrowed by a search."""
    query = request.GET.get("q", "")[:200]
    images = Image.objects.for_user(request.user).matching(query).order_by("-id")[:PICKER_SIZE]
    return render(request, "includes/reference_picker.html", {"images": images, "query": query})


def _limits() -> dict[str, int]:
    return {
        "bytes": settings.UPLOAD_MAX_BYTES,
        "files": settings.UPLOAD_MAX_FILES,
    }
