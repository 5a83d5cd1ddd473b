"""Gzip for pages: Django's GZipMiddleware, limited to HTML.

A gallery page of 60 thumbnails is about 70 KB of HTML and 8 KB gzipped: on a phone's connection
that is a quarter of a second before anything can be drawn (bench/lighthouse.py). Everything else
is left as it is: whitenoise serves static files already compressed (this middleware comes after
it, so never sees them), and images and zip archives are compressed formats already.

Django's middleware pads each answer with random bytes against BREACH, and the CSRF token in a
page is masked afresh for every response.
"""

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware


class PageGZipMiddleware(GZipMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
