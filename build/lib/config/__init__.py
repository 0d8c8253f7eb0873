"""Project configuration; exposes the Celery app so `celery -A config worker` finds it."""

from .celery_app import app

celery_app = app

__all__ = ["app", "celery_app"]
