from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from imagegen.models import Generation, ImageModel


@admin.register(ImageModel)
class ImageModelAdmin(admin.ModelAdmin):
    list_display = ["label", "name", "family", "enabled", "max_images", "position"]
    list_editable = ["enabled", "position"]
    list_filter = ["family", "enabled"]
    search_fields = ["name", "label"]
    fieldsets = [
        (None, {"fields": ["name", "label", "family", "enabled", "position"]}),
        (_("Limits"), {"fields": ["prompt_max_length", "max_images"]}),
        (
            _("Parameters"),
            {
                "description": _(
                    'Lists are JSON, e.g. ["auto", "low", "high"]. An empty list [] means the '
                    "parameter is never sent to this model."
                ),
                "fields": [
                    ("sizes", "default_size", "custom_sizes"),
                    ("qualities", "default_quality"),
                    ("styles", "default_style"),
                    ("response_formats", "default_response_format"),
                    ("output_formats", "default_output_format", "supports_compression"),
                    ("backgrounds", "default_background"),
                    ("moderations", "default_moderation"),
                    ("supports_streaming", "max_partial_images"),
                ],
            },
        ),
        (_("Response"), {"fields": ["returns_revised_prompt", "returns_usage"]}),
    ]


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "owner", "model_name", "short_prompt", "status", "error_code"]
    list_filter = ["status", "model_name", "error_code", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["prompt", "request_id", "owner__username"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Generation._meta.fields]

    @admin.display(description=_("Prompt"))
    def short_prompt(self, generation: Generation) -> str:
        return generation.prompt[:80]

    def has_add_permission(self, request: object) -> bool:
        return False  # generations come only from the generate page
