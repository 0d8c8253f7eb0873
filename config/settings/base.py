"""Settings shared by every environment, read from the environment (see .env.example).

Environment modules (local, test, production) import everything from here and set what
differs: the secret key, DEBUG, allowed hosts and a few defaults.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env(name: str, default: str | None = None) -> str | None:
    """The variable's value; unset and empty both mean `default`."""
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated variable as a list, blanks dropped."""
    value = env(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def database_config(url: str) -> dict[str, Any]:
    """One DATABASES entry from a DATABASE_URL; PostgreSQL keeps health-checked persistent connections,
    and uses session state (prepared statements, server-side cursors) only where the deploy keeps it."""
    config = dj_database_url.parse(url)
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "config.db.postgresql"  # Django's, with a health check that costs no round trip
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
        # On only when each connection is one server session (PostgreSQL reached directly, or a pooler in session
        # mode): a pooler in transaction mode (PgBouncer's usual one) hands each transaction any server session,
        # where another client's prepared statement answers under the same name and a cursor is not found.
        if env_bool("DATABASE_SESSION_FEATURES", False):
            # Parameters bound by the server, and a statement prepared on its 5th run on a connection: PostgreSQL
            # then skips parsing and planning it (an invoice's read: 0.32 ms -> 0.12 ms).
            config.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
        else:
            config["DISABLE_SERVER_SIDE_CURSORS"] = True  # .iterator() reads the result client-side instead
    # Services own their transactions (one per business operation), never the request.
    config["ATOMIC_REQUESTS"] = False
    return config


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

# Database

DATABASES = {"default": database_config(env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Auth

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Magento's oauth/access_token_lifetime/admin: hours an admin token stays valid.
ADMIN_TOKEN_LIFETIME_HOURS = env_int("ADMIN_TOKEN_LIFETIME_HOURS", 4)
# Magento's oauth/authentication_lock: failed staff sign-ins per username, the admin login and admin token
# requests counted together, and how long the lock lasts. Beside it, admin login attempts per client address.
SIGN_IN_MAX_FAILURES = env_int("SIGN_IN_MAX_FAILURES", 6)
SIGN_IN_LOCK_SECONDS = env_int("SIGN_IN_LOCK_SECONDS", 1800)
ADMIN_LOGIN_THROTTLE_RATE = env("ADMIN_LOGIN_THROTTLE_RATE", "30/min")
# Idempotency-Key records: kept at least this long, then purged; an in-progress key older than
# IDEMPOTENCY_KEY_STALE_SECONDS belongs to a dead request and is taken over.
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
IDEMPOTENCY_KEY_STALE_SECONDS = env_int("IDEMPOTENCY_KEY_STALE_SECONDS", 300)
# Rate limits per token (its user, or the integration), per address without a token, and for token
# requests; counted in the cache (Redis when REDIS_URL is set: shared by every web worker). 429 + Retry-After.
API_THROTTLE_RATE_USER = env("API_THROTTLE_RATE_USER", "600/min")
API_THROTTLE_RATE_ANON = env("API_THROTTLE_RATE_ANON", "60/min")
API_THROTTLE_RATE_TOKEN = env("API_THROTTLE_RATE_TOKEN", "30/min")
API_THROTTLE_CACHE = "default"  # the CACHES alias that holds the rate-limit counters
# Proxies in front of the app whose X-Forwarded-For entries are believed (integrations/client_address.py): the
# client is the Nth entry from the right. 0: the header is ignored, the connection's peer is the client.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Most requests of a rate limit a web process takes from Redis at once (1% of the limit, at least 1) and spends
# without a round trip; a process may hold that many minus one while another is refused. 1: count each request.
API_THROTTLE_LEASE_MAX = env_int("API_THROTTLE_LEASE_MAX", 50)
# Seconds a web process keeps a token it accepted (with its user and permissions): no query while kept. A change
# made elsewhere (revocation in another worker, QuerySet.update) is seen within this; 0 switches it off.
API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 10)
# Serialization failures and deadlocks: how many times a write service runs before answering 409.
DATABASE_RETRY_ATTEMPTS = env_int("DATABASE_RETRY_ATTEMPTS", 3)

# Internationalisation

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files

STATIC_URL = "static/"
# Where collectstatic writes and WhiteNoise serves from; a deploy that runs outside the checkout names its own.
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))

# Django REST framework

# Largest request body in bytes (Django's default, 2.5 MB): one knob for the admin's forms and the JSON doors, whose
# parser answers 413 in each door's shape before reading a longer one (sales/api/json.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["integrations.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Magento renders amounts as JSON numbers (1917.6), not strings.
    "COERCE_DECIMAL_TO_STRING": False,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI 3 document of both doors (/api/schema/, Swagger UI at /api/docs/); see sales/api/schema.py.
SPECTACULAR_SETTINGS = {
    "TITLE": "Counterfoil",
    "VERSION": "0.1.0",
    "DESCRIPTION": (
        "Counterfoil's REST API, two doors over one core.\n\n"
        "- **Magento 2's `/V1`** under `/rest/V1/` and `/rest/{store_code}/V1/`: Magento's routes, field names and "
        'error envelope `{"message", "parameters"}`; money as JSON numbers.\n'
        '- **`/api2/invoice`**: list, look up, create and e-mail invoices; errors `{"error": "..."}`.\n\n'
        "Both take `Authorization: Bearer <token>`: an admin token from `POST /rest/V1/integration/admin/token`, "
        "or (on /api2) an integration token issued in the admin. POSTs that create, capture, void, cancel, comment "
        "or e-mail honour an `Idempotency-Key` header."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sales.api.schema.document_body_limit",  # 413 on every operation that takes a body
    ],
}

# Celery

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
# E-mail tasks take ms: 4 reserved keep a process busy (bench/RESULTS.md); acks late: a dead worker's are redelivered.
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fix-up closes the database connection before and after every task unless this is set (it reads
# the key with the namespace, as app.conf.get("CELERY_DB_REUSE_MAX")); config/celery_app.py closes it instead when
# CONN_MAX_AGE or a failed CONN_HEALTH_CHECKS says so, as Django does per request. Large: the fix-up never recycles.
CELERY_DB_REUSE_MAX = 1_000_000_000

# Cache

# Shared across web workers through Redis when REDIS_URL is set (throttling counters, ...); per process otherwise.
CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if env("REDIS_URL")
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

# E-mail

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Counterfoil <no-reply@localhost>")

# Logging

LOGGING = {
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

# ---------------------------------------------------------------------------
# Payments
# ---------------------------------------------------------------------------
# Online methods and their gateway adapters: {"method_code": "dotted.path.GatewayClass"}.
# The built-in simulated gateway "sandbox" is always available.
PAYMENT_GATEWAYS: dict[str, str] = {}
PAYMENT_GATEWAY_TIMEOUT_SECONDS = env_int("PAYMENT_GATEWAY_TIMEOUT_SECONDS", 10)

# Longest wait for another request's lock on an order before answering 409 (PostgreSQL).
ORDER_LOCK_TIMEOUT_SECONDS = env_int("ORDER_LOCK_TIMEOUT_SECONDS", 5)

# Most items one imported order may have (Magento has none): bounds the work one request can ask for.
ORDER_MAX_ITEMS = env_int("ORDER_MAX_ITEMS", 1000)

# Magento's oauth/consumer/enable_integration_as_bearer: integration tokens on /V1 (always on /api2).
INTEGRATION_TOKENS_AS_BEARER = env_bool("INTEGRATION_TOKENS_AS_BEARER", False)
# Magento ACL resources added or re-mapped on top of integrations/acl.py's table: {resource: "app_label.codename"}.
ACL_RESOURCE_PERMISSIONS: dict[str, str] = {}

# Magento's sales/identity/address, printed under the store's name on PDF invoices: one multi-line string, or a
# dict of them by store code with "*" for the rest. Empty: the name alone.
SALES_IDENTITY_ADDRESS: str | dict[str, str] = ""

# ---------------------------------------------------------------------------
# Invoice e-mails (notifications outbox)
# ---------------------------------------------------------------------------
INVOICE_EMAIL_COPY_TO = env_list("INVOICE_EMAIL_COPY_TO", [])  # Magento's sales_email/invoice/copy_to (bcc)
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 8)
EMAIL_RETRY_BASE_SECONDS = env_int("EMAIL_RETRY_BASE_SECONDS", 30)
EMAIL_RETRY_MAX_SECONDS = env_int("EMAIL_RETRY_MAX_SECONDS", 3600)
# A row in "sending" this long is released by the sweeper; a worker's send is cut off at 0.8 of it, before that.
EMAIL_SENDING_TIMEOUT_SECONDS = env_int("EMAIL_SENDING_TIMEOUT_SECONDS", 300)
if EMAIL_SENDING_TIMEOUT_SECONDS < 1:
    raise ImproperlyConfigured(f"EMAIL_SENDING_TIMEOUT_SECONDS={EMAIL_SENDING_TIMEOUT_SECONDS} must be at least 1.")
EMAIL_SWEEP_GRACE_SECONDS = env_int("EMAIL_SWEEP_GRACE_SECONDS", 30)
EMAIL_SWEEP_BATCH = 500  # most overdue e-mails one sweep queues again
EMAIL_MESSAGE_ID_DOMAIN = "counterfoil.local"  # the right of the @ in each e-mail's Message-ID
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)  # seconds for each SMTP socket wait (connect, a reply, the message)
# A worker keeps its SMTP connection between e-mails: a new one once idle this long (servers drop idle clients,
# commonly after 300 s) or after this many messages (servers cap messages per connection).
EMAIL_CONNECTION_IDLE_SECONDS = env_int("EMAIL_CONNECTION_IDLE_SECONDS", 30)
EMAIL_CONNECTION_MAX_MESSAGES = env_int("EMAIL_CONNECTION_MAX_MESSAGES", 100)
CELERY_BEAT_SCHEDULE = {
    "sweep-email-outbox": {
        "task": "notifications.tasks.outbox_sweep",
        "schedule": float(env_int("EMAIL_SWEEP_EVERY_SECONDS", 60)),
    },
    # Magento's inventory_cleanup_reservations cron (InventoryReservations/etc/crontab.xml): daily at 00:00.
    "inventory-cleanup-reservations": {
        "task": "inventory.tasks.reservations_cleanup",
        "schedule": crontab(minute=0, hour=0),
    },
    "purge-idempotency-keys": {
        "task": "integrations.tasks.idempotency_keys_purge",
        "schedule": crontab(minute=17),  # hourly
    },
}
