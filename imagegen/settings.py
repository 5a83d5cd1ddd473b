"""Settings for the image studio, read from environment variables.

Every variable is listed, with its default, in the README's configuration table. The defaults run on
a fresh checkout: SQLite, media on local disk, and the offline provider when no COMETAPI_KEY is set.
"""

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from imagegen.environment import (
    BASE_DIR,
    database_from_url,
    env_bool,
    env_list,
    env_number,
    env_str,
    object_storage,
)
from imagegen.serving.secret_key import secret_key_from_file

DEBUG = env_bool("DEBUG", False)

# SECRET_KEY if set; else the key kept in SECRET_KEY_FILE, made at random (readable only by its
# owner) on the first run. Machines that serve the same site must share it (the variable or the
# file), or sessions and signed links made by one are refused by another.
SECRET_KEY_FILE = Path(env_str("SECRET_KEY_FILE", str(BASE_DIR / ".state" / "secret-key")))
SECRET_KEY = env_str("SECRET_KEY") or secret_key_from_file(SECRET_KEY_FILE)

# Anyone who reaches the site may make an account (a home studio). A team's studio turns this off:
# administrators make the accounts in admin, and the sign-up page says to ask one of them.
SIGNUP_OPEN = env_bool("SIGNUP_OPEN", True)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "imagegen",
    "gallery",
]

MIDDLEWARE = [
    "imagegen.logs.RequestIDMiddleware",  # first: every line of a request carries its id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "imagegen.compression.PageGZipMiddleware",  # pages only; whitenoise compresses static files
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "imagegen.time_zones.PersonTimeZoneMiddleware",  # each person's dates in their time zone
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "gallery.media.BucketImagesAllowed",  # with S3: images may come from the bucket
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "imagegen.urls"
WSGI_APPLICATION = "imagegen.wsgi.application"
ASGI_APPLICATION = "imagegen.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "imagegen.context_processors.studio",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "sqlite:///db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "generate"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ar", "العربية"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["imagegen.formats"]  # what Django's own locales leave out
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Media is private: files are served only through gallery views that check ownership, so
# MEDIA_ROOT must not be exposed by the web server. MEDIA_URL is never used to build links.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/private-media-is-served-by-views/"


# --- Object storage (S3 or any S3-compatible server, through django-storages) ---
# With AWS_STORAGE_BUCKET_NAME set, images are kept in that bucket instead of MEDIA_ROOT
# (imagegen.environment.object_storage: private objects, short signed URLs, keys never reused).
if (_bucket_storage := object_storage()) is not None:
    STORAGES["default"] = _bucket_storage
# --- end of object storage ---

# Generations run as durable background jobs: django-tasks-db keeps the queue in the database,
# and `manage.py run_workers` runs them (see the README). The immediate backend runs a job inside
# the request instead (the test suite's default).
TASKS = {"default": {"BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# Security headers. Scripts and styles come only from our own static files.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# The probes answer plain HTTP too: a load balancer or monitor asks the web process directly.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# Session and CSRF cookies over HTTPS only, as production has it. `make run` serves plain HTTP
# and turns this off (SECURE_COOKIES=0): a browser elsewhere than localhost would drop them.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
# HSTS: a browser that saw the header uses only HTTPS for this host for SECURE_HSTS_SECONDS (set it
# once the site is HTTPS-only: an hour first, then a year). It covers the host's own subdomains
# too (SECURE_HSTS_INCLUDE_SUBDOMAINS; never the other hosts of its parent domain): turn that off
# only if a subdomain of the studio's host is served over plain HTTP. Preloading (browsers ship
# the host as HTTPS-only, hard to undo) is a decision of its own: off unless SECURE_HSTS_PRELOAD,
# and check --deploy's reminder of it (security.W021) is silenced while it is off.
SECURE_HSTS_SECONDS = env_number("SECURE_HSTS_SECONDS", 0, int)
SECURE_HSTS_INCLUDE_SUBDOMAINS = (
    env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True) and SECURE_HSTS_SECONDS > 0
)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
YEAR = 365 * 24 * 3600
if SECURE_HSTS_PRELOAD and not (SECURE_HSTS_SECONDS >= YEAR and SECURE_HSTS_INCLUDE_SUBDOMAINS):
    raise ImproperlyConfigured(
        "SECURE_HSTS_PRELOAD needs SECURE_HSTS_SECONDS of a year (31536000) or more, with "
        "SECURE_HSTS_INCLUDE_SUBDOMAINS on: the preload lists take nothing less."
    )
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Behind our nginx (deploy/nginx.conf): trust its X-Forwarded-Proto, and the address it appends
# to X-Forwarded-For as the client's (imagegen/password_attempts.py).
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Password guessing (sign-in, "Delete my account"; imagegen/password_attempts.py): wrong passwords
# counted over a sliding window of this many seconds, in the database (every process sees them).
PASSWORD_ATTEMPT_WINDOW = env_number("PASSWORD_ATTEMPT_WINDOW", 900, int)
# Wrong passwords for one account from one address within the window; 0: no such limit.
PASSWORD_ATTEMPTS_PER_ADDRESS = env_number("PASSWORD_ATTEMPTS_PER_ADDRESS", 5, int)
# For one account from all addresses: stops a guesser who rotates addresses; 0: no such limit.
PASSWORD_ATTEMPTS_PER_ACCOUNT = env_number("PASSWORD_ATTEMPTS_PER_ACCOUNT", 20, int)
# From one address over all accounts (credential stuffing); 0: no such limit.
PASSWORD_ATTEMPTS_PER_ADDRESS_ALL_ACCOUNTS = env_number(
    "PASSWORD_ATTEMPTS_PER_ADDRESS_ALL_ACCOUNTS", 50, int
)
if PASSWORD_ATTEMPT_WINDOW < 1:
    raise ImproperlyConfigured("PASSWORD_ATTEMPT_WINDOW must be at least 1 (second).")

SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# The upstream image endpoint. With no key the embedded offline provider answers instead,
# through the same httpx client (see imagegen/service/ and imagegen/offline/).
COMETAPI_KEY = env_str("COMETAPI_KEY")
COMETAPI_BASE_URL = env_str("COMETAPI_BASE_URL", "https://api.cometapi.com/v1").rstrip("/")
COMETAPI_CONNECT_TIMEOUT = env_number("COMETAPI_CONNECT_TIMEOUT", 10.0, float)
# Real generations take 5-120 s; the read timeout must be well above that.
COMETAPI_READ_TIMEOUT = env_number("COMETAPI_READ_TIMEOUT", 300.0, float)
COMETAPI_MAX_RETRIES = env_number("COMETAPI_MAX_RETRIES", 2, int)
COMETAPI_MAX_CONNECTIONS = env_number("COMETAPI_MAX_CONNECTIONS", 64, int)
# CometAPI's public model catalogue (type, features, prices; no key is sent). Empty: the
# base URL's host with /api/models, as CometAPI serves it.
COMETAPI_CATALOGUE_URL = env_str("COMETAPI_CATALOGUE_URL") or urlunsplit(
    (*urlsplit(COMETAPI_BASE_URL)[:2], "/api/models", "", "")
)
# Seconds between `manage.py sync_models` runs by one worker process (the live model list, end
# dates, prices); 0 turns it off, for deployments that run it from cron.
MODEL_SYNC_INTERVAL = env_number("MODEL_SYNC_INTERVAL", 21600.0, float)

# What things cost (imagegen/costs): budgets are counted in this currency; a model priced in
# another is shown at its own price but not counted against a spend cap.
BUDGET_CURRENCY = env_str("BUDGET_CURRENCY", "USD").upper()
# Each person's own CometAPI key is encrypted with the first of these Fernet keys (comma
# separated, newest first; `Fernet.generate_key()`), and opened with any: to rotate, put a new
# key first, run `manage.py rotate_personal_keys`, then drop the old one. Empty: a key derived
# from SECRET_KEY (set your own in production, so that the two can be changed apart).
KEY_ENCRYPTION_KEYS = [key for key in env_str("KEY_ENCRYPTION_KEYS").split(",") if key.strip()]

# Bounds on fetching URL results and on the images we accept.
DOWNLOAD_MAX_BYTES = env_number("DOWNLOAD_MAX_BYTES", 50 * 1024 * 1024, int)
# Bytes of downloaded images one process holds in memory at once, whatever its thread count: a
# download goes to a temporary file as it arrives, and is read into memory for ingest (which
# needs it whole, and a copy with the metadata: each image counts twice) only within this budget;
# a thread waits its turn. An image above the budget still goes, alone (imagegen/downloads.py).
DOWNLOAD_MEMORY_BUDGET = env_number("DOWNLOAD_MEMORY_BUDGET", 256 * 1024 * 1024, int)
DOWNLOAD_TIMEOUT = env_number("DOWNLOAD_TIMEOUT", 60.0, float)
# The largest image any model produces is Seedream's 4K, 4096x4096; bigger is refused unopened.
IMAGE_MAX_PIXELS = env_number("IMAGE_MAX_PIXELS", 4096 * 4096, int)
THUMBNAIL_SIZE = env_number("THUMBNAIL_SIZE", 512, int)
# Uploads (gallery/uploads.py): bytes per image, files per request (zip members included), and
# the bytes one request's zips may expand to.
UPLOAD_MAX_BYTES = env_number("UPLOAD_MAX_BYTES", 50 * 1024 * 1024, int)
UPLOAD_MAX_FILES = env_number("UPLOAD_MAX_FILES", 200, int)
# Django refuses a request with more files than this outright (a bare 400, default 100): as many
# as the studio takes, so its own limit and message are the ones people meet.
DATA_UPLOAD_MAX_NUMBER_FILES = UPLOAD_MAX_FILES
UPLOAD_ZIP_MAX_BYTES = env_number("UPLOAD_ZIP_MAX_BYTES", 1024 * 1024 * 1024, int)

# The offline provider: simulated seconds per generation, so progress can be seen in demos.
OFFLINE_LATENCY = env_number("OFFLINE_LATENCY", 0.0, float)

# LOG_FORMAT: "plain" (the default: lines a person reads in a terminal, as `make run` and
# `make dev` show them) or "json" (one object a line, for journald and log shippers; the systemd
# units of docs/deployment.md set it). Either way a line logged while a request is handled
# carries its request id, and one logged while a job runs its generation id (imagegen/logs.py).
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "imagegen.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s%(context)s %(message)s"},
        "json": {"()": "imagegen.logs.JSONFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler (DEBUG only) would print every line a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- Private media delivery (gallery/media.py, share links) ---
# The URL prefix of an nginx `internal` location (for example /protected-media/) whose alias is
# MEDIA_ROOT: Django checks who may see a file, then answers with X-Accel-Redirect and nginx
# sends the bytes. Empty (the default): Django streams files itself. With object storage
# (django-storages) files are not local and viewers are redirected to a signed, expiring URL.
MEDIA_ACCEL_REDIRECT_PREFIX = env_str("MEDIA_ACCEL_REDIRECT_PREFIX")
if MEDIA_ACCEL_REDIRECT_PREFIX and not (
    MEDIA_ACCEL_REDIRECT_PREFIX.startswith("/") and MEDIA_ACCEL_REDIRECT_PREFIX.endswith("/")
):
    raise ImproperlyConfigured("MEDIA_ACCEL_REDIRECT_PREFIX must start and end with a slash.")
# --- end of private media delivery ---

# --- Web server (manage.py serve; imagegen/serving/web.py: granian on the WSGI interface) ---
# WEB_PROCESSES processes, each serving WEB_THREADS requests at once: views are synchronous and
# mostly wait on the database or on files, so threads serve; processes use more cores.
WEB_PROCESSES = env_number("WEB_PROCESSES", 2, int)
WEB_THREADS = env_number("WEB_THREADS", 8, int)
if WEB_PROCESSES < 1 or WEB_THREADS < 1:
    raise ImproperlyConfigured("WEB_PROCESSES and WEB_THREADS must be at least 1.")
# --- end of web server ---

# --- Background workers (manage.py run_workers: imagegen/worker.py, imagegen/recovery.py) ---
# Each worker process runs WORKER_THREADS of django-tasks-db's worker loops: a job spends nearly
# all its time waiting for the upstream, so threads, not processes, give the concurrency. On two
# cores one process of 64 threads runs 64 two-second jobs in about 6 s and 0.55 GB; two of 32 are
# no faster and take 0.7 GB (bench/concurrency.py). More processes pay off with more cores.
WORKER_PROCESSES = env_number("WORKER_PROCESSES", 1, int)
WORKER_THREADS = env_number("WORKER_THREADS", 64, int)
# How often, in seconds, a worker process looks at an empty queue (its idle threads take turns).
WORKER_POLL_INTERVAL = env_number("WORKER_POLL_INTERVAL", 0.2, float)
# On SIGTERM/SIGINT, seconds to let running jobs finish before the process exits anyway (an
# unfinished job is then retried by another worker, or on the next start).
WORKER_GRACE = env_number("WORKER_GRACE", 30.0, float)
# A process not seen for this long is dead and its jobs are retried once or failed. Processes
# record themselves every WORKER_STALE_AFTER / 6 s and run recovery every WORKER_STALE_AFTER / 2 s.
WORKER_STALE_AFTER = env_number("WORKER_STALE_AFTER", 30.0, float)
# A job still running after this many seconds is failed: longer than any one upstream call.
GENERATION_DEADLINE = env_number("GENERATION_DEADLINE", 600.0, float)
# Seconds between runs of `manage.py sweep_orphan_files` by one worker process; 0 turns it off
# (for deployments that run the sweep from cron).
ORPHAN_SWEEP_INTERVAL = env_number("ORPHAN_SWEEP_INTERVAL", 3600.0, float)
# Days a deleted image stays in the Trash, restorable, before the purge (`manage.py purge_trash`,
# run by a worker on the sweep's schedule) deletes it and its files.
TRASH_DAYS = env_number("TRASH_DAYS", 30, int)
if WORKER_PROCESSES < 1 or WORKER_THREADS < 1:
    raise ImproperlyConfigured("WORKER_PROCESSES and WORKER_THREADS must be at least 1.")
if TRASH_DAYS < 1:
    raise ImproperlyConfigured("TRASH_DAYS must be at least 1.")
if WORKER_STALE_AFTER <= 0:
    raise ImproperlyConfigured("WORKER_STALE_AFTER must be more than 0.")
if GENERATION_DEADLINE <= COMETAPI_READ_TIMEOUT:
    raise ImproperlyConfigured("GENERATION_DEADLINE must be longer than COMETAPI_READ_TIMEOUT.")
# --- end of background workers ---
