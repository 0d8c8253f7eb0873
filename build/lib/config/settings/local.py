"""Local development: SQLite, eager Celery and e-mails written to files unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import env, env_bool, env_list

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env("DJANGO_SECRET_KEY", "local-insecure-secret-key-never-use-outside-your-machine")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True

# The demo sends hundreds of invoice e-mails: one file per run under var/mail/ (EMAIL_FILE_PATH), not the terminal.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")

if CELERY_TASK_ALWAYS_EAGER:
    # Tasks run in the web process (make run): two log lines per demo e-mail would bury the terminal.
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}  # noqa: F405
    LOGGING["loggers"]["counterfoil.notifications"] = {"level": "WARNING"}  # noqa: F405
