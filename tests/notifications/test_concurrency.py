"""Races on PostgreSQL: parallel runs of the task, parallel resends with one Idempotency-Key."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from notifications import tasks
from notifications.models import EmailOutbox
from notifications.tasks import email_send
from sales.services import invoice_email_send, invoice_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]

WORKERS = 8


def in_parallel(function, count: int = WORKERS) -> list:
    """``function()`` in ``count`` threads started together; answers results (or the exceptions raised)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = function()
        except Exception as error:  # noqa: BLE001 - reported to the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_parallel_runs_of_the_task_for_one_row_send_one_mail(seed_order, smtp, monkeypatch):
    monkeypatch.setattr(tasks.email_send, "delay", lambda email_id: None)  # no on-commit send: the row waits
    invoice = invoice_order(order_id=seed_order().pk, notify=True)
    row = EmailOutbox.objects.get(invoice=invoice)
    assert row.status == EmailOutbox.Status.PENDING

    results = in_parallel(lambda: email_send(row.pk))

    assert Counter(results) == {"sent": 1, "not due": WORKERS - 1}
    assert len(smtp.received) == 1
    row.refresh_from_db()
    assert (row.status, row.attempt_log.count()) == (EmailOutbox.Status.SENT, 1)


def test_parallel_resends_with_one_idempotency_key_queue_one_mail(seed_order, smtp):
    invoice = invoice_order(order_id=seed_order().pk)

    results = in_parallel(lambda: invoice_email_send(invoice_id=invoice.pk, key="parallel-1").pk)

    assert results == [invoice.pk] * WORKERS, results
    assert EmailOutbox.objects.filter(invoice=invoice).count() == 1
    assert len(smtp.received) == 1
