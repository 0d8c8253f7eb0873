"""Settings shared by every environment, read from the environment (see .env.example).

Environment modules (local, test, production) import everything from here and set what
differs: the secret key, DEBUG, allowed hosts and a few defaults. Django's own settings are
here; Counterfoil's are by topic in the modules imported below (database, api, tasks, mail,
orders), with the readers of the environment in environment.py.
"""

from pathlib import Path
from typing import Any

from .api import *  # noqa: F403
from .database import *  # noqa: F403
from .database import database_config  # noqa: F401 - tests/test_settings.py imports it from here
from .environment import BASE_DIR, env, env_bool, env_int, env_list  # noqa: F401 - the environments use them
from .mail import *  # noqa: F403
from .orders import *  # noqa: F403
from .tasks import *  # noqa: F403

# Core

DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from STATIC_URL: /api/docs/ works offline
    "sales",
    "payments",
    "notifications",
    "inventory",
    "integrations",
    "audit",  # the audit trail of staff actions and API writes; a leaf app
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves STATIC_ROOT (after collectstatic) from the web process itself: gunicorn needs no file server beside it.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],  # every template lives in its app (APP_DIRS), so `pip install .` ships it
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Auth

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Internationalisation

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files

STATIC_URL = "static/"
# Where collectstatic writes and WhiteNoise serves from; a deploy that runs outside the checkout names its own.
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))

# Logging

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "fontTools": {"level": "WARNING"},  # subsetting a PDF font logs dozens of INFO lines
        # Celery's "Task received" line, one per e-mail at hundreds a second in the worker's main process: the
        # outbox logs each send and keeps every attempt, and "Task ... succeeded/failed" still shows each task.
        "celery.worker.strategy": {"level": "WARNING"},
    },
}
