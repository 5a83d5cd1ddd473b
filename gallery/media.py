"""PLACEHOLDER until the media module lands: owner-only FileResponse."""

from django.http import FileResponse, HttpRequest, HttpResponse

from gallery.models import Image


def file_response(
    request: HttpRequest, image: Image, variant: str, *, download: bool = False, **options: object
) -> HttpResponse:
    field = image.file if variant == "original" else image.thumbnail
    response = FileResponse(
        field.open("rb"), as_attachment=download, filename=image.download_name(variant)
    )
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
