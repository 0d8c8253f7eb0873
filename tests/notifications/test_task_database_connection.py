"""The database connection around a task (``config.celery_app``): a worker's is checked like a request's, an
eager task's belongs to its caller and is left alone.

A worker's task is run through Celery's own tracer (``build_tracer``, not eager): the request, the
task_prerun / task_postrun signals and the task body exactly as a worker runs a message from the broker.
"""

from __future__ import annotations

import pytest
from celery.app.trace import build_tracer
from celery.utils import uuid
from django.db import connection, connections, transaction

from notifications.models import EmailOutbox
from notifications.tasks import email_send

pytestmark = pytest.mark.postgres  # the closing guarded against is PostgreSQL's: SQLite's test database never closes

UNKNOWN_EMAIL = 987654321  # email_send answers "not due" after one query: the claim


def worker_runs(task, *args):
    """``task(*args)`` as a worker runs a message from the broker, signals included."""
    trace = build_tracer(task.name, task, eager=False, propagate=True, app=task.app)
    return trace(uuid(), args, {}, {}).retval


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate(pid: int) -> None:
    """End the session ``pid`` from a session of its own, as a database restart or an idle-session killer does."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    finally:
        other.close()


@pytest.mark.django_db
def test_an_eager_task_inside_the_callers_transaction_leaves_its_connection_and_transaction_usable(
    eager_celery, queued_invoice
):
    with transaction.atomic():
        _invoice, row = queued_invoice()  # written, not committed
        pid = backend_pid()

        assert email_send.delay(UNKNOWN_EMAIL).get() == "not due"  # task_prerun and task_postrun ran around it

        assert not connection.needs_rollback
        assert backend_pid() == pid
        assert EmailOutbox.objects.filter(pk=row.pk).exists()  # the same open transaction
    assert EmailOutbox.objects.filter(pk=row.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_in_a_worker_a_session_the_database_ended_between_tasks_is_replaced_before_the_next_task():
    pid = backend_pid()
    terminate(pid)  # while the worker waits for its next message

    assert worker_runs(email_send, UNKNOWN_EMAIL) == "not due"  # no OperationalError: checked before the task

    assert backend_pid() != pid


@pytest.mark.django_db(transaction=True)
def test_in_a_worker_a_connection_older_than_conn_max_age_is_closed_around_the_task(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)  # every connection is old at once
    connection.close()
    pid = backend_pid()

    assert worker_runs(email_send, UNKNOWN_EMAIL) == "not due"

    assert connection.connection is None  # closed again after the task
    assert backend_pid() != pid
