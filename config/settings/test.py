"""Test run: the database comes from DATABASE_URL (SQLite by default), everything else is fixed."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-insecure-secret-key-for-the-test-suite-only"
ALLOWED_HOSTS = ["*"]

# Hashing speed, not strength: tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# No collectstatic before a test run: WhiteNoise looks a file up when asked instead of indexing a STATIC_ROOT
# that does not exist (which warns in every test that builds the middleware).
WHITENOISE_AUTOREFRESH = True

# Rate limits out of the way of the suite; the tests of each limit set low ones where they mean to.
API_THROTTLE_RATE_USER = "1000000/min"
API_THROTTLE_RATE_ANON = "1000000/min"
API_THROTTLE_RATE_TOKEN = "1000000/min"
ADMIN_LOGIN_THROTTLE_RATE = "1000000/min"
