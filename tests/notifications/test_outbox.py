"""The outbox task against a real SMTP server: one mail per send, retries with backoff, permanent failures.

``notifications.tasks.email_send(outbox_id)`` is called directly; the SMTP server is aiosmtpd in this
process (see conftest). Celery is eager in tests, so the retry a failure schedules runs at once and
finds the row not due yet, exactly as a worker would before the countdown ends.
"""

from __future__ import annotations

import signal
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from notifications import tasks, transport
from notifications.models import EmailAttempt, EmailOutbox
from notifications.tasks import email_send
from sales.models import Invoice, InvoiceItem
from sales.money import format_price
from sales.services import InvoiceLineRequest
from tests.notifications.conftest import run_in_worker
from tests.test_settings import run_python

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

Status = EmailOutbox.Status


def make_due(row: EmailOutbox) -> None:
    """What time does for a waiting retry: its next attempt is now in the past."""
    EmailOutbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def usd(amount) -> str:
    return format_price(amount, "USD")


# -- a mail that goes out -----------------------------------------------------------------------------


def test_one_send_delivers_one_mail_to_the_customer_with_the_rows_message_id_and_the_invoice_totals(
    smtp, queued_invoice
):
    invoice, row = queued_invoice()

    assert email_send(row.pk) == "sent"

    assert len(smtp.received) == 1
    received = smtp.received[0]
    assert received.rcpt_tos == ["roni_cost@example.com"]
    message = received.message
    assert message["To"] == "roni_cost@example.com"
    assert message["Subject"] == "Invoice for your Main Website Store order"
    assert message["Message-ID"] == row.message_id
    assert "Bcc" not in message
    text, html = received.text(), received.html()
    for body in (text, html):
        assert f"Your Invoice #{invoice.increment_id} for Order #{invoice.order.increment_id}" in body
        assert usd(invoice.grand_total) in body
        assert usd(invoice.subtotal) in body
    assert usd(Decimal("1917.60")) in text  # a full invoice of seed 001


def test_a_sent_mail_is_recorded_as_sent_with_one_attempt_and_the_invoice_email_sent_1(smtp, queued_invoice):
    invoice, row = queued_invoice()
    assert (invoice.send_email, invoice.email_sent) == (1, None)  # Magento: null = pending

    before = timezone.now()
    email_send(row.pk)

    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.attempts == 1
    assert row.last_error == ""
    assert before <= row.sent_at <= timezone.now()
    attempts = list(row.attempt_log.all())
    assert [(a.number, a.outcome, a.error) for a in attempts] == [(1, EmailAttempt.Outcome.SENT, "")]
    assert attempts[0].started_at <= attempts[0].finished_at
    invoice.refresh_from_db()
    assert (invoice.send_email, invoice.email_sent) == (1, 1)


def test_the_mail_of_a_partial_invoice_shows_only_the_invoiced_rows_and_the_invoices_grand_total(
    smtp, queued_invoice, seed_order
):
    """Magento #28295 / #38213: partial invoices mailed the order's rows and totals."""
    order = seed_order()
    backpack = order.items.get(sku="24-WB03")
    invoice, row = queued_invoice(
        order, items=[InvoiceLineRequest(order_item_id=backpack.pk, sku=None, qty=Decimal(5))]
    )
    [line] = InvoiceItem.objects.filter(parent=invoice)
    assert invoice.grand_total != order.grand_total

    email_send(row.pk)

    [received] = smtp.received
    for body in (received.text(), received.html()):
        assert "Driven Backpack" in body
        assert usd(line.row_total) in body  # 5 x $36.00
        assert usd(invoice.grand_total) in body
        assert "Voyage Yoga Bag" not in body and "Yoga Adventure" not in body
        assert usd(order.grand_total) not in body  # $1,917.60: the order's, not this invoice's
        assert usd(order.subtotal) not in body
    assert f"Grand Total: {usd(invoice.grand_total)}" in received.text()


def test_copy_to_goes_as_bcc_on_the_row_and_in_the_smtp_envelope_but_not_in_the_headers(smtp, queued_invoice, settings):
    settings.INVOICE_EMAIL_COPY_TO = ["accounts@example.com"]
    _invoice, row = queued_invoice()
    assert row.recipients == ["roni_cost@example.com"]
    assert row.bcc == ["accounts@example.com"]

    email_send(row.pk)

    [received] = smtp.received
    assert sorted(received.rcpt_tos) == ["accounts@example.com", "roni_cost@example.com"]
    assert "Bcc" not in received.message  # the customer does not see the copy
    assert "accounts@example.com" not in received.content.decode()


def test_without_copy_to_the_row_has_no_bcc(smtp, queued_invoice, settings):
    settings.INVOICE_EMAIL_COPY_TO = []
    _invoice, row = queued_invoice()
    assert row.bcc == []
    email_send(row.pk)
    assert smtp.received[0].rcpt_tos == ["roni_cost@example.com"]


# -- idempotency and claiming ---------------------------------------------------------------------------


def test_the_task_run_twice_for_one_row_sends_one_mail(smtp, queued_invoice):
    _invoice, row = queued_invoice()

    assert email_send(row.pk) == "sent"
    assert email_send(row.pk) == "not due"

    assert len(smtp.received) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 1)
    assert row.attempt_log.count() == 1


def test_a_row_in_sending_is_not_claimed_by_a_second_run(smtp, queued_invoice):
    _invoice, row = queued_invoice()
    claimed_at = timezone.now()
    EmailOutbox.objects.filter(pk=row.pk).update(status=Status.SENDING, claimed_at=claimed_at, attempts=1)

    assert email_send(row.pk) == "not due"

    assert smtp.received == []
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claimed_at) == (Status.SENDING, 1, claimed_at)
    assert row.attempt_log.count() == 0


@pytest.mark.parametrize("status", [Status.SENT, Status.FAILED])
def test_a_finished_row_is_never_sent_again(smtp, queued_invoice, status):
    _invoice, row = queued_invoice()
    EmailOutbox.objects.filter(pk=row.pk).update(status=status)
    assert email_send(row.pk) == "not due"
    assert smtp.received == []


def test_a_pending_row_waiting_for_its_next_attempt_is_not_sent_early(smtp, queued_invoice):
    _invoice, row = queued_invoice()
    EmailOutbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert email_send(row.pk) == "not due"
    assert smtp.received == []


def test_an_unknown_outbox_id_sends_nothing(smtp, db):
    assert email_send(987654321) == "not due"
    assert smtp.received == []


# -- transient failures: retry with backoff -------------------------------------------------------------


def test_smtp_down_records_the_attempt_and_its_error_and_keeps_the_row_pending(smtp_down, queued_invoice, settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 30
    settings.EMAIL_RETRY_MAX_SECONDS = 3600
    invoice, row = queued_invoice()

    assert email_send(row.pk) == "retry"

    row.refresh_from_db()
    assert row.status == Status.PENDING
    assert row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert row.claimed_at is None and row.sent_at is None
    [attempt] = row.attempt_log.all()
    assert (attempt.number, attempt.outcome) == (1, EmailAttempt.Outcome.RETRY)
    assert attempt.error == row.last_error
    wait = (row.next_attempt_at - attempt.finished_at).total_seconds()
    assert 30 - 1 <= wait <= 30 * 1.25 + 1
    invoice.refresh_from_db()
    assert invoice.email_sent is None


def test_after_smtp_comes_back_the_next_due_run_sends_once_with_the_same_message_id(smtp_down, queued_invoice):
    invoice, row = queued_invoice()
    assert email_send(row.pk) == "retry"
    assert email_send(row.pk) == "not due"  # still waiting: nothing is tried before next_attempt_at

    smtp_down.start()
    make_due(row)
    assert email_send(row.pk) == "sent"
    assert email_send(row.pk) == "not due"

    [received] = smtp_down.received
    assert received.message["Message-ID"] == row.message_id
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 2, "")
    assert [(a.number, a.outcome) for a in row.attempt_log.all()] == [
        (1, EmailAttempt.Outcome.RETRY),
        (2, EmailAttempt.Outcome.SENT),
    ]
    invoice.refresh_from_db()
    assert invoice.email_sent == 1


def test_the_backoff_doubles_per_attempt_with_up_to_25_percent_jitter_and_a_cap(smtp_down, queued_invoice, settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 10
    settings.EMAIL_RETRY_MAX_SECONDS = 50
    settings.EMAIL_MAX_ATTEMPTS = 8
    _invoice, row = queued_invoice()

    waits = []
    for _ in range(5):
        email_send(row.pk)
        row.refresh_from_db()
        attempt = row.attempt_log.order_by("-number").first()
        waits.append((row.next_attempt_at - attempt.finished_at).total_seconds())
        make_due(row)

    for number, wait in enumerate(waits, start=1):
        base = min(50, 10 * 2 ** (number - 1))  # 10, 20, 40, 50, 50
        assert base - 1 <= wait <= base * 1.25 + 1, (number, wait)
    assert row.status == Status.PENDING and row.attempts == 5


def test_retry_delay_doubles_with_jitter_and_never_passes_the_maximum(monkeypatch, settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 30
    settings.EMAIL_RETRY_MAX_SECONDS = 3600
    for jitter in (0.0, 0.25):
        monkeypatch.setattr(tasks.random, "uniform", lambda low, high, jitter=jitter: jitter)
        for attempt in range(1, 12):
            expected = min(3600, 30 * 2 ** (attempt - 1) * (1 + jitter))
            assert tasks.retry_delay(attempt) == pytest.approx(expected)
            assert tasks.retry_delay(attempt) <= 3600


def test_after_email_max_attempts_transient_failures_the_row_is_failed_with_its_last_error(
    smtp_down, queued_invoice, settings
):
    settings.EMAIL_MAX_ATTEMPTS = 3
    invoice, row = queued_invoice()

    outcomes = []
    for _ in range(4):
        outcomes.append(email_send(row.pk))
        make_due(row)

    assert outcomes == ["retry", "retry", "failed", "not due"]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 3)
    assert "ConnectionRefusedError" in row.last_error
    assert [a.outcome for a in row.attempt_log.all()] == ["retry", "retry", "failed"]
    invoice.refresh_from_db()
    assert invoice.email_sent is None
    smtp_down.start()
    assert email_send(row.pk) == "not due"  # failed for good: only an explicit resend mails again
    assert smtp_down.received == []


def test_email_max_attempts_defaults_to_8(smtp_down, queued_invoice):
    _invoice, row = queued_invoice()
    outcomes = []
    for _ in range(8):
        outcomes.append(email_send(row.pk))
        make_due(row)
    assert outcomes == ["retry"] * 7 + ["failed"]


def test_an_smtp_4xx_answer_is_transient(smtp, queued_invoice):
    smtp.handler.data_reply = "451 4.3.0 Try again later"
    _invoice, row = queued_invoice()

    assert email_send(row.pk) == "retry"

    row.refresh_from_db()
    assert row.status == Status.PENDING
    assert "451" in row.last_error
    smtp.handler.data_reply = "250 OK"
    make_due(row)
    assert email_send(row.pk) == "sent"
    assert len(smtp.received) == 1


# -- permanent failures: no retry -----------------------------------------------------------------------


def test_a_permanent_550_answer_fails_at_once(smtp, queued_invoice):
    smtp.handler.data_reply = "550 mailbox unavailable"
    invoice, row = queued_invoice()

    assert email_send(row.pk) == "failed"

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 1)
    assert "550" in row.last_error and "mailbox unavailable" in row.last_error
    [attempt] = row.attempt_log.all()
    assert attempt.outcome == EmailAttempt.Outcome.FAILED
    make_due(row)
    assert email_send(row.pk) == "not due"
    invoice.refresh_from_db()
    assert invoice.email_sent is None


def test_every_recipient_refused_with_a_5xx_fails_at_once(smtp, queued_invoice, settings):
    settings.INVOICE_EMAIL_COPY_TO = ["accounts@example.com"]
    smtp.handler.rcpt_reply = "550 5.1.1 No such user"
    _invoice, row = queued_invoice()

    assert email_send(row.pk) == "failed"

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert "SMTPRecipientsRefused" in row.last_error
    assert smtp.received == []


@pytest.mark.parametrize(
    "reply",
    [
        "450 4.2.0 Greylisted, please try again later",
        "451 4.3.0 Temporary lookup failure",
        "452 4.2.2 Mailbox full",
        "421 4.7.0 Too many connections",
    ],
)
def test_a_greylisted_recipient_is_retried_not_failed(smtp, queued_invoice, reply):
    smtp.handler.rcpt_reply = reply
    _invoice, row = queued_invoice()

    assert email_send(row.pk) == "retry"

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "SMTPRecipientsRefused" in row.last_error and reply[:3] in row.last_error
    assert [a.outcome for a in row.attempt_log.all()] == [EmailAttempt.Outcome.RETRY]
    smtp.handler.rcpt_reply = None  # the greylisting period is over
    make_due(row)
    assert email_send(row.pk) == "sent"
    assert len(smtp.received) == 1


def test_recipients_refused_with_a_4xx_and_a_5xx_are_retried_as_the_4xx_may_pass_later(smtp, queued_invoice, settings):
    settings.INVOICE_EMAIL_COPY_TO = ["accounts@example.com"]
    smtp.handler.rcpt_replies = {
        "roni_cost@example.com": "450 4.2.0 Greylisted, please try again later",
        "accounts@example.com": "550 5.1.1 No such user",
    }
    _invoice, row = queued_invoice()

    assert email_send(row.pk) == "retry"

    row.refresh_from_db()
    assert row.status == Status.PENDING
    assert "450" in row.last_error and "550" in row.last_error
    assert smtp.received == []


def test_a_failed_send_never_touches_the_invoice(smtp, queued_invoice):
    smtp.handler.data_reply = "554 Transaction failed"
    invoice, row = queued_invoice()
    before = Invoice.objects.values().get(pk=invoice.pk)

    email_send(row.pk)

    assert Invoice.objects.values().get(pk=invoice.pk) == before


# -- one send per claim, an update is not the invoice mail ---------------------------------------


def test_a_send_outliving_its_released_claim_is_logged_as_a_possible_duplicate(
    smtp, queued_invoice, monkeypatch, caplog
):
    invoice, row = queued_invoice()
    real_deliver = tasks.deliver

    def slow_deliver(message, **options):
        # while this conversation drags on, the sweeper hands the row to another worker (a new claim)
        EmailOutbox.objects.filter(pk=row.pk).update(claimed_at=timezone.now() + timedelta(seconds=1))
        return real_deliver(message, **options)

    monkeypatch.setattr(tasks, "deliver", slow_deliver)
    assert email_send(row.pk) == "sent"

    assert "a duplicate is possible" in caplog.text
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert [(a.number, a.outcome) for a in row.attempt_log.all()] == [(1, EmailAttempt.Outcome.SENT)]
    invoice.refresh_from_db()
    assert invoice.email_sent == 1  # the mail is out, whoever else sends it too


@pytest.mark.parametrize("sending_timeout", [1, 2, 3, 300])
def test_a_send_is_cut_off_before_the_sweeper_would_release_its_row(settings, sending_timeout):
    settings.EMAIL_SENDING_TIMEOUT_SECONDS = sending_timeout

    assert 0 < tasks.send_deadline_seconds() < sending_timeout
    # Not by Celery's time_limit: its timer per task stays queued in the worker's main process for the
    # whole limit after the task is done (72,000 of them at 300 e-mails/s and 240 s).
    assert email_send.time_limit is None and email_send.soft_time_limit is None


def test_a_sending_timeout_under_1_second_is_refused_when_the_settings_load():
    result = run_python("import config.settings.base", EMAIL_SENDING_TIMEOUT_SECONDS="0")

    assert result.returncode != 0
    assert "ImproperlyConfigured: EMAIL_SENDING_TIMEOUT_SECONDS=0 must be at least 1." in result.stderr


def test_the_send_deadline_interrupts_a_conversation_that_hangs():
    started = time.monotonic()

    with pytest.raises(transport.SendDeadlineExceeded), transport.send_deadline(0.2):
        time.sleep(5)  # a server that never answers, or a DNS lookup no socket time-out covers

    assert time.monotonic() - started < 2
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # disarmed


def test_in_a_threads_pool_the_send_deadline_ends_a_conversation_the_server_stalls(smtp, settings):
    settings.EMAIL_TIMEOUT = 10  # each socket wait alone would allow 10 s
    smtp.handler.rcpt_stall_seconds = 10
    message = tasks.EmailMultiAlternatives(subject="Hello", body="Hi", to=["roni_cost@example.com"])
    outcome = {}

    def pool_thread() -> None:  # no SIGALRM outside the main thread: the socket waits carry the deadline
        started = time.monotonic()
        try:
            with transport.send_deadline(0.5):
                transport.deliver(message, reuse_connection=True)
        except Exception as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=pool_thread)
    thread.start()
    thread.join(timeout=15)

    assert isinstance(outcome.get("error"), transport.SendDeadlineExceeded), outcome
    assert str(outcome["error"]) == "the SMTP conversation took over 0.5 s"
    assert outcome["seconds"] < 2
    assert smtp.received == []


def test_a_send_over_its_deadline_in_a_worker_is_a_failed_attempt_retried_later(smtp, queued_invoice, settings):
    settings.EMAIL_SENDING_TIMEOUT_SECONDS = 1  # the deadline: 0.8 of it
    settings.EMAIL_TIMEOUT = 10
    smtp.handler.rcpt_stall_seconds = 10  # the server stops answering at RCPT TO
    invoice, row = queued_invoice()

    assert run_in_worker(email_send, row.pk) == "retry"

    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 1
    assert row.last_error == "SendDeadlineExceeded: the SMTP conversation took over 0.8 s"
    assert [a.outcome for a in row.attempt_log.all()] == [EmailAttempt.Outcome.RETRY]
    assert smtp.received == []


def test_the_sweeper_records_the_attempt_of_a_worker_that_died_while_sending(queued_invoice):
    invoice, row = queued_invoice()
    claimed_at = timezone.now() - timedelta(hours=1)
    EmailOutbox.objects.filter(pk=row.pk).update(status=Status.SENDING, claimed_at=claimed_at, attempts=1)

    tasks.outbox_sweep()

    attempt = EmailAttempt.objects.get(email=row)
    assert (attempt.number, attempt.outcome, attempt.started_at) == (1, EmailAttempt.Outcome.RETRY, claimed_at)
    assert EmailOutbox.objects.get(pk=row.pk).status == Status.PENDING


def test_an_invoice_update_mail_does_not_mark_the_invoice_mail_sent(smtp, seed_order):
    from sales.services import invoice_comment_add, invoice_order

    invoice = invoice_order(order_id=seed_order().pk)  # no notify: the invoice mail was never asked for
    invoice_comment_add(invoice_id=invoice.pk, comment="Your parcel left today", is_customer_notified=True)
    update = EmailOutbox.objects.get(invoice=invoice, kind="invoice_update")

    email_send(update.pk)

    assert len(smtp.received) == 1
    assert Invoice.objects.get(pk=invoice.pk).email_sent is None
