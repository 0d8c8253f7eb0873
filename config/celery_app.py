"""The Celery application; settings come from Django's, prefixed CELERY_.

Database connections outlive a task the way they outlive a request in Django: ``CELERY_DB_REUSE_MAX``
stops Celery's Django fix-up from closing them around every task, and ``close_old_connections`` (what
Django runs at each request's start and end) closes one that is past ``CONN_MAX_AGE`` or broken, with
``CONN_HEALTH_CHECKS`` testing a reused one before its first query.
"""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("counterfoil")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect(weak=False)
@task_postrun.connect(weak=False)
def close_old_database_connections(sender: Any = None, **kwargs: Any) -> None:
    """Around each task in a worker, as around each request: drop connections too old or unusable to reuse."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return  # eager: the task runs inside the caller's request or transaction, whose connection it is
    from django.db import close_old_connections

    close_old_connections()
