"""The record of views of other people's files (gallery.access), read-only in admin: nobody adds,
changes or deletes a record there, superusers included."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gallery.models import FileAccessRecord


class ViewerFilter(admin.SimpleListFilter):
    """By the viewer's name as recorded, which outlives the viewer's account."""

    title = _("viewer")
    parameter_name = "viewer_name"
    field = "viewer_name"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        names = FileAccessRecord.objects.order_by(self.field).values_list(self.field, flat=True)
        return [(name, name) for name in names.distinct()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(**{self.field: value}) if value else queryset


class OwnerFilter(ViewerFilter):
    title = _("owner")
    parameter_name = "owner_name"
    field = "owner_name"


@admin.register(FileAccessRecord)
class FileAccessRecordAdmin(admin.ModelAdmin):
    list_display = ["viewed_at", "viewer_name", "owner_name", "image_uuid", "variant", "path"]
    list_filter = [ViewerFilter, OwnerFilter, "variant", "viewed_at"]
    date_hierarchy = "viewed_at"
    # The names and the UUID as recorded: the person, the viewer or the image may be gone. A
    # UUID is matched whole (Django skips the lookup for a term that is not one).
    search_fields = ["viewer_name", "owner_name", "=image_uuid"]
    readonly_fields = [field.name for field in FileAccessRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
