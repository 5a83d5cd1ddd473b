"""Acting on many selected images at once: delete, add to or remove from a collection, zip,
compare."""

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from gallery.archive import stream_archive
from gallery.compare_views import uuid_or_404
from gallery.models import Collection, CollectionImage, Comparison, Image, ImageQuerySet
from gallery.views import redirect_back, safe_next

MAX_ZIP_IMAGES = 500


@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    images = selected_images(request)
    action = request.POST.get("action")
    count = images.count()
    if not count:
        messages.error(request, _("Select at least one image first."))
    elif action == "delete":
        if request.POST.get("confirm") != "yes":
            return confirm_delete(request, images, count)
        images.delete_with_files()
        messages.success(
            request, ngettext("Deleted %(n)d image.", "Deleted %(n)d images.", count) % {"n": count}
        )
    elif action in {"add", "remove"}:
        collection = get_object_or_404(
            Collection.objects.for_user(request.user),
            uuid=uuid_or_404(request.POST.get("collection")),
        )
        change_membership(collection, images, add=action == "add")
        messages.success(request, _("Updated “%(name)s”.") % {"name": collection.name})
    elif action == "zip" and count > MAX_ZIP_IMAGES:
        messages.error(
            request, _("At most %(n)d images can be downloaded at once.") % {"n": MAX_ZIP_IMAGES}
        )
    elif action == "zip":
        return zip_response(images)
    elif action == "compare":
        try:
            comparison = Comparison.objects.start_for_images(request.user, list(images[:5]))
        except ValueError as refused:  # too few or too many: its message says which
            messages.error(request, str(refused))
        else:
            return redirect(comparison.get_absolute_url())
    else:
        messages.error(request, _("Choose what to do with the selected images."))
    return redirect_back(request, reverse("image_list"))


def confirm_delete(request: HttpRequest, images: ImageQuerySet, count: int) -> HttpResponse:
    context = {
        "count": count,
        "preview": images[:24],
        "uuids": list(images.values_list("uuid", flat=True)),
        "back": safe_next(request, reverse("image_list")),
    }
    return render(request, "gallery/bulk_confirm_delete.html", context)


def selected_images(request: HttpRequest) -> ImageQuerySet:
    """The selected images that belong to the person; anything else is silently left out."""
    ids = []
    for value in request.POST.getlist("images"):
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    return Image.objects.for_user(request.user).filter(uuid__in=ids)


def change_membership(collection: Collection, images: ImageQuerySet, *, add: bool) -> None:
    if add:
        CollectionImage.objects.bulk_create(
            [CollectionImage(collection=collection, image=image) for image in images],
            ignore_conflicts=True,
        )
    else:
        CollectionImage.objects.filter(collection=collection, image__in=images).delete()


def zip_response(images: ImageQuerySet) -> StreamingHttpResponse:
    rows = images.select_related("generation").order_by("-id")
    response = StreamingHttpResponse(stream_archive(rows), content_type="application/zip")
    name = f"images-{timezone.localdate():%Y-%m-%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
