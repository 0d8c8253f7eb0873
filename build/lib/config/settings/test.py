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

# Rate limits out of the way of the suite; tests/api/test_throttling.py sets low ones where it means to.
API_THROTTLE_RATE_USER = "1000000/min"
API_THROTTLE_RATE_ANON = "1000000/min"
API_THROTTLE_RATE_TOKEN = "1000000/min"
