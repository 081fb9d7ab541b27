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
    "accounts",
    "gallery",
    "contributions",
    "animation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="festival@shuohua.local")

# Redis carries the Celery broker and the Channels layer. make run / make test always set it.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
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

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "contributions.tasks.recording_transcribe": {"queue": "speech"},
    "animation.tasks.animation_align": {"queue": "speech"},
    "animation.tasks.animation_render": {"queue": "render"},
    "gallery.tasks.painting_detect_faces": {"queue": "render"},
    "gallery.tasks.passage_preview_render": {"queue": "render"},
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A render of a long clip must never be handed to a second worker while the first still runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
CELERY_BEAT_SCHEDULE = {
    "requeue-stuck-animations": {"task": "animation.tasks.animation_sweep_stuck", "schedule": 120.0},
    # Recordings whose hand-off never reached a worker (broker down) are sent again; withdrawals finish.
    "sweep-recordings": {"task": "contributions.tasks.recording_sweep", "schedule": 60.0},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
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
DATA_UPLOAD_MAX_MEMORY_SIZE = RECORDING_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
WHISPER_MODEL = env.str("WHISPER_MODEL", default="base")
WHISPER_MODEL_ENGLISH = env.str("WHISPER_MODEL_ENGLISH", default="tiny.en")
ANIMATION_SIZE = env.int("ANIMATION_SIZE", default=512)
ANIMATION_FPS = env.int("ANIMATION_FPS", default=25)
ANIMATION_DEVICE = env.str("ANIMATION_DEVICE", default="cpu")
ANIMATION_STUCK_AFTER_SECONDS = env.int("ANIMATION_STUCK_AFTER_SECONDS", default=15 * 60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True
