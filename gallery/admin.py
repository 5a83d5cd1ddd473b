from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from gallery.models import Image


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = [
        "preview",
        "short_prompt",
        "owner",
        "model_name",
        "size",
        "format",
        "created_at",
    ]
    list_filter = ["model_name", "format", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["prompt", "revised_prompt", "owner__username", "sha256"]
    date_hierarchy = "created_at"
    readonly_fields = ["preview", *[f.name for f in Image._meta.fields]]
    raw_id_fields = ["owner", "generation"]

    @admin.display(description=_("Image"))
    def preview(self, image: Image) -> SafeString:
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

    def has_add_permission(self, request: object) -> bool:
        return False  # images come only from generations
