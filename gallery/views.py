"""The signed-in person's images: a list, a detail page, and the private files."""

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from gallery.models import Image

PAGE_SIZE = 60


@require_GET
def image_list(request: HttpRequest) -> HttpResponse:
    """Newest first, a page at a time; `before` is the created time of the last image shown."""
    images = Image.objects.for_user(request.user)
    before = parse_datetime(request.GET.get("before", ""))
    if before:
        images = images.filter(created_at__lt=before)
    page = list(images[: PAGE_SIZE + 1])
    context = {
        "images": page[:PAGE_SIZE],
        "next_before": page[PAGE_SIZE - 1].created_at.isoformat() if len(page) > PAGE_SIZE else "",
    }
    return render(request, "gallery/image_list.html", context)


@require_GET
def image_detail(request: HttpRequest, image_id: str) -> HttpResponse:
    image = get_object_or_404(
        Image.objects.for_user(request.user).select_related("generation"), uuid=image_id
    )
    return render(request, "gallery/image_detail.html", {"image": image})


@require_GET
def image_file(request: HttpRequest, image_id: str, variant: str) -> FileResponse:
    """The original or the thumbnail, only to its owner. Files are never served by path."""
    image = get_object_or_404(Image.objects.files_visible_to(request.user), uuid=image_id)
    field = image.file if variant == "original" else image.thumbnail
    download = request.GET.get("download") == "1"
    response = FileResponse(
        field.open("rb"), as_attachment=download, filename=image.download_name(variant)
    )
    # The bytes under a UUID never change; only their owner may keep a copy.
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
