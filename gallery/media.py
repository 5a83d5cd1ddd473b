"""How an image's files leave the server, once a view has decided who may have them.

Files are never reachable at a guessable public path: every original and thumbnail (and grid
rendition, the smaller thumbnail the gallery's tiles choose by `srcset`) goes through
a view that checks ownership or an active share link, and then through file_response(), which
chooses how the bytes travel:

- local storage, the default: Django streams the file (FileResponse);
- local storage behind nginx, with MEDIA_ACCEL_REDIRECT_PREFIX set: an empty answer carrying
  `X-Accel-Redirect`, and nginx sends the file from an `internal` location, which no browser can
  request directly. With MEDIA_ACCEL_REDIRECT_PREFIX=/protected-media/ and MEDIA_ROOT=/srv/media/:

      location /protected-media/ {
          internal;                      # only reachable through X-Accel-Redirect
          alias /srv/media/;
          add_header X-Content-Type-Options nosniff always;
          add_header Content-Security-Policy
              "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:" always;
      }

  nginx keeps Content-Type, Content-Disposition and Cache-Control from our answer, and sets
  Content-Length, ETag and byte ranges itself; it drops other headers, hence the add_header
  lines, which must repeat MEDIA_CSP below word for word.
- object storage (no local path: S3 through django-storages, imagegen.environment.object_storage):
  a redirect, never cached, to a URL that django-storages signs and makes expire
  (AWS_QUERYSTRING_EXPIRE, 300 s by default). The signature covers the answer's headers, which
  the object store sends as if they were ours: the type, the readable file name (as an
  attachment for a download) and `private`, so no shared cache keeps the bytes. A URL is signed
  as of the start of a window of half its life (gallery.object_storage), so every process hands
  out the same one within it and a browser reuses the tiles it has. A revoked share stops at the
  view: no URL is handed out, and one given before dies within the expiry.

Caching. The owner's browser may keep a file for a year: its name and bytes never change. A
shared file may be stored by any cache but must be revalidated each time (`no-cache` with the
ETag): while the link lives the answer is a 304 without the bytes, and once it is revoked (or has
expired) a 404, so a revocation takes effect at once for every cache that honours HTTP. A
public max-age would let a browser or a proxy keep serving the file after the revocation.

An SVG original is a document that a browser would run if it were opened as a page, so it always
leaves through Django, whatever the storage: with MEDIA_CSP (a sandbox, no script, nothing loaded
from anywhere), nosniff, its own type and as an attachment, which a browser still shows in an
<img> but never opens as a page. Neither an object store (which cannot send a CSP header) nor a
forgotten nginx line can serve it bare. It is bounded by DOWNLOAD_MAX_BYTES, like every original.

A share that hides the prompt gets the original with our embedded metadata taken out. That copy
is made in memory (bounded by the file's size, at most DOWNLOAD_MAX_BYTES) and never handed to
nginx or to object storage, whose copies still carry the prompt.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import BinaryIO
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csp import get_nonce
from django.utils.cache import get_conditional_response
from django.utils.csp import CSP, build_policy
from django.utils.http import content_disposition_header

from gallery import embedding, formats
from gallery.models import Image

logger = logging.getLogger(__name__)

# An owner's file names never change and their bytes are never rewritten (the UUID names an
# image for ever), so a browser may keep them for a year without asking again; no shared cache
# may keep them at all.
OWNER_CACHE = "private, max-age=31536000, immutable"
# A shared file may be cached anywhere, but a cache must ask again before each use (with the
# ETag: a 304 costs no bytes), because the link can be revoked or expire at any moment, after
# which the file must stop answering at once.
SHARED_CACHE = "no-cache"
# A signed storage URL is a short-lived secret of its own: never cache the redirect to it.
REDIRECT_CACHE = "private, no-store"
# What the object store says of the bytes it sends through a signed URL. The URL is the same for a
# while (gallery.object_storage), so a browser can reuse what it fetched: the owner's for as long
# as the URL is handed out (OWNER_CACHE: the bytes never change); a share's by the browser's own
# judgement, for one browser only. Either way the redirect above it is asked for every time, so
# a revoked share reaches no kept copy.
SIGNED_SHARED_CACHE = "private"
# Every file we send is an image, never a page: opened on its own, it runs no script, submits
# nothing and loads nothing but inline images. An SVG needs this; the rest get it too (GitHub
# serves raw files so), which lets one nginx line cover every file.
MEDIA_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
THUMBNAIL_TYPE = formats.mime_type(formats.THUMBNAIL)


def file_response(
    request: HttpRequest,
    image: Image,
    variant: str,
    *,
    download: bool = False,
    public: bool = False,
    strip_metadata: bool = False,
) -> HttpResponse:
    """The original, the thumbnail or the grid rendition of `image`, for a caller that has
    checked access. An image kept before grid renditions existed, and not yet backfilled, answers
    for its grid with its thumbnail.

    `public`: for a share link rather than the owner, which changes the caching (SHARED_CACHE,
    where an owner gets OWNER_CACHE). `download`: as
    an attachment with a readable name (an SVG original always is one). `strip_metadata`:
    nothing in the answer tells the prompt: the original without our embedded metadata, and a
    file name without prompt words.
    """
    if variant == "grid" and not image.grid:
        variant = "thumbnail"
    field = {"original": image.file, "grid": image.grid}.get(variant, image.thumbnail)
    # Thumbnails are re-encoded by ingest and carry no metadata; only originals need stripping.
    strip = strip_metadata and variant == "original"
    drawing = variant == "original" and image.format == "svg"
    content_type = image.content_type if variant == "original" else THUMBNAIL_TYPE
    disposition = content_disposition_header(
        download or drawing, _file_name(image, variant, neutral=strip_metadata)
    )
    if not strip and not drawing and not _is_local(field):
        cache = SIGNED_SHARED_CACHE if public else OWNER_CACHE
        return _signed_redirect(field, content_type, disposition, cache)
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": disposition,
        "Cache-Control": SHARED_CACHE if public else OWNER_CACHE,
        "ETag": _etag(image, variant, stripped=strip),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": MEDIA_CSP,
    }
    response = HttpResponse(headers=headers)
    conditional = get_conditional_response(request, etag=headers["ETag"], response=response)
    if conditional is not response:
        # 304 Not Modified, with the same ETag and Cache-Control; a browser may update the
        # cached headers from it, so it carries the same policy (not the site's, which the
        # middleware would add).
        conditional["Content-Security-Policy"] = MEDIA_CSP
        conditional["X-Content-Type-Options"] = "nosniff"
        return conditional
    if strip or drawing:
        # In memory: a stripped copy exists nowhere else, and an SVG must carry our headers.
        response.content = _without_metadata(field, image) if strip else _read(field)
        response["Content-Length"] = str(len(response.content))
        return response
    if settings.MEDIA_ACCEL_REDIRECT_PREFIX:
        response["X-Accel-Redirect"] = quote(settings.MEDIA_ACCEL_REDIRECT_PREFIX + field.name)
        return response
    streamed = FileResponse(field.open("rb"))
    for name, value in headers.items():
        streamed[name] = value  # FileResponse guesses a type and a name from the storage path
    return streamed


def _signed_redirect(
    field: FieldFile, content_type: str, disposition: str, cache_control: str
) -> HttpResponse:
    answer_headers = {
        "ResponseContentType": content_type,
        "ResponseContentDisposition": disposition,
        "ResponseCacheControl": cache_control,
    }
    response = HttpResponseRedirect(field.storage.url(field.name, parameters=answer_headers))
    response["Cache-Control"] = REDIRECT_CACHE
    return response


@contextmanager
def open_stored(field: FieldFile) -> Iterator[BinaryIO]:
    """A stored file, to read as its bytes arrive. Opening a FieldFile on object storage
    (django-storages' S3File) downloads the whole object before the first read; here the
    object's body is read from the connection instead, a chunk at a time."""
    bucket = getattr(field.storage, "bucket", None)
    if bucket is None:  # local storage: reading the file is already streaming it
        with field.open("rb") as file:
            yield file
        return
    from botocore.exceptions import ClientError  # installed with django-storages[s3]

    try:
        # No AWS_LOCATION is configured (imagegen.settings): a file's name is its key.
        body = bucket.Object(field.name).get()["Body"]
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            raise FileNotFoundError(field.name) from error
        raise
    with closing(body):
        yield body


def _read(field: FieldFile) -> bytes:
    with open_stored(field) as file:
        return file.read()


def _without_metadata(field: FieldFile, image: Image) -> bytes:
    data = _read(field)
    try:
        return embedding.strip_metadata(data, image.format)
    except ValueError:
        # Stripping walks the container exactly as embedding did, so a file it cannot walk is
        # one ingest kept without embedded metadata (see ingest_image): there is none to take out.
        logger.warning("served image %s as stored: no metadata to strip", image.uuid)
        return data


def _is_local(field: FieldFile) -> bool:
    try:
        field.path  # noqa: B018 (the storage answers only if the file is on a local disk)
    except NotImplementedError:
        return False
    return True


def _etag(image: Image, variant: str, *, stripped: bool) -> str:
    if variant != "original":
        # A thumbnail is written once under its image's UUID and never rewritten.
        return f'"{image.uuid}-{variant}"'
    return f'"{image.sha256}-stripped"' if stripped else f'"{image.sha256}"'


def _file_name(image: Image, variant: str, *, neutral: bool) -> str:
    if neutral:
        extension = image.format if variant == "original" else formats.THUMBNAIL
        return f"image-{str(image.uuid)[:8]}.{extension}"
    return image.download_name(variant)


class BucketImagesAllowed:
    """Middleware, after Django's CSP middleware in MIDDLEWARE (so it answers first): with object
    storage, each page's policy lets images come from the bucket too (a browser checks an image's
    redirect target against it). The origin is the storage's (gallery.object_storage)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origin = getattr(default_storage, "origin", None)
        if origin and settings.SECURE_CSP and CSP.HEADER_ENFORCE not in response:
            policy = dict(settings.SECURE_CSP)
            policy["img-src"] = [*policy.get("img-src", ["'self'"]), origin]
            # Django's middleware leaves a policy already set alone.
            response.headers[CSP.HEADER_ENFORCE] = build_policy(policy, get_nonce(request))
        return response
