"""Collections: named sets of one person's images."""

from django import forms
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gallery.compare_views import uuid_or_404
from gallery.models import Collection, Image
from gallery.views import image_list, redirect_back


class CollectionForm(forms.ModelForm):
    class Meta:
        model = Collection
        fields = ["name"]
        labels = {"name": gettext_lazy("Collection name")}

    def __init__(self, *args: object, owner: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.instance.owner = owner

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        taken = Collection.objects.for_user(self.instance.owner).filter(name__iexact=name)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("You already have a collection with this name."))
        return name


@require_http_methods(["GET", "POST"])
def collection_list(request: HttpRequest) -> HttpResponse:
    form = CollectionForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        collection = form.save()
        return redirect("collection_detail", collection_id=collection.uuid)
    collections = Collection.objects.for_user(request.user).with_counts()
    return render(
        request, "gallery/collection_list.html", {"form": form, "collections": collections}
    )


@require_GET
def collection_detail(request: HttpRequest, collection_id: str) -> HttpResponse:
    collection = get_object_or_404(Collection.objects.for_user(request.user), uuid=collection_id)
    return image_list(request, collection=collection)


@require_POST
def collection_rename(request: HttpRequest, collection_id: str) -> HttpResponse:
    collection = get_object_or_404(Collection.objects.for_user(request.user), uuid=collection_id)
    form = CollectionForm(request.POST, instance=collection, owner=request.user)
    if form.is_valid():
        form.save()
    else:
        messages.error(request, " ".join(form.errors.get("name", [])))
    return redirect("collection_detail", collection_id=collection.uuid)


@require_POST
def collection_delete(request: HttpRequest, collection_id: str) -> HttpResponse:
    """Deletes the collection only; its images stay in the gallery."""
    collection = get_object_or_404(Collection.objects.for_user(request.user), uuid=collection_id)
    collection.delete()
    messages.success(request, _("Collection deleted. Its images are still in your gallery."))
    return redirect("collection_list")


@require_POST
def collection_membership(request: HttpRequest, image_id: str) -> HttpResponse:
    """Add an image to, or remove it from, one of the person's collections."""
    image = get_object_or_404(Image.objects.for_user(request.user), uuid=image_id)
    collection = get_object_or_404(
        Collection.objects.for_user(request.user), uuid=uuid_or_404(request.POST.get("collection"))
    )
    if request.POST.get("action") == "remove":
        collection.images.remove(image)
    else:
        try:
            with transaction.atomic():
                collection.images.add(image)
        except IntegrityError:
            pass  # already there (a double click): adding twice is adding once
    return redirect_back(request, image.get_absolute_url())
