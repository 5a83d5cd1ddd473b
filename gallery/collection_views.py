"""Collections: named sets of one person's images, and smart collections (saved searches)."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gallery.compare_views import uuid_or_404
from gallery.filters import GalleryFilters
from gallery.models import Collection, Image
from gallery.models.organise import NOT_SAVED, saved_search
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


class SmartCollectionForm(CollectionForm):
    """A name and a gallery search (its query string) for a smart collection: only a search
    whose every filter is valid, and that has one at least, is kept, in the gallery's words."""

    class Meta(CollectionForm.Meta):
        fields = ["name", "query"]
        widgets = {"query": forms.HiddenInput}

    def clean_query(self) -> str:
        filters = GalleryFilters(QueryDict(self.cleaned_data["query"]), user=self.instance.owner)
        if not filters.is_valid():
            wrong = [
                f"{filters[name].label}: {' '.join(errors)}"
                for name, errors in filters.errors.items()
            ]
            raise forms.ValidationError(
                _("Only a search whose filters are all valid can be saved. %(wrong)s"),
                params={"wrong": " ".join(wrong)},
            )
        if not filters.is_filtered:
            raise forms.ValidationError(_("Search or choose a filter first: then save it."))
        return saved_search(filters)


# Changing a smart collection's search (its name is changed by rename).
SearchForm = forms.modelform_factory(Collection, form=SmartCollectionForm, fields=["query"])


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
    """A collection's images. A smart collection's page is the gallery with its search: opened
    without one (from the list, after a rename), it goes to the address of its saved search,
    where the search can be changed and saved again."""
    collection = get_object_or_404(Collection.objects.for_user(request.user), uuid=collection_id)
    if collection.is_smart and not request.GET.keys() - NOT_SAVED:
        search = QueryDict(collection.query, mutable=True)
        search.update({name: request.GET[name] for name in NOT_SAVED if name in request.GET})
        return redirect(f"{collection.get_absolute_url()}?{search.urlencode()}")
    return image_list(request, collection=collection)


@require_POST
def smart_collection_create(request: HttpRequest) -> HttpResponse:
    """Save a gallery search (`query`) as a smart collection named `name`. A refused one shows
    its own page with the reasons, the name as typed and the search, so nothing is lost."""
    form = SmartCollectionForm(request.POST, owner=request.user)
    if form.is_valid():
        collection = form.save()
        messages.success(
            request,
            _("Saved “%(name)s”: it shows every image that matches this search, new ones too.")
            % {"name": collection.name},
        )
        return redirect(collection)
    filters = GalleryFilters(QueryDict(request.POST.get("query", "")), user=request.user)
    filters.is_valid()  # cleaned: its chips show what is saved
    context = {"form": form, "filters": filters, "back": _back_to_search(request)}
    return render(request, "gallery/smart_collection_new.html", context)


@require_POST
def smart_collection_search(request: HttpRequest, collection_id: str) -> HttpResponse:
    """Make the search a smart collection keeps the one posted (`query`)."""
    smart = Collection.objects.for_user(request.user).smart()
    collection = get_object_or_404(smart, uuid=collection_id)
    form = SearchForm(request.POST, instance=collection, owner=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("query", [])))
        return redirect_back(request, collection.get_absolute_url())
    form.save()
    messages.success(
        request,
        _("“%(name)s” now shows the images that match this search.") % {"name": collection.name},
    )
    return redirect(collection)


def _back_to_search(request: HttpRequest) -> str:
    return f"{reverse('image_list')}?{request.POST.get('query', '')}"


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
    try:
        if request.POST.get("action") == "remove":
            collection.remove_by_hand([image])
        else:
            collection.add_by_hand([image])  # twice (a double click) is once
    except ValueError as refused:  # a smart collection: its message says why
        messages.error(request, str(refused))
    return redirect_back(request, image.get_absolute_url())
