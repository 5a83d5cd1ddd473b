from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Value
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from gallery import admin_audit  # noqa: F401 (registers the record of file views)
from gallery.access import may_view_any_files
from gallery.models import Collection, Comparison, ComparisonEntry, Image, ImageInput, ShareLink
from imagegen.costs.money import format_money


class ImageCostFilter(admin.SimpleListFilter):
    """An image's share of its job's cost, in bands (amounts in the image's own currency)."""

    title = _("cost")
    parameter_name = "cost_band"
    BANDS = {
        "none": (_("No cost recorded"), Q(cost__isnull=True)),
        "zero": (_("Nothing"), Q(cost=0)),
        "cent": (_("Under 0.01"), Q(cost__gt=0, cost__lt=Decimal("0.01"))),
        "tenth": (_("0.01 to under 0.10"), Q(cost__gte=Decimal("0.01"), cost__lt=Decimal("0.1"))),
        "more": (_("0.10 or more"), Q(cost__gte=Decimal("0.1"))),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(key, label) for key, (label, _condition) in self.BANDS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Image]) -> QuerySet[Image]:
        band = self.BANDS.get(self.value() or "")
        return queryset.filter(band[1]) if band else queryset


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = [
        "preview",
        "short_prompt",
        "owner",
        "model_name",
        "size",
        "format",
        "shown_cost",
        "created_at",
    ]
    list_filter = [
        "model_name",
        "format",
        ImageCostFilter,
        "origin",
        "favourite",
        "created_at",
        ("trashed_at", admin.EmptyFieldListFilter),  # "not empty": in the Trash
        ("owner", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["owner"]
    search_fields = ["prompt", "revised_prompt", "owner__username", "sha256"]
    date_hierarchy = "created_at"
    readonly_fields = ["preview", *[f.name for f in Image._meta.fields]]
    raw_id_fields = ["owner", "generation", "stack_root"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Image]:
        # Whether this admin may open each image's files: their own, or all with the permission.
        visible = (
            Value(True)
            if may_view_any_files(request.user)
            else ExpressionWrapper(Q(owner_id=request.user.pk), output_field=BooleanField())
        )
        return super().get_queryset(request).annotate(files_visible=visible)

    @admin.display(description=_("Image"))
    def preview(self, image: Image) -> SafeString:
        if not getattr(image, "files_visible", False):
            # Not a broken image: the file view would answer 404 to them.
            return format_html(
                '<span title="{}">{}</span>',
                _("Seeing other people's images needs the permission “Can view any person's "
                  "image files”, granted in admin; each view is recorded."),
                _("Not shown"),
            )  # fmt: skip
        # Sized by attributes: the Content-Security-Policy refuses inline styles.
        width = 96
        height = round(width * image.height / image.width) if image.width else width
        return format_html(
            '<img src="{}" width="{}" height="{}" alt="" loading="lazy">',
            reverse("image_thumbnail", args=[image.uuid]),
            width,
            height,
        )

    @admin.display(description=_("Prompt"))
    def short_prompt(self, image: Image) -> str:
        return image.prompt[:80]

    @admin.display(description=_("Size"))
    def size(self, image: Image) -> str:
        return image.size

    @admin.display(description=_("Cost"), ordering="cost", empty_value="-")
    def shown_cost(self, image: Image) -> str | None:
        return None if image.cost is None else format_money(image.cost, image.cost_currency)

    def has_add_permission(self, request: object) -> bool:
        return False  # images come from generations and from their owners' uploads


class ImageInputInline(admin.TabularInline):
    """What a generation started from, on its admin page (read only: it is its history)."""

    model = ImageInput
    fields = ["position", "role", "image", "image_uuid", "has_mask"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("mask"), boolean=True)
    def has_mask(self, source: ImageInput) -> bool:
        return source.has_mask

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CollectionKindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("smart", _("Smart (a saved search)")), ("manual", _("Images added by hand"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Collection]) -> QuerySet:
        if self.value() == "smart":
            return queryset.smart()
        if self.value() == "manual":
            return queryset.manual()
        return queryset


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "is_smart", "image_count", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username", "query"]
    list_filter = [CollectionKindFilter, "created_at"]
    raw_id_fields = ["owner"]
    # A smart collection's search is changed by its owner, in the gallery, where it is checked.
    readonly_fields = ["uuid", "query", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Collection]:
        return super().get_queryset(request).with_counts()

    @admin.display(description=_("smart"), boolean=True, ordering="query")
    def is_smart(self, collection: Collection) -> bool:
        return collection.is_smart

    @admin.display(description=_("Images"), ordering="image_count")
    def image_count(self, collection: Collection) -> int | str:
        """Those added by hand; a smart collection's change with its owner's images."""
        return "—" if collection.is_smart else collection.image_count


class ComparisonEntryInline(admin.TabularInline):
    """What a comparison shows, in order (read only: made by its owner's pages)."""

    model = ComparisonEntry
    fields = ["position", "generation", "image"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "entry_count", "winner", "created_at"]
    list_select_related = ["owner", "winner"]
    search_fields = ["title", "owner__username"]
    list_filter = ["created_at"]
    raw_id_fields = ["owner", "winner"]
    readonly_fields = ["uuid", "created_at"]
    inlines = [ComparisonEntryInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Comparison]:
        queryset = super().get_queryset(request).annotate(entry_count=Count("entries"))
        return queryset.prefetch_related("entries__generation", "entries__image")

    @admin.display(description=_("Entries"), ordering="entry_count")
    def entry_count(self, comparison: Comparison) -> int:
        return comparison.entry_count

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # comparisons are made from the gallery and the generate page


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "owner",
        "created_at",
        "expires_at",
        "revoked_at",
        "view_count",
        "active",
    ]
    list_filter = ["created_at", "revoked_at", "hide_prompt"]
    list_select_related = ["owner", "image", "collection", "comparison"]
    search_fields = ["owner__username", "collection__name", "image__prompt", "comparison__title"]
    readonly_fields = [
        "token",
        "owner",
        "image",
        "collection",
        "comparison",
        "view_count",
        "created_at",
    ]
    actions = ["revoke"]

    @admin.display(description=_("Active"), boolean=True)
    def active(self, link: ShareLink) -> bool:
        return link.is_active

    @admin.action(description=_("Revoke the selected share links"))
    def revoke(self, request: HttpRequest, links: QuerySet[ShareLink]) -> None:
        count = links.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        message = ngettext(
            "Revoked %(count)d share link.", "Revoked %(count)d share links.", count
        ) % {"count": count}
        self.message_user(request, message)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # links are made by their owners, from the gallery


class StudioUserAdmin(UserAdmin):
    """Django's user admin, plus a way from a person to their images and generations."""

    list_display = [*UserAdmin.list_display, "image_link", "usage_link"]
    readonly_fields = [*UserAdmin.readonly_fields, "image_link", "usage_link"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).annotate(image_count=Count("images"))

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        fields = ["image_link", "usage_link"]
        return [*fieldsets, (_("Gallery"), {"fields": fields})] if obj else fieldsets

    @admin.display(description=_("Images"))
    def image_link(self, user: User) -> SafeString:
        count = getattr(user, "image_count", None)
        if count is None:
            count = user.images.count()
        url = reverse("admin:gallery_image_changelist") + f"?owner__id__exact={user.pk}"
        generations = (
            reverse("admin:imagegen_generation_changelist") + f"?owner__id__exact={user.pk}"
        )
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            url,
            ngettext("%(n)d image", "%(n)d images", count) % {"n": count},
            generations,
            _("generations"),
        )

    @admin.display(description=_("Usage"))
    def usage_link(self, user: User) -> SafeString:
        """Their usage page: spend and images by day and model, and their budget."""
        return format_html('<a href="{}?person={}">{}</a>', reverse("usage"), user.pk, _("usage"))


admin.site.unregister(User)
admin.site.register(User, StudioUserAdmin)
