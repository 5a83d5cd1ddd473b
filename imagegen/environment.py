"""Reading the studio's configuration from environment variables: typed readers that refuse a
bad value with the variable's name, and the two settings built from several variables (the
database from DATABASE_URL, object storage from the AWS_* variables). imagegen/settings.py uses
them; the README's configuration table lists every variable."""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_number[T: (int, float)](name: str, default: T, kind: type[T]) -> T:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = kind(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a {kind.__name__}, not {value!r}") from None
    if number < 0:
        raise ImproperlyConfigured(f"{name} must not be negative")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Turn sqlite:///path or postgres://user:password@host:port/name into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:]) if parts.path.startswith("/") else parts.path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path if Path(path).is_absolute() else BASE_DIR / path,
            # WAL lets the web process read while a worker writes; the busy timeout waits out
            # a writer instead of failing with "database is locked".
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # Each server thread keeps its connection (closed when the thread ends): opening one
            # per request made a small page 12.3 ms instead of 7.9 (p50, bench/README.md).
            "CONN_MAX_AGE": None,
        }
    if parts.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # Kept for a minute by each server thread: under WSGI threads (granian), at most one
            # a thread, so web processes x WEB_THREADS in all (measured: 13 for 2 x 8; bench/
            # README.md); a connection per request doubled a small page's time (11 -> 22 ms).
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # A server that does not answer fails a request (and /readyz) in 10 s, instead of
            # holding its thread for as long as the network keeps trying.
            "OPTIONS": {"connect_timeout": 10},
        }
    raise ImproperlyConfigured("DATABASE_URL must start with sqlite:/// or postgres://")


# Object storage (S3 or any S3-compatible server, through django-storages).
# With AWS_STORAGE_BUCKET_NAME set, images are kept in that bucket instead of MEDIA_ROOT. Objects
# are private (no ACL is sent: the bucket's own, private, policy applies) and reach a viewer only
# as a signed URL that expires after AWS_QUERYSTRING_EXPIRE seconds, given by a view that checked
# who may see the file (gallery/media.py). Keys are named by UUID (gallery.models.images) and are
# never overwritten. tests/s3_server.py runs a real S3-compatible server for the tests.
def object_storage() -> dict | None:
    bucket = env_str("AWS_STORAGE_BUCKET_NAME")
    if not bucket:
        return None
    from boto3.s3.transfer import TransferConfig  # boto3 is loaded only for object storage

    endpoint = env_str("AWS_S3_ENDPOINT_URL") or None  # None: Amazon S3 itself
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": env_str("AWS_S3_REGION_NAME") or None,
        # Unset: boto3's own chain (an instance role, ~/.aws/credentials, ...).
        "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
        "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
        # Path style (endpoint/bucket/key) is what S3-compatible servers answer to.
        "addressing_style": env_str("AWS_S3_ADDRESSING_STYLE", "path" if endpoint else "") or None,
        "signature_version": "s3v4",
        "querystring_auth": True,  # every URL is signed: nothing is ever public
        "querystring_expire": env_number("AWS_QUERYSTRING_EXPIRE", 300, int),
        "default_acl": None,
        "file_overwrite": False,  # a second file under a taken name gets a name of its own
        # One part of a large upload in memory at a time, not ten read ahead by threads: a
        # 40 MiB original peaked at 46 MiB traced with threads, 10 MiB without (bench/
        # s3_uploads.py), and a worker runs 64 jobs at once.
        "transfer_config": TransferConfig(use_threads=False),
        # A file opened for reading is fetched whole: beyond 2 MiB into a temporary file, not
        # memory (archives stream from the object instead: gallery/media.py).
        "max_memory_size": 2 * 1024 * 1024,
    }
    # django-storages' S3Storage, its boto3 session shared by a process's threads.
    return {"BACKEND": "gallery.object_storage.S3Storage", "OPTIONS": options}
