"""After the SMTP server accepted a mail: the row sent, its attempt, the invoice's email_sent, and nothing twice.

The bookkeeping is conditional on the task's claim (``status = sending`` and its ``claimed_at``): all of it
while the claim holds, none of it once the sweeper released the row. A database fault at that moment is
real here: the SMTP server (aiosmtpd in this process) ends the task's PostgreSQL session with
``pg_terminate_backend`` from a session of its own, after the message came in and before it answers 250, as
a database restart or fail-over would.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from notifications import tasks
from notifications.models import EmailAttempt, EmailOutbox
from notifications.tasks import email_send
from sales.models import Invoice
from sales.services import invoice_comment_add, invoice_order
from tests.notifications.conftest import run_in_worker

Status = EmailOutbox.Status
Outcome = EmailAttempt.Outcome

ONE_STATEMENT = pytest.param(tasks._record_sent_in_one_statement, id="one-statement", marks=pytest.mark.postgres)
IN_A_TRANSACTION = pytest.param(tasks._record_sent_in_a_transaction, id="in-a-transaction")


def claimed(row: EmailOutbox) -> EmailOutbox:
    """The row as the task holds it once claimed (pending -> sending)."""
    email = tasks._claim(row.pk, timezone.now())
    assert email is not None
    return email


def attempt_log(row: EmailOutbox) -> list[tuple[int, str]]:
    return list(EmailAttempt.objects.filter(email=row).order_by("number").values_list("number", "outcome"))


def in_another_session(sql: str, params=()) -> None:
    """``sql`` over a database session of its own (what an operator, a fail-over or a migration would do)."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        other.close()


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


# -- the claim-conditional write, on its own -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("record_sent", [ONE_STATEMENT, IN_A_TRANSACTION])
def test_the_bookkeeping_marks_the_row_sent_adds_the_sent_attempt_and_sets_the_invoices_email_sent(
    queued_invoice, record_sent
):
    invoice, row = queued_invoice()
    email = claimed(row)
    started, finished = timezone.now() - timedelta(seconds=1), timezone.now()

    assert record_sent(email, started, finished) is True

    row.refresh_from_db()
    assert (row.status, row.sent_at, row.last_error, row.attempts) == (Status.SENT, finished, "", 1)
    [attempt] = row.attempt_log.all()
    assert (attempt.number, attempt.outcome, attempt.error) == (1, Outcome.SENT, "")
    assert (attempt.started_at, attempt.finished_at) == (started, finished)
    invoice.refresh_from_db()
    assert invoice.email_sent == 1


@pytest.mark.django_db
@pytest.mark.parametrize("record_sent", [ONE_STATEMENT, IN_A_TRANSACTION])
def test_the_bookkeeping_of_an_invoice_update_mail_leaves_the_invoices_email_sent_alone(seed_order, record_sent):
    invoice = invoice_order(order_id=seed_order().pk)  # no notify: the invoice mail was never asked for
    invoice_comment_add(invoice_id=invoice.pk, comment="Your parcel left today", is_customer_notified=True)
    email = claimed(EmailOutbox.objects.get(invoice=invoice, kind="invoice_update"))

    assert record_sent(email, timezone.now(), timezone.now()) is True

    assert EmailOutbox.objects.get(pk=email.pk).status == Status.SENT
    assert attempt_log(email) == [(1, Outcome.SENT)]
    assert Invoice.objects.get(pk=invoice.pk).email_sent is None


@pytest.mark.django_db
@pytest.mark.parametrize("record_sent", [ONE_STATEMENT, IN_A_TRANSACTION])
@pytest.mark.parametrize(
    "sweeper",
    [
        pytest.param({"status": Status.PENDING, "claimed_at": None, "last_error": tasks.RELEASED}, id="released"),
        pytest.param({"claimed_at": timezone.now() + timedelta(minutes=5)}, id="claimed-again"),
    ],
)
def test_the_bookkeeping_writes_nothing_once_the_claim_was_released_or_taken_again(
    queued_invoice, record_sent, sweeper
):
    invoice, row = queued_invoice()
    email = claimed(row)
    EmailOutbox.objects.filter(pk=row.pk).update(**sweeper)
    before = EmailOutbox.objects.values().get(pk=row.pk)

    assert record_sent(email, timezone.now(), timezone.now()) is False

    assert EmailOutbox.objects.values().get(pk=row.pk) == before
    assert attempt_log(row) == []
    assert Invoice.objects.get(pk=invoice.pk).email_sent is None


@pytest.mark.django_db
def test_the_bookkeeping_repeated_after_its_answer_was_lost_writes_nothing_more(queued_invoice, caplog):
    invoice, row = queued_invoice()
    email = claimed(row)
    started, finished = timezone.now(), timezone.now()
    tasks._write_sent(email, started, finished)  # committed, but the connection died before the answer came

    tasks._write_sent(email, started, finished)  # the retry finds it done under this very claim

    row.refresh_from_db()
    assert (row.status, row.sent_at) == (Status.SENT, finished)
    assert attempt_log(row) == [(1, Outcome.SENT)]
    assert "duplicate" not in caplog.text


# -- a real database fault between the SMTP server's 250 and the bookkeeping -----------------------------


@pytest.fixture
def row_waits(monkeypatch):
    """The on-commit enqueue publishes nothing: the test runs the task itself."""
    monkeypatch.setattr(email_send, "delay", lambda email_id: None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_session_lost_after_the_server_accepted_the_mail_is_replaced_and_the_mail_recorded_once(
    smtp, queued_invoice, row_waits, caplog
):
    invoice, row = queued_invoice()
    pid = backend_pid()  # the session the task claims on and would record on
    smtp.handler.before_data_reply = lambda: in_another_session("SELECT pg_terminate_backend(%s, 5000)", [pid])

    with caplog.at_level(logging.WARNING, logger="counterfoil.notifications"):
        assert run_in_worker(email_send, row.pk) == "sent"

    assert len(smtp.received) == 1
    assert backend_pid() != pid
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 1, "")
    assert attempt_log(row) == [(1, Outcome.SENT)]
    invoice.refresh_from_db()
    assert invoice.email_sent == 1
    assert f"recording e-mail {row.pk} as sent failed; once more on a new database connection" in caplog.text
    assert "duplicate" not in caplog.text

    tasks.outbox_sweep()  # nothing left in sending for the sweeper to release and mail again
    assert len(smtp.received) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_mail_that_cannot_be_recorded_even_on_a_new_session_is_logged_as_sent_and_left_in_sending(
    smtp, queued_invoice, row_waits, caplog
):
    _invoice, row = queued_invoice()
    table = EmailOutbox._meta.db_table
    # the outbox is out of reach for both tries (as a database down for longer would be)
    smtp.handler.before_data_reply = lambda: in_another_session(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
    try:
        result = run_in_worker(email_send, row.pk)
    finally:
        in_another_session(f'ALTER TABLE IF EXISTS "{table}_away" RENAME TO "{table}"')

    assert result == "sent, not recorded"
    assert len(smtp.received) == 1
    assert f"e-mail {row.pk} WAS sent (the SMTP server accepted it) but could not be recorded" in caplog.text
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENDING, 1)
    assert attempt_log(row) == []
