"""The sweeper on Celery beat: releases rows stuck in ``sending`` and enqueues pending rows the broker lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import tasks
from notifications.models import EmailOutbox
from notifications.tasks import email_send, outbox_sweep

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

Status = EmailOutbox.Status


@pytest.fixture
def enqueued(monkeypatch):
    """``email_send.delay`` recorded instead of run."""
    calls: list[int] = []
    monkeypatch.setattr(tasks.email_send, "delay", lambda email_id: calls.append(email_id))
    return calls


@pytest.fixture
def sweep_settings(settings):
    settings.EMAIL_SENDING_TIMEOUT_SECONDS = 300
    settings.EMAIL_SWEEP_GRACE_SECONDS = 30
    return settings


def set_row(row: EmailOutbox, **values) -> EmailOutbox:
    EmailOutbox.objects.filter(pk=row.pk).update(**values)
    row.refresh_from_db()
    return row


def test_the_sweeper_releases_a_row_stuck_in_sending_only_after_the_timeout(queued_invoice, enqueued, sweep_settings):
    _invoice, row = queued_invoice()
    now = timezone.now()
    set_row(
        row,
        status=Status.SENDING,
        claimed_at=now - timedelta(seconds=290),
        attempts=1,
        next_attempt_at=now - timedelta(seconds=290),
    )

    assert outbox_sweep()["released"] == 0
    assert set_row(row).status == Status.SENDING
    assert enqueued == []  # a row still being sent is not enqueued again

    set_row(row, claimed_at=now - timedelta(seconds=310))
    result = outbox_sweep()

    row.refresh_from_db()
    assert result == {"released": 1, "enqueued": 1}
    assert (row.status, row.claimed_at) == (Status.PENDING, None)
    assert "released" in row.last_error
    assert enqueued == [row.pk]


def test_a_released_row_is_then_sent_once(smtp, queued_invoice, sweep_settings):
    invoice, row = queued_invoice()
    long_ago = timezone.now() - timedelta(hours=1)
    set_row(row, status=Status.SENDING, claimed_at=long_ago, attempts=1, next_attempt_at=long_ago)

    outbox_sweep()  # eager Celery: the enqueued task runs now

    assert len(smtp.received) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 2)
    invoice.refresh_from_db()
    assert invoice.email_sent == 1


def test_the_sweeper_enqueues_pending_rows_only_once_they_are_overdue_by_the_grace(
    queued_invoice, enqueued, sweep_settings
):
    _invoice, fresh = queued_invoice()
    _invoice, overdue = queued_invoice()
    _invoice, later = queued_invoice()
    now = timezone.now()
    set_row(fresh, next_attempt_at=now - timedelta(seconds=20))  # due, but the on-commit enqueue may still come
    set_row(overdue, next_attempt_at=now - timedelta(seconds=40))
    set_row(later, next_attempt_at=now + timedelta(minutes=10))  # a retry waiting for its backoff

    assert outbox_sweep() == {"released": 0, "enqueued": 1}
    assert enqueued == [overdue.pk]


@pytest.mark.parametrize("status", [Status.SENT, Status.FAILED])
def test_the_sweeper_leaves_finished_rows_alone(queued_invoice, enqueued, sweep_settings, status):
    _invoice, row = queued_invoice()
    long_ago = timezone.now() - timedelta(days=1)
    set_row(row, status=status, next_attempt_at=long_ago, claimed_at=long_ago)

    assert outbox_sweep() == {"released": 0, "enqueued": 0}
    assert enqueued == []
    assert set_row(row).status == status


def test_a_sweep_and_an_on_commit_run_of_one_row_still_send_one_mail(smtp, queued_invoice, sweep_settings):
    _invoice, row = queued_invoice()
    set_row(row, next_attempt_at=timezone.now() - timedelta(minutes=5))

    email_send(row.pk)  # the on-commit enqueue, late
    outbox_sweep()
    email_send(row.pk)  # a redelivery

    assert len(smtp.received) == 1
