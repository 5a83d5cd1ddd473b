"""The Trash: where deleted images wait TRASH_DAYS, restorable, before the purge removes them.

Deleting moves images here at one moment; "Undo" in the message that says so restores exactly
that moment's images. Restore and "delete forever" act on a selection; "Empty the Trash" on all.
"""

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gallery.models import Image, ImageQuerySet
from gallery.views import redirect_back, safe_next, safe_path, selected_uuids

PAGE_SIZE = 60
UNDO_SESSION_KEY = "trash_undo"  # the moment of the person's last move to the Trash
UNDO_TAG = "undo-trash"  # a message with this tag offers "Undo" (templates/base.html)


def move_to_trash(request: HttpRequest, images: ImageQuerySet, *, say: bool = True) -> int:
    """Move the images to the Trash and (unless the page says it in place) say so in a message
    that offers "Undo"; returns how many moved."""
    count = images.count()
    moment = images.move_to_trash()
    if moment is None:
        return 0
    request.session[UNDO_SESSION_KEY] = moment.isoformat()
    if say:
        text = ngettext(
            "Moved %(n)d image to the Trash.", "Moved %(n)d images to the Trash.", count
        ) % {"n": count}
        messages.success(request, text, extra_tags=UNDO_TAG)
    return count


@require_http_methods(["GET", "POST"])
def delete_image(request: HttpRequest, image_id: str) -> HttpResponse:
    """Move one image to the Trash. GET asks first (the link that works without JavaScript);
    the POST returns where the person was (`next`: the gallery with its search, say)."""
    image = get_object_or_404(Image.objects.for_user(request.user), uuid=image_id)
    if request.method == "GET":
        back = safe_path(request, request.GET.get("next", ""), image.get_absolute_url())
        return render(request, "gallery/image_confirm_delete.html", {"image": image, "back": back})
    if request.htmx:  # a feed result or a gallery tile: it says so in place, with "Undo"
        move_to_trash(request, Image.objects.filter(pk=image.pk), say=False)
        context = {"image": image, "in_grid": request.POST.get("in_grid") == "1"}
        return render(request, "includes/trashed_notice.html", context)
    move_to_trash(request, Image.objects.filter(pk=image.pk))
    return redirect_back(request, reverse("image_list"))


@require_GET
def trash(request: HttpRequest) -> HttpResponse:
    images = Image.objects.in_trash_of(request.user).order_by("-trashed_at", "-id")
    page = Paginator(images, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "trash_days": settings.TRASH_DAYS}
    return render(request, "gallery/trash.html", context)


@require_POST
def undo(request: HttpRequest) -> HttpResponse:
    """Restore the images of the person's last move to the Trash."""
    moment = _undo_moment(request)
    restored = 0
    if moment is not None:
        restored = Image.objects.in_trash_of(request.user).filter(trashed_at=moment).restore()
        del request.session[UNDO_SESSION_KEY]
    if restored:
        say_restored(request, restored)
    else:
        messages.info(request, _("Nothing to undo: those images are no longer in the Trash."))
    return redirect_back(request, reverse("image_list"))


@require_POST
def act(request: HttpRequest) -> HttpResponse:
    """Restore the selected images, or (confirmed) delete them for good."""
    images = Image.objects.in_trash_of(request.user).filter(uuid__in=selected_uuids(request))
    action = request.POST.get("action")
    count = images.count()
    if not count:
        messages.error(request, _("Select at least one image first."))
    elif action == "restore":
        say_restored(request, images.restore())
    elif action == "delete" and request.POST.get("confirm") != "yes":
        return _confirm(request, images, count)
    elif action == "delete":
        _say_deleted(request, images.delete_with_files())
    else:
        messages.error(request, _("Choose what to do with the selected images."))
    return redirect_back(request, reverse("trash"))


@require_POST
def empty(request: HttpRequest) -> HttpResponse:
    images = Image.objects.in_trash_of(request.user)
    count = images.count()
    if not count:
        messages.info(request, _("The Trash is already empty."))
    elif request.POST.get("confirm") != "yes":
        return _confirm(request, images, count, everything=True)
    else:
        _say_deleted(request, images.delete_with_files())
    return redirect("trash")


def say_restored(request: HttpRequest, count: int) -> None:
    messages.success(
        request,
        ngettext("Restored %(n)d image.", "Restored %(n)d images.", count) % {"n": count},
    )


def _say_deleted(request: HttpRequest, count: int) -> None:
    messages.success(
        request,
        ngettext("Deleted %(n)d image for good.", "Deleted %(n)d images for good.", count)
        % {"n": count},
    )


def _confirm(
    request: HttpRequest, images: ImageQuerySet, count: int, *, everything: bool = False
) -> HttpResponse:
    context = {
        "count": count,
        "everything": everything,
        "preview": images.order_by("-trashed_at", "-id")[:24],
        "uuids": [] if everything else list(images.values_list("uuid", flat=True)),
        "back": safe_next(request, reverse("trash")),
    }
    return render(request, "gallery/trash_confirm.html", context)


def _undo_moment(request: HttpRequest) -> datetime | None:
    try:
        return datetime.fromisoformat(request.session.get(UNDO_SESSION_KEY, ""))
    except ValueError:
        return None
