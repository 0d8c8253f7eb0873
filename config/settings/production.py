"""Production: no insecure defaults; missing secrets stop the process at start-up."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, env, env_bool, env_int, env_list

SECRET_KEY = env("DJANGO_SECRET_KEY")
if SECRET_KEY is None:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set; production settings have no default for it. Set it to a long "
        "random string, e.g. from django.core.management.utils.get_random_secret_key()."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS is not set; production settings have no default for it. "
        "Set it to the comma-separated host names this site serves, e.g. counterfoil.example.com."
    )
DEBUG = env_bool("DJANGO_DEBUG", False)

if env("DATABASE_URL") is None:  # base falls back to a SQLite file, which is for development only
    raise ImproperlyConfigured(
        "DATABASE_URL is not set; production runs on PostgreSQL, e.g. postgres://user:pass@host:5432/counterfoil."
    )

# Without it the broker would be a guessed localhost and every web worker would count rate limits in its
# own memory (budgets multiplied by the number of workers): state it, like the database.
if env("REDIS_URL") is None:
    raise ImproperlyConfigured(
        "REDIS_URL is not set; production shares Celery's broker and the rate-limit counters through Redis, "
        "e.g. redis://redis.internal:6379/0."
    )

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

# Static files: `collectstatic` writes them to STATIC_ROOT with a content hash in each name and gzip copies, and
# WhiteNoise serves them with far-future caching. Development and tests keep Django's plain storage (no collectstatic).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# HTTPS hardening; TLS ends at the proxy, which sets X-Forwarded-Proto: requests it forwards as https
# count as secure (so the SSL redirect and secure cookies work behind it) and are never redirected.
# No deploy check is silenced: `manage.py check --deploy` passes as is (CI asserts it), and turning
# SECURE_SSL_REDIRECT or SECURE_HSTS_SECONDS off through the environment makes it warn, as it should.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    **LOGGING,
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stdout"},
    },
}
