"""Acting on many selected images at once: move to the Trash, add to or remove from a
collection, zip, compare."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gallery.archive import stream_archive
from gallery.compare_views import uuid_or_404
from gallery.models import Collection, Comparison, Image, ImageQuerySet
from gallery.trash_views import move_to_trash
from gallery.views import redirect_back, selected_uuids

MAX_ZIP_IMAGES = 500


@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    images = selected_images(request)
    action = request.POST.get("action")
    count = images.count()
    if not count:
        messages.error(request, _("Select at least one image first."))
    elif action == "delete":  # to the Trash, at once: the message offers "Undo"
        move_to_trash(request, images)
    elif action in {"add", "remove"}:
        collection = get_object_or_404(
            Collection.objects.for_user(request.user),
            uuid=uuid_or_404(request.POST.get("collection")),
        )
        try:
            change_membership(collection, images, add=action == "add")
        except ValueError as refused:  # a smart collection: its search chooses its images
            messages.error(request, str(refused))
        else:
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


def selected_images(request: HttpRequest) -> ImageQuerySet:
    """The selected images that belong to the person; anything else is silently left out."""
    return Image.objects.for_user(request.user).filter(uuid__in=selected_uuids(request))


def change_membership(collection: Collection, images: ImageQuerySet, *, add: bool) -> None:
    if add:
        collection.add_by_hand(images)
    else:
        collection.remove_by_hand(images)


def zip_response(images: ImageQuerySet) -> StreamingHttpResponse:
    rows = images.select_related("generation").order_by("-id")
    response = StreamingHttpResponse(stream_archive(rows), content_type="application/zip")
    name = f"images-{timezone.localdate():%Y-%m-%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
