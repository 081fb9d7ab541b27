"""Shuohua settings: one module, every value from the environment with a safe default.

Embedded defaults (nothing set): SQLite and media under ./var, Redis at REDIS_URL as started by
`make run` (platform/shuohua_run.py) or `make test` (platform/with_redis.py). README lists every variable.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Everything a running platform writes (database, media, secret key, demo accounts). The suite points
# SHUOHUA_VAR_DIR at a scratch folder, so a developer's own var/ is never touched by `make test`.
VAR_DIR = Path(env.str("SHUOHUA_VAR_DIR", default=str(BASE_DIR / "var")))
SECRET_KEY_FILE = VAR_DIR / "secret_key"

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and SECRET_KEY_FILE.exists():
    # The key `make run` generated: `manage.py createsuperuser` and friends work without exporting it.
    SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (make run generates one in var/).")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    # The apps in their layers, lowest first: each imports only the ones above it in this list
    # (tests/test_layers.py; the README's "Layers").
    "accounts",
    "catalogue",
    "contributions",
    "animation",
    "gallery",
]

MIDDLEWARE = [
    # First: an oversized body is refused before sessions, authentication or any view (config/body_limits.py).
    "config.body_limits.RequestBodyLimitMiddleware",
    # Counts and times every answer that passed the body limit, for /metrics (health/).
    "health.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Errors under /api/ as JSON in the client's language, whatever raised them (config/api_errors.py).
    "config.api_errors.ApiErrorsAsJsonMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Rate limits on login, signup, password reset and the upload form (config/rate_limits.py).
    "config.rate_limits.RateLimitMiddleware",
    # Last, as django-axes requires: counts failed logins and locks out username + address.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and tests write concurrently: wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # BEGIN IMMEDIATE: a transaction takes the write lock when it starts. A deferred one that reads, then
    # writes while another connection writes (a worker's heartbeat) fails at once with "database is
    # locked", without waiting for the timeout above.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Served by Django itself when true (the embedded `make run` setup); a deployment serves MEDIA_ROOT
# from its web server or object storage instead.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)

# Every file goes through Django's storage API. Local disk (MEDIA_ROOT) is the embedded default;
# STORAGE_BACKEND=s3 puts recordings, paintings and films in an S3-compatible bucket (SeaweedFS, MinIO,
# AWS), so that workers on other machines share no disk. URLs of stored files are then presigned.
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
if env.str("S3_PUBLIC_DOMAIN", default=""):
    raise ImproperlyConfigured(
        "S3_PUBLIC_DOMAIN is not supported: its unsigned URLs need a public-read bucket, which would make "
        "recordings and held-back films public. Films are served through /media/ (put a cache in front of nginx)."
    )
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("S3_BUCKET"),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("S3_REGION", default="us-east-1"),
            # No custom (CDN) domain: its URLs are unsigned, so every object, recordings included, would
            # have to be public-read. Films reach browsers through /media/ (access checked), never the bucket.
            "custom_domain": None,
            "addressing_style": "path",
            "signature_version": "s3v4",
            "querystring_auth": True,
            # Presigned URLs are for paintings only (films go through /media/): short, as anything
            # that can be taken down must be.
            "querystring_expire": env.int("S3_URL_EXPIRE_SECONDS", default=15 * 60),
            "file_overwrite": True,
            "default_acl": None,
        },
    }
elif STORAGE_BACKEND == "local":
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured("STORAGE_BACKEND must be 'local' or 's3'.")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Where workers copy inputs and render before putting results back in storage (local to each machine).
WORKER_SCRATCH_DIR = env.str("WORKER_SCRATCH_DIR", default="")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Password-reset links are mail: a public deployment (DEBUG off, HTTPS on) refuses to start with a backend
# nobody reads (checked below, once HTTPS is known). `make run` (HTTPS=0) prints them on its console.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="festival@shuohua.local")

# Redis carries the Celery broker and the Channels layer. make run / make test always set it.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

# channels-redis' pub/sub layer (CHANNEL_LAYER=pubsub, the default): a publication is one Redis PUBLISH
# that each web process hands to its own sockets from a plain queue each. The list layer
# (CHANNEL_LAYER=lists) wakes every socket's receive through a shared lock and two tasks per message:
# a thousand gallery screens on one Daphne took 520-570 ms (p50) to reach, against 360 ms here
# (bench/bench_live.py, quiet 2-core machine). Live messages are a courtesy either way (pages catch up
# over HTTP after a reconnect), so pub/sub's "delivered only to whoever listens now" is what we want.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": {
            "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "lists": "channels_redis.core.RedisChannelLayer",
        }[env.str("CHANNEL_LAYER", default="pubsub")],
        "CONFIG": {
            # redis-py 8 times reads out after 5 s by default, exactly channels-redis' blocking-pop wait:
            # an idle socket's consumer would then crash every few seconds. Allow well past that wait.
            # redis-py 8 also caps a pool at 100 connections and fails beyond: a burst of a thousand
            # gallery sockets closing at once (a reading room's screens at closing time) needs more.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "max_connections": 2000}],
            "prefix": env.str("CHANNELS_PREFIX", default="shuohua"),
        },
    }
}

# The broker is Redis (default) or RabbitMQ (CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672//).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "contributions.tasks.recording_transcribe": {"queue": "speech"},
    "animation.tasks.animation_align": {"queue": "speech"},
    "animation.tasks.recording_align_early": {"queue": "speech"},
    "animation.tasks.animation_render": {"queue": "render"},
    "catalogue.tasks.painting_detect_faces": {"queue": "render"},
    "gallery.tasks.passage_preview_render": {"queue": "render"},
}
# A GPU render worker consumes `render-gpu` (ANIMATION_DEVICE=cuda); RENDER_QUEUE sends films there.
RENDER_QUEUE = env.str("RENDER_QUEUE", default="render")
if RENDER_QUEUE != "render":
    for _task in ("animation.tasks.animation_render", "gallery.tasks.passage_preview_render"):
        CELERY_TASK_ROUTES[_task] = {"queue": RENDER_QUEUE}
# With the broker down, a publish fails fast (the sweeper sends it later) instead of blocking a request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A render of a long clip must never be handed to a second worker while the first still runs.
# Redelivery after a dead worker comes from the heartbeat sweeper (within ANIMATION_HEARTBEAT_TIMEOUT_SECONDS
# + ANIMATION_SWEEP_SECONDS), not from this timeout, which stays above the longest render.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
CELERY_BEAT_SCHEDULE = {
    "requeue-stuck-animations": {
        "task": "animation.tasks.animation_sweep_stuck",
        "schedule": float(env.int("ANIMATION_SWEEP_SECONDS", default=30)),
    },
    # Recordings whose hand-off never reached a worker (broker down) are sent again; withdrawals finish.
    "sweep-recordings": {"task": "contributions.tasks.recording_sweep", "schedule": 60.0},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Only the session: HTTP Basic would let anyone try passwords past the login lockout.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Not-found answers in the client's language, without model names (config/api_errors.py).
    "EXCEPTION_HANDLER": "config.api_errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"uploads": env.str("UPLOAD_THROTTLE_RATE", default="30/hour")},
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 24,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shuohua API",
    "DESCRIPTION": "Record, moderate and publish talking-portrait animations for a festival.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RecordingRejectionReasonEnum": "contributions.models.Recording.RejectionReason",
        "FilmRejectionReasonEnum": "contributions.models.ModerationDecision.FilmRejectionReason",
        "DecisionReasonEnum": "contributions.models.ModerationDecision.REASON_CHOICES",
    },
}

# Uploads and the engine.
RECORDING_MAX_BYTES = env.int("RECORDING_MAX_BYTES", default=25 * 1024 * 1024)
# A camera reading's video is what will move the figure, so its moderators may watch it while the reading is
# pending; their decision (or a withdrawal) deletes it. Off: deleted as soon as the motion curves are extracted.
RECORDING_VIDEO_KEEP_FOR_REVIEW = env.bool("RECORDING_VIDEO_KEEP_FOR_REVIEW", default=True)
# The open dataset (issue 26, animation/datasets.py): the licence its releases carry (an SPDX id, named in
# the datasheet and on the record page's opt-in), and whom dataset users may write to (empty: left out).
DATASET_LICENSE = env.str("DATASET_LICENSE", default="CC0-1.0")
DATASET_CONTACT = env.str("DATASET_CONTACT", default="")
# The ceiling of a camera reading's upload; each passage's own cap is what its length needs (contributions/services.py).
RECORDING_VIDEO_MAX_BYTES = env.int("RECORDING_VIDEO_MAX_BYTES", default=RECORDING_MAX_BYTES)
# A rejected reading's voice (files, transcript) is deleted this many days after the rejection; the row
# stays for the audit log. Until then a curator may reverse the rejection.
RECORDING_REJECTED_RETENTION_DAYS = env.int("RECORDING_REJECTED_RETENTION_DAYS", default=30)
# The hand-off of a reading to the workers (contributions/services.py): the sweeper leaves a reading committed
# less than GRACE seconds ago to its own request, and sends again a message no worker started within RESEND.
RECORDING_HANDOFF_GRACE_SECONDS = 30
RECORDING_HANDOFF_RESEND_SECONDS = 600
# A moderator's claim on a recording lapses after CLAIM seconds; a decision can be undone for UNDO seconds.
MODERATION_CLAIM_SECONDS = 180
MODERATION_UNDO_SECONDS = 30
# Any request body over REQUEST_MAX_BYTES is refused with 413 before it is read (config/body_limits.py):
# the largest upload plus room for the form around it.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=RECORDING_MAX_BYTES + 1024 * 1024)
# Bodies without files (forms, JSON) stay small; files stream to disk above FILE_UPLOAD_MAX_MEMORY_SIZE.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2621440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
WHISPER_MODEL = env.str("WHISPER_MODEL", default="base")
WHISPER_MODEL_ENGLISH = env.str("WHISPER_MODEL_ENGLISH", default="tiny.en")
ANIMATION_SIZE = env.int("ANIMATION_SIZE", default=512)
# Anonymous visitors' gallery pages (home, festival, painting, film) served from the cache for this many
# seconds at most, retired at once when a film is published or taken down or the catalogue changes
# (gallery/page_cache.py). 0 renders every request.
GALLERY_PAGE_CACHE_SECONDS = env.int("GALLERY_PAGE_CACHE_SECONDS", default=30)
ANIMATION_FPS = env.int("ANIMATION_FPS", default=25)
ANIMATION_DEVICE = env.str("ANIMATION_DEVICE", default="cpu")
ANIMATION_STUCK_AFTER_SECONDS = env.int("ANIMATION_STUCK_AFTER_SECONDS", default=15 * 60)
# A worker holding a job writes a heartbeat every ANIMATION_HEARTBEAT_SECONDS; a claim whose heartbeat is
# older than the timeout is a dead worker's and is taken back by the next sweep.
ANIMATION_HEARTBEAT_SECONDS = env.float("ANIMATION_HEARTBEAT_SECONDS", default=10.0)
ANIMATION_HEARTBEAT_TIMEOUT_SECONDS = env.int("ANIMATION_HEARTBEAT_TIMEOUT_SECONDS", default=45)
# A stage whose message the broker never took is sent again after this many seconds.
ANIMATION_ENQUEUE_GRACE_SECONDS = env.int("ANIMATION_ENQUEUE_GRACE_SECONDS", default=10)
# Make each reading's film while it waits for its moderator (unseen until approved), so that an approval
# only publishes it (issue 25). It costs a render for every reading a moderator will reject; off: the
# render starts at the approval, as before (animation.services.animation_prepare_before_approval).
ANIMATION_RENDER_BEFORE_APPROVAL = env.bool("ANIMATION_RENDER_BEFORE_APPROVAL", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes logs every successful login at INFO ("Deleted 0 failed login attempts"); lockouts are WARNING.
    "loggers": {"axes": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True

# Security: secure unless told otherwise. With DEBUG off, HTTPS is on (secure cookies, the HTTPS redirect,
# HSTS; each can also be set on its own); `make run`, plain HTTP on 127.0.0.1, says HTTPS=0 itself.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
# Probes ask the web process itself over plain HTTP (systemd, a load balancer, Prometheus): a redirect to
# https would fail every one of them. /metrics stays limited to METRICS_ALLOWED_NETWORKS.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
if not DEBUG and HTTPS and EMAIL_BACKEND.split(".")[-2:-1] in (["console"], ["dummy"], ["locmem"], ["filebased"]):
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND is {EMAIL_BACKEND}: with DEBUG off and HTTPS on, password-reset links must be mailed "
        "(e.g. django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST), or say HTTPS=0 for a closed network."
    )
# Browsers ignore HSTS over plain HTTP, so a year is safe as the default; SecurityMiddleware sends it on HTTPS.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# How many proxies in front append to X-Forwarded-For; 0 (default): the client is REMOTE_ADDR and the
# header is ignored (a client could forge it to dodge the rate limits).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Behind a proxy (TRUSTED_PROXY_COUNT > 0), whether the request came over TLS is its X-Forwarded-Proto
# (the shipped nginx template sets it from its own $scheme, replacing the client's); else none is trusted.
_proxy_ssl_header = env.list(
    "SECURE_PROXY_SSL_HEADER", default=["HTTP_X_FORWARDED_PROTO", "https"] if TRUSTED_PROXY_COUNT > 0 else []
)
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if len(_proxy_ssl_header) == 2 else None
SESSION_COOKIE_SAMESITE = "Lax"

# Content-Security-Policy (django-csp): no inline script anywhere; scripts are files under /static/js/.
_csp_policy = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Face boxes are placed with style attributes; attributes cannot run script.
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if STORAGE_BACKEND == "s3":
    # Films, posters and paintings then come from the bucket (presigned URLs) or its CDN domain.
    # S3_PUBLIC_DOMAIN is a bare host name (django-storages' custom_domain): a CSP source needs its scheme.
    _public_domain = env.str("S3_PUBLIC_DOMAIN", default="")
    _bucket_origins = [
        origin
        for origin in (env.str("S3_ENDPOINT_URL", default=""), f"https://{_public_domain}" if _public_domain else "")
        if origin
    ]
    for _directive in ("img-src", "media-src", "connect-src"):
        _csp_policy["DIRECTIVES"][_directive] += _bucket_origins or ["https:"]
if DEBUG:
    # Django's debug pages use inline script and style: report, do not block, while debugging.
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp_policy
else:
    CONTENT_SECURITY_POLICY = _csp_policy

# Who may read /metrics (health/views.py) when Daphne answers without nginx in front: loopback and the
# private networks an operators' Prometheus scrapes from.
METRICS_ALLOWED_NETWORKS = env.list(
    "METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
)

# Rate limits (config/rate_limits.py): "count/period", period in s, m, h or d; per client address, and per
# user for the upload form. Failed logins: django-axes locks a username from an address after
# LOGIN_FAILURE_LIMIT failures for LOGIN_LOCKOUT_MINUTES.
# Gallery, progress and moderation sockets one client address may hold at once (gallery/consumers.py),
# counted across web processes in the shared cache; the nginx template caps the same (--sockets-per-address).
WEBSOCKETS_PER_ADDRESS = env.int("WEBSOCKETS_PER_ADDRESS", default=32)
RATE_LIMITS = {
    "login": env.str("LOGIN_RATE", default="30/10m"),
    "signup": env.str("SIGNUP_RATE", default="20/h"),
    "password_reset": env.str("PASSWORD_RESET_RATE", default="5/h"),
    "record": env.str("UPLOAD_FORM_RATE", default=env.str("UPLOAD_THROTTLE_RATE", default="30/hour")),
    # Per curator: key-point fits and face searches (the face networks), and test films (a whole render).
    "curation_fit": env.str("CURATION_FIT_RATE", default="120/h"),
    "curation_render": env.str("CURATION_RENDER_RATE", default="20/h"),
    # The recording flow's anonymous funnel counts (/api/funnel/): a page view sends five at most.
    "funnel": env.str("FUNNEL_RATE", default="300/h"),
}
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("LOGIN_LOCKOUT_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Failed attempts are what lockout needs; a log of every successful login with its address is not kept.
AXES_DISABLE_ACCESS_LOG = True
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_ip"
AXES_LOCKOUT_CALLABLE = "config.rate_limits.login_locked_out"
AXES_VERBOSE = False
# Per account, whatever the address (accounts/login_limits.py): higher than the per-address limit, since
# anyone who knows a username can spend it, but it stops a password guessed from many addresses.
ACCOUNT_LOGIN_FAILURE_LIMIT = env.int("ACCOUNT_LOGIN_FAILURE_LIMIT", default=20)


def _next_redis_database(url: str) -> str:
    """REDIS_URL with the database number after its own: counters that survive the process and are
    shared by every web process, and a cache.clear() that never touches the broker's or the channels' keys."""
    base, _slash, database = url.rpartition("/")
    if not base.startswith(("redis://", "rediss://")) or not database.isdigit():
        return f"{url.rstrip('/')}/1"
    return f"{base}/{int(database) + 1}"


# Rate-limit counters live here: one shared store, or two web processes would each allow the full limit.
CACHES = {"default": env.cache("CACHE_URL", default=_next_redis_database(REDIS_URL))}
CACHES["default"].setdefault("KEY_PREFIX", env.str("CACHE_KEY_PREFIX", default="shuohua"))
