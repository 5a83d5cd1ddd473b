"""Admin for the model catalogue (with its schemas, import/export and the live list) and jobs."""

import json
from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from gallery.admin import ImageInputInline
from imagegen.catalogue import list_text, readable
from imagegen.catalogue.documents import ImportForm, export_document
from imagegen.catalogue.sync import add_with_basic_schema, sync_models
from imagegen.costs.money import format_money, price_summary
from imagegen.models import (
    Generation,
    ImageModel,
    Preset,
    UpstreamModel,
)


class PrettyJSONField(forms.JSONField):
    """The schema as indented JSON, so that a path in an error message is easy to follow."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(readable(value), indent=2, ensure_ascii=False)


class PriceJSONField(forms.JSONField):
    def prepare_value(self, value: Any) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value or {}, indent=2, ensure_ascii=False)

    def to_python(self, value: Any) -> Any:
        return super().to_python(value) or {}


class ImageModelForm(forms.ModelForm):
    schema = PrettyJSONField(
        label=_("Parameters"),
        widget=forms.Textarea(
            attrs={"rows": 30, "cols": 100, "class": "vLargeTextField", "spellcheck": "false"}
        ),
        help_text=_(
            'JSON: {"parameters": [...], "rules": [...]}. Each parameter has a name (sent '
            "upstream), a kind (choice, integer, number, boolean, text, size, images), a label, "
            "and as it needs: choices, minimum, maximum, default, send_default, only_when, "
            "excludes, custom (any WxH size within limits), endpoints, new_on_vary, advanced "
            "(shown under the form's closed “Advanced”). Every save is checked; an error "
            "names the exact entry. See README, “Adding a model”."
        ),
    )

    price = PriceJSONField(
        label=_("Price"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 100, "spellcheck": "false"}),
        help_text=_(
            'JSON, per image: {"currency": "USD", "per_image": "0.04", "cases": [{"when": '
            '{"quality": ["hd"]}, "per_image": "0.08"}]}; or per token: {"currency": "USD", '
            '"per_million_tokens": {"text_input": "5", "image_input": "8", "image_output": '
            '"30"}, "output_tokens": {"low": 272, "medium": 1056, "high": 4160}}. Empty: '
            "unknown. Saving a changed price makes it yours: the catalogue sync will not "
            "replace it. See README, “What things cost”."
        ),
    )

    class Meta:
        model = ImageModel
        fields = [
            "name", "label", "family", "enabled", "position", "prompt_max_length", "max_images",
            "schema", "result_kind", "returns_revised_prompt", "returns_usage", "can_edit",
            "released_on", "retires_on", "replacement", "price", "price_note",
        ]  # fmt: skip


@admin.register(ImageModel)
class ImageModelAdmin(admin.ModelAdmin):
    form = ImageModelForm
    list_display = [
        "label", "name", "family", "enabled", "availability", "ends", "priced", "position",
    ]  # fmt: skip
    list_editable = ["enabled", "position"]
    list_filter = ["family", "enabled", "price_source"]
    search_fields = ["name", "label"]
    actions = ["export_models", "sync_now", "price_from_catalogue"]
    readonly_fields = ["price_source", "price_updated_at"]
    change_list_template = "admin/imagegen/imagemodel/change_list.html"
    fieldsets = [
        (None, {"fields": ["name", "label", "family", "enabled", "position"]}),
        (_("Limits"), {"fields": ["prompt_max_length", "max_images"]}),
        (_("Parameters"), {"fields": ["schema"]}),
        (
            _("Response and editing"),
            {"fields": ["result_kind", "returns_revised_prompt", "returns_usage", "can_edit"]},
        ),
        (_("Life"), {"fields": ["released_on", "retires_on", "replacement"]}),
        (_("Price"), {"fields": ["price", "price_note", "price_source", "price_updated_at"]}),
    ]

    def save_model(self, request: HttpRequest, obj: ImageModel, form: Any, change: bool) -> None:
        if "price" in form.changed_data or "price_note" in form.changed_data:
            # The administrator's price from now on: a catalogue sync never replaces it.
            obj.price_source = ImageModel.PriceSource.ADMIN
            obj.price_updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.display(description=_("Price"))
    def priced(self, model: ImageModel) -> str:
        return f"{price_summary(model.price)} ({model.get_price_source_display()})"

    @admin.action(description=_("Let the catalogue sync set their price again"))
    def price_from_catalogue(self, request: HttpRequest, queryset: QuerySet[ImageModel]) -> None:
        count = queryset.filter(price_source=ImageModel.PriceSource.ADMIN).update(
            price_source=ImageModel.PriceSource.CATALOGUE
        )
        message = ngettext(
            "%(count)d price will follow the catalogue from the next sync.",
            "%(count)d prices will follow the catalogue from the next sync.",
            count,
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImageModel]:
        return super().get_queryset(request).with_live()  # availability without a query a row

    @admin.display(description=_("Shuts down"), ordering="retires_on")
    def ends(self, model: ImageModel) -> date | None:
        return model.shuts_down_on(model.live)

    @admin.display(description=_("New jobs"))
    def availability(self, model: ImageModel) -> str:
        live = model.live
        available = model.is_available(live, timezone.localdate())
        if live is None or live.offered is None:
            source = gettext("by its end date; not synced yet")
        elif live.offered:
            source = gettext("offered by the key")
        else:
            source = gettext("not offered by the key")
        return f"{gettext('yes') if available else gettext('no')} ({source})"

    @admin.action(description=_("Export the selected models as JSON"))
    def export_models(self, request: HttpRequest, queryset: QuerySet[ImageModel]) -> HttpResponse:
        response = HttpResponse(export_document(queryset), content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="image-models.json"'
        return response

    @admin.action(description=_("Read the live model list now"))
    def sync_now(self, request: HttpRequest, queryset: QuerySet[ImageModel]) -> None:
        report_sync(request, self)

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="imagegen_imagemodel_import",
            ),
            path(
                "sync/",
                self.admin_site.admin_view(self.sync_view),
                name="imagegen_imagemodel_sync",
            ),
        ]
        return extra + super().get_urls()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        undescribed = list(UpstreamModel.objects.undescribed_images()[:20])
        context = {**(extra_context or {}), "undescribed": undescribed}
        return super().changelist_view(request, context)

    def sync_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not self.has_change_permission(request):
            return redirect("admin:imagegen_imagemodel_changelist")
        report_sync(request, self)
        return redirect("admin:imagegen_imagemodel_changelist")

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            return redirect("admin:imagegen_imagemodel_changelist")
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            names = form.save()
            message = ngettext(
                "Imported %(count)d model.", "Imported %(count)d models.", len(names)
            )
            self.message_user(request, message % {"count": len(names)}, messages.SUCCESS)
            return redirect("admin:imagegen_imagemodel_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.opts,
                   "title": _("Import image models")}  # fmt: skip
        return TemplateResponse(request, "admin/imagegen/imagemodel/import.html", context)


def report_sync(request: HttpRequest, model_admin: admin.ModelAdmin) -> None:
    report = sync_models()
    if report.listed is not None:
        model_admin.message_user(
            request, gettext("The key offers %(count)s models.") % {"count": report.listed}
        )
    if report.repriced:
        model_admin.message_user(
            request,
            gettext("New prices from the catalogue: %(models)s.")
            % {"models": list_text(report.repriced)},
        )
    for line in report.errors:
        model_admin.message_user(
            request, gettext("Could not read the %(what)s") % {"what": line}, messages.WARNING
        )


@admin.register(UpstreamModel)
class UpstreamModelAdmin(admin.ModelAdmin):
    list_display = ["name", "offered", "model_type", "shutdown_on", "in_catalogue", "last_seen_at"]
    list_filter = ["offered", "model_type", "shutdown_on"]
    search_fields = ["name", "provider"]
    actions = ["add_to_catalogue"]
    readonly_fields = [f.name for f in UpstreamModel._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[UpstreamModel]:
        described = ImageModel.objects.filter(name=OuterRef("name"))
        return super().get_queryset(request).annotate(described=Exists(described))

    @admin.display(description=_("In the catalogue"), boolean=True, ordering="described")
    def in_catalogue(self, upstream: UpstreamModel) -> bool:
        return bool(getattr(upstream, "described", False))

    @admin.action(description=_("Add with a basic schema (disabled, to review)"))
    def add_to_catalogue(
        self, request: HttpRequest, queryset: QuerySet[UpstreamModel]
    ) -> HttpResponse | None:
        added = [add_with_basic_schema(upstream) for upstream in queryset]
        message = ngettext(
            "Added %(count)d model, disabled: review its parameters, then enable it.",
            "Added %(count)d models, disabled: review their parameters, then enable them.",
            len(added),
        )
        self.message_user(request, message % {"count": len(added)}, messages.SUCCESS)
        if len(added) == 1:
            return redirect("admin:imagegen_imagemodel_change", added[0].pk)
        return None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from sync_models


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at", "owner", "model_name", "short_prompt", "status", "error_code", "shown_cost",
    ]  # fmt: skip
    list_filter = ["status", "model_name", "error_code", "cost_basis", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["prompt", "request_id", "owner__username"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Generation._meta.fields]
    inlines = [ImageInputInline]

    @admin.display(description=_("Prompt"))
    def short_prompt(self, generation: Generation) -> str:
        return generation.prompt[:80]

    @admin.display(description=_("Cost"), ordering="cost")
    def shown_cost(self, generation: Generation) -> str:
        if generation.cost is None:
            return ""
        return format_money(generation.cost, generation.cost_currency or "USD")

    def has_add_permission(self, request: object) -> bool:
        return False  # generations come only from the generate page


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "model_name", "updated_at"]
    list_filter = ["model_name"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username", "model_name"]
    readonly_fields = ["id", "created_at", "updated_at"]


# Each person's profile, budgets, limits and own key: admin_people.py (its registrations); wrong
# passwords, and the limit on the admin's own sign-in: admin_password_attempts.py.
from imagegen import admin_password_attempts, admin_people  # noqa: E402, F401
