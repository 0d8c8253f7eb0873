"""Sending the outbox: one task per e-mail, and a sweeper on Celery beat.

The task claims its row with a conditional update (pending -> sending), so a redelivered or
duplicated message cannot send twice; it keeps the row's Message-ID across retries. A transient
failure (connection refused, time-out, SMTP 4xx) is retried with exponential backoff and jitter
up to ``EMAIL_MAX_ATTEMPTS``; a permanent one (SMTP 5xx, every recipient refused) fails at once.

The task is short and runs hundreds of times a second, so its round trips are counted: the claim returns
the row (one statement), the "sent" bookkeeping is one statement on PostgreSQL, the SMTP connection is
the worker's (``notifications.transport``) and the database connection outlives the task
(``config.celery_app``).
"""

from __future__ import annotations

import contextlib
import logging
import random
import signal
import smtplib
import threading
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_process_shutdown, worker_shutdown
from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.utils import timezone

from notifications.models import EmailAttempt, EmailOutbox
from notifications.transport import close_connections, deliver

logger = logging.getLogger("counterfoil.notifications")
Status = EmailOutbox.Status
RELEASED = "released: the worker stopped while sending"


def _setting(name: str, default):
    return getattr(settings, name, default)


def retry_delay(attempt: int) -> float:
    """Seconds before the next try: base x 2^(attempt-1) with up to 25 % jitter, never over the cap."""
    base = float(_setting("EMAIL_RETRY_BASE_SECONDS", 30))
    cap = float(_setting("EMAIL_RETRY_MAX_SECONDS", 3600))
    return min(cap, base * 2 ** max(attempt - 1, 0) * (1 + random.uniform(0, 0.25)))


def is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _message(email: EmailOutbox) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        to=email.recipients,
        bcc=email.bcc,
        headers={"Message-ID": email.message_id},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


class SendDeadlineExceeded(Exception):  # noqa: N818 - named as what happened, like Celery's TimeLimitExceeded
    """The SMTP conversation outlived its deadline; the attempt fails and is retried like a time-out."""


def send_deadline_seconds() -> float:
    """A send is cut off well before the sweeper would hand its row to another worker."""
    return max(float(_setting("EMAIL_SENDING_TIMEOUT_SECONDS", 300)) * 0.8, 1.0)


def _on_deadline(signum, frame):
    raise SendDeadlineExceeded(f"the SMTP conversation took over {send_deadline_seconds():g} s")


@contextlib.contextmanager
def send_deadline(seconds: float):
    """Raise SendDeadlineExceeded in the block once ``seconds`` have passed (a SIGALRM timer).

    This, not Celery's ``time_limit``, bounds a send: the prefork pool arms a timer per task in the
    worker's main process and a finished task's timer stays queued until its time would have come, so at
    300 e-mails/s and a 240 s limit the main process held 72,000 of them (+34 MB). Signals reach only the
    main thread, where a prefork child runs its task; elsewhere (the threads pool) ``EMAIL_TIMEOUT`` bounds
    each socket operation, as it always does.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_deadline)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _in_worker() -> bool:
    """Whether email_send runs as a worker's task (not called directly, nor eagerly inside a web request)."""
    request = email_send.request
    return not (request.called_directly or request.is_eager)


@shared_task(acks_late=True, ignore_result=True)
def email_send(email_id: int) -> str:
    """Send one outbox e-mail if it is due and nobody else holds it."""
    email = _claim(email_id, timezone.now())
    if email is None:
        return "not due"  # already sent, being sent, failed for good, or waiting for its next attempt
    started = timezone.now()
    try:
        with send_deadline(send_deadline_seconds()) if _in_worker() else contextlib.nullcontext():
            deliver(_message(email))
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the row
        return _failed(email, started, error)
    _record_sent(email, started, timezone.now())
    logger.info("e-mail %s (%s) sent to %s", email.pk, email.kind, ", ".join(email.recipients))
    return "sent"


# What the task reads of its row; the bodies are the bulk, the rest is for the bookkeeping.
CLAIMED_FIELDS = ("id", "kind", "invoice_id", "recipients", "bcc", "subject", "body_text", "body_html",
                  "message_id", "attempts", "next_attempt_at", "claimed_at")  # fmt: skip


def _claim(email_id: int, now) -> EmailOutbox | None:
    """pending -> sending if due, and the claimed row, or None when it is not ours to send.

    Raw SQL because the ORM's ``update()`` cannot return the row: ``UPDATE ... RETURNING`` is one round trip
    where update-then-SELECT was two, on the task's hot path. The condition is the claim itself.
    """
    table = connection.ops.quote_name(EmailOutbox._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(EmailOutbox._meta.get_field(name).column) for name in CLAIMED_FIELDS)
    at = connection.ops.adapt_datetimefield_value(now)
    rows = EmailOutbox.objects.raw(
        f"UPDATE {table} SET status = %s, claimed_at = %s, attempts = attempts + 1"  # noqa: S608 - names from _meta
        f" WHERE id = %s AND status = %s AND next_attempt_at <= %s RETURNING {columns}",
        [Status.SENDING, at, email_id, Status.PENDING, at],
    )
    claimed = list(rows)
    return claimed[0] if claimed else None


def _marks_invoice_sent(email: EmailOutbox) -> bool:
    # Magento's meaning: email_sent = 1 once the invoice mail is out (null while pending); updates don't count.
    return email.invoice_id is not None and email.kind == "invoice_new"


def _record_sent(email: EmailOutbox, started, finished) -> None:
    """The row sent, its attempt, the invoice's email_sent: together, or not at all."""
    if connection.vendor == "postgresql":
        ours = _record_sent_in_one_statement(email, started, finished)
    else:
        with transaction.atomic():
            ours = EmailOutbox.objects.filter(pk=email.pk, status=Status.SENDING, claimed_at=email.claimed_at).update(
                status=Status.SENT, sent_at=finished, last_error=""
            )
            EmailAttempt.objects.create(email=email, number=email.attempts, started_at=started,
                                        finished_at=finished, outcome=EmailAttempt.Outcome.SENT)  # fmt: skip
            if _marks_invoice_sent(email):
                apps.get_model("sales", "Invoice").objects.filter(pk=email.invoice_id).update(email_sent=1)
    if not ours:
        # The sweeper released the row while this conversation dragged on: another worker may send it too.
        logger.warning("e-mail %s was sent after its claim was released: a duplicate is possible", email.pk)
        EmailOutbox.objects.filter(pk=email.pk).update(status=Status.SENT, sent_at=timezone.now())


def _record_sent_in_one_statement(email: EmailOutbox, started, finished) -> bool:
    """PostgreSQL: the three writes as one statement (data-modifying CTEs), so one round trip and one commit
    instead of five (BEGIN, UPDATE, INSERT, UPDATE, COMMIT) on the task's hot path. True if the claim held."""
    quote = connection.ops.quote_name
    outbox = quote(EmailOutbox._meta.db_table)
    attempts = quote(EmailAttempt._meta.db_table)
    sql = (
        f"WITH sent AS (UPDATE {outbox} SET status = %s, sent_at = %s, last_error = ''"  # noqa: S608 - names from _meta
        f" WHERE id = %s AND status = %s AND claimed_at = %s RETURNING id),"
        f" attempt AS (INSERT INTO {attempts} (email_id, number, started_at, finished_at, outcome, error)"
        f" VALUES (%s, %s, %s, %s, %s, ''))"
    )
    params = [Status.SENT, finished, email.pk, Status.SENDING, email.claimed_at,
              email.pk, email.attempts, started, finished, EmailAttempt.Outcome.SENT]  # fmt: skip
    if _marks_invoice_sent(email):
        invoices = quote(apps.get_model("sales", "Invoice")._meta.db_table)
        sql += f", invoice AS (UPDATE {invoices} SET email_sent = 1 WHERE id = %s)"
        params.append(email.invoice_id)
    with connection.cursor() as cursor:
        cursor.execute(sql + " SELECT count(*) FROM sent", params)
        return bool(cursor.fetchone()[0])


def _failed(email: EmailOutbox, started, error: Exception) -> str:
    text = f"{type(error).__name__}: {error}"[:2000]
    final = is_permanent(error) or email.attempts >= int(_setting("EMAIL_MAX_ATTEMPTS", 8))
    next_attempt = timezone.now() + timedelta(seconds=retry_delay(email.attempts))
    with transaction.atomic():
        EmailOutbox.objects.filter(pk=email.pk).update(
            status=Status.FAILED if final else Status.PENDING,
            last_error=text,
            next_attempt_at=email.next_attempt_at if final else next_attempt,
            claimed_at=None,
        )
        EmailAttempt.objects.create(
            email=email, number=email.attempts, started_at=started, finished_at=timezone.now(), error=text,
            outcome=EmailAttempt.Outcome.FAILED if final else EmailAttempt.Outcome.RETRY,
        )  # fmt: skip
    if final:
        logger.error("e-mail %s failed for good after %s attempt(s): %s", email.pk, email.attempts, text)
        return "failed"
    logger.warning("e-mail %s attempt %s failed (%s); next at %s", email.pk, email.attempts, text, next_attempt)
    countdown = max((next_attempt - timezone.now()).total_seconds(), 0)
    try:
        email_send.apply_async((email.pk,), countdown=countdown)
    except Exception:  # noqa: BLE001 - the broker is down: the sweeper will pick the row up
        logger.warning("could not schedule the retry of e-mail %s; the sweeper will", email.pk)
    return "retry"


@shared_task(ignore_result=True)
def outbox_sweep() -> dict:
    """Every minute: release e-mails stuck in sending, and enqueue due ones the broker lost.

    A row stays in ``sending`` only if its worker died mid-send; after
    ``EMAIL_SENDING_TIMEOUT_SECONDS`` it is released. Pending rows are enqueued once they are
    ``EMAIL_SWEEP_GRACE_SECONDS`` overdue, leaving the normal on-commit enqueue time to work first.
    """
    now = timezone.now()
    stuck_before = now - timedelta(seconds=int(_setting("EMAIL_SENDING_TIMEOUT_SECONDS", 300)))
    released = 0
    for stuck in EmailOutbox.objects.filter(status=Status.SENDING, claimed_at__lt=stuck_before):
        with transaction.atomic():
            # Conditional on the same claim: a worker that finishes meanwhile keeps its result.
            if EmailOutbox.objects.filter(pk=stuck.pk, status=Status.SENDING, claimed_at=stuck.claimed_at).update(
                status=Status.PENDING, claimed_at=None, last_error=RELEASED
            ):
                EmailAttempt.objects.create(
                    email=stuck, number=stuck.attempts, started_at=stuck.claimed_at, finished_at=now,
                    outcome=EmailAttempt.Outcome.RETRY, error=RELEASED,
                )  # fmt: skip
                released += 1
    overdue = now - timedelta(seconds=int(_setting("EMAIL_SWEEP_GRACE_SECONDS", 30)))
    due = list(
        EmailOutbox.objects.filter(status=Status.PENDING, next_attempt_at__lte=overdue)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: int(_setting("EMAIL_SWEEP_BATCH", 500))]
    )
    for email_id in due:
        email_send.delay(email_id)
    if released or due:
        logger.info("outbox sweep: released %s stuck, enqueued %s due", released, len(due))
    return {"released": released, "enqueued": len(due)}


# QUIT the worker's SMTP connection when it stops: prefork children, and the worker itself for threads/solo.
worker_process_shutdown.connect(close_connections, weak=False)
worker_shutdown.connect(close_connections, weak=False)
