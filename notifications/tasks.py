"""Sending the outbox: one task per e-mail, and a sweeper on Celery beat.

The task claims its row with a conditional update (pending -> sending), so a redelivered or
duplicated message cannot send twice; it keeps the row's Message-ID across retries. A transient
failure (connection refused, time-out, SMTP 4xx, recipients refused with a 4xx such as greylisting)
is retried with exponential backoff and jitter up to ``EMAIL_MAX_ATTEMPTS``; a permanent one (SMTP
5xx, every recipient refused with a 5xx) fails at once. Once the server has accepted the mail, a
database error in the "sent" bookkeeping is retried once on a new connection: a row left in
``sending`` would be released by the sweeper and mailed again.

The task is short and runs hundreds of times a second, so its round trips are counted: the claim returns
the row (one statement), the "sent" bookkeeping is one statement on PostgreSQL, the SMTP connection is
the worker's (``notifications.transport``) and the database connection outlives the task
(``config.celery_app``).
"""

from __future__ import annotations

import contextlib
import logging
import random
import smtplib
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from celery.signals import worker_process_shutdown, worker_shutdown
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, connection, transaction
from django.db.models import Field, Model
from django.utils import timezone

from notifications.models import EmailAttempt, EmailOutbox
from notifications.sent import invoice_columns_when_sent
from notifications.transport import close_connections, deliver, send_deadline

logger = logging.getLogger("counterfoil.notifications")
Status = EmailOutbox.Status
RELEASED = "released: the worker stopped while sending"


def retry_delay(attempt: int) -> float:
    """Seconds before the next try: base x 2^(attempt-1) with up to 25 % jitter, never over the cap."""
    base = float(settings.EMAIL_RETRY_BASE_SECONDS)
    cap = float(settings.EMAIL_RETRY_MAX_SECONDS)
    return min(cap, base * 2 ** max(attempt - 1, 0) * (1 + random.uniform(0, 0.25)))


def is_permanent(error: Exception) -> bool:
    """Whether trying again cannot help: the server answered 5xx. Refused recipients are permanent only if every
    refusal is 5xx; a 4xx one (greylisting, a full mailbox: 421, 450, 451, 452) may be accepted later."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
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


def sending_timeout_seconds() -> float:
    """How long a row may stay in ``sending`` before the sweeper takes its worker for dead and releases it."""
    return float(settings.EMAIL_SENDING_TIMEOUT_SECONDS)


def send_deadline_seconds() -> float:
    """A worker's send is cut off before the sweeper would hand its row to another worker: always below that."""
    return sending_timeout_seconds() * 0.8


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
    in_worker = _in_worker()  # only a worker keeps its SMTP connection, and only its sends race the sweeper
    try:
        with send_deadline(send_deadline_seconds()) if in_worker else contextlib.nullcontext():
            deliver(_message(email), reuse_connection=in_worker)
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the row
        return _failed(email, started, error)
    if not _record_sent(email, started, timezone.now()):
        return "sent, not recorded"
    logger.info("e-mail %s (%s) sent to %s", email.pk, email.kind, ", ".join(email.recipients))
    return "sent"


def _invoice_model() -> type[Model]:
    """The model the outbox's ``invoice`` points at, reached through this app's own foreign key: the columns a sent
    mail sets on it are its app's subscription (``notifications.sent``), not known here."""
    return EmailOutbox._meta.get_field("invoice").related_model


# What the task reads of its row; the bodies are the bulk, the rest is for the bookkeeping.
CLAIMED_FIELDS = (
    "id",
    "kind",
    "invoice_id",
    "recipients",
    "bcc",
    "subject",
    "body_text",
    "body_html",
    "message_id",
    "attempts",
    "next_attempt_at",
    "claimed_at",
)


def _concrete_field(model: type[Model], name: str) -> Field:
    """``model``'s field ``name`` that is a column of its table, for raw SQL (as sales.models.concrete_field)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.concrete:
        raise FieldDoesNotExist(f"{model._meta.label} has no column {name!r}")
    return field


def _column_of(field: Field) -> str:
    if field.column is None:  # a field without a column of its own (a relation's)
        raise FieldDoesNotExist(f"{field} has no column")
    return field.column


def _claim(email_id: int, now: datetime) -> EmailOutbox | None:
    """pending -> sending if due, and the claimed row, or None when it is not ours to send.

    Raw SQL because the ORM's ``update()`` cannot return the row: ``UPDATE ... RETURNING`` is one round trip
    where update-then-SELECT was two, on the task's hot path. The condition is the claim itself.
    """
    table = connection.ops.quote_name(EmailOutbox._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(_column_of(_concrete_field(EmailOutbox, name))) for name in CLAIMED_FIELDS
    )
    at = connection.ops.adapt_datetimefield_value(now)
    rows = EmailOutbox.objects.raw(
        f"UPDATE {table} SET status = %s, claimed_at = %s, attempts = attempts + 1"  # noqa: S608 - names from _meta
        f" WHERE id = %s AND status = %s AND next_attempt_at <= %s RETURNING {columns}",
        [Status.SENDING, at, email_id, Status.PENDING, at],
    )
    claimed = list(rows)
    return claimed[0] if claimed else None


def _record_sent(email: EmailOutbox, started: datetime, finished: datetime) -> bool:
    """The mail is out: the row sent, its attempt, its invoice's marks. False if that could not be written.

    A database error here would leave the row in ``sending``, and the sweeper would release it and another
    worker mail it again, so the write is tried once more on a new connection. That is safe: it is
    conditional on this claim, so a first try that did commit (its answer lost with the connection) is found
    done, not repeated. Inside the caller's transaction there is no new connection to take: it must roll back.
    """
    try:
        _write_sent(email, started, finished)
        return True
    except DatabaseError:
        if connection.in_atomic_block:
            logger.exception("e-mail %s WAS sent, but recording it failed inside the caller's transaction", email.pk)
            raise
        logger.warning(
            "recording e-mail %s as sent failed; once more on a new database connection", email.pk, exc_info=True
        )
    connection.close()  # Django opens a new one for the next query
    try:
        _write_sent(email, started, finished)
        return True
    except DatabaseError:
        logger.exception(
            "e-mail %s WAS sent (the SMTP server accepted it) but could not be recorded: it stays in sending, "
            "and the sweeper will release it and mail it again",
            email.pk,
        )
        return False


def _write_sent(email: EmailOutbox, started: datetime, finished: datetime) -> None:
    """One try at the bookkeeping; repeating it after a commit whose answer was lost writes nothing more."""
    if connection.vendor == "postgresql":
        ours = _record_sent_in_one_statement(email, started, finished)
    else:
        ours = _record_sent_in_a_transaction(email, started, finished)
    if not ours:
        _record_sent_after_release(email, started, finished)


def _record_sent_in_a_transaction(email: EmailOutbox, started: datetime, finished: datetime) -> bool:
    """The three writes if the claim still holds (True), none if not."""
    with transaction.atomic():
        if not EmailOutbox.objects.filter(pk=email.pk, status=Status.SENDING, claimed_at=email.claimed_at).update(
            status=Status.SENT, sent_at=finished, last_error=""
        ):
            return False
        _add_sent_attempt(email, started, finished)
    return True


def _add_sent_attempt(email: EmailOutbox, started: datetime, finished: datetime) -> None:
    """The attempt that sent, and the invoice's marks (the ORM's half of the one-statement version)."""
    EmailAttempt.objects.create(
        email=email, number=email.attempts, started_at=started, finished_at=finished, outcome=EmailAttempt.Outcome.SENT
    )
    if marks := invoice_columns_when_sent(email.kind, email.invoice_id):
        _invoice_model()._default_manager.filter(pk=email.invoice_id).update(**marks)


def _record_sent_in_one_statement(email: EmailOutbox, started: datetime, finished: datetime) -> bool:
    """PostgreSQL: the three writes as one statement (data-modifying CTEs), so one round trip and one commit
    instead of five (BEGIN, UPDATE, INSERT, UPDATE, COMMIT) on the task's hot path. The attempt and the
    invoice hang on the row's update: all three if the claim still holds (True), none if not."""
    quote = connection.ops.quote_name
    outbox = quote(EmailOutbox._meta.db_table)
    attempts = quote(EmailAttempt._meta.db_table)
    sql = (
        f"WITH sent AS (UPDATE {outbox} SET status = %s, sent_at = %s, last_error = ''"  # noqa: S608 - names from _meta
        f" WHERE id = %s AND status = %s AND claimed_at = %s RETURNING id),"
        f" attempt AS (INSERT INTO {attempts} (email_id, number, started_at, finished_at, outcome, error)"
        f" SELECT id, %s, %s, %s, %s, '' FROM sent)"
    )
    params: list[Any] = [
        Status.SENT,
        finished,
        email.pk,
        Status.SENDING,
        email.claimed_at,
        email.attempts,
        started,
        finished,
        EmailAttempt.Outcome.SENT,
    ]
    if marks := invoice_columns_when_sent(email.kind, email.invoice_id):
        invoice_model = _invoice_model()
        invoices = quote(invoice_model._meta.db_table)
        invoice_pk = quote(_column_of(invoice_model._meta.pk))
        fields = [_concrete_field(invoice_model, name) for name in marks]
        assignments = ", ".join(f"{quote(_column_of(field))} = %s" for field in fields)
        sql += f", invoice AS (UPDATE {invoices} SET {assignments} FROM sent WHERE {invoices}.{invoice_pk} = %s)"
        params += [*(field.get_db_prep_save(marks[field.name], connection) for field in fields), email.invoice_id]
    with connection.cursor() as cursor:
        cursor.execute(sql + " SELECT count(*) FROM sent", params)
        return bool(cursor.fetchone()[0])


def _record_sent_after_release(email: EmailOutbox, started: datetime, finished: datetime) -> None:
    """The claim no longer holds, yet this worker's mail went out: sent all the same, under this claim.

    The row carries this claim's ``claimed_at`` afterwards, so finding it sent under this claim means this
    was written already (a repeat of the bookkeeping): nothing to add.
    """
    with transaction.atomic():
        if not (
            EmailOutbox.objects.filter(pk=email.pk)
            .exclude(status=Status.SENT, claimed_at=email.claimed_at)
            .update(status=Status.SENT, sent_at=finished, last_error="", claimed_at=email.claimed_at)
        ):
            return
        _add_sent_attempt(email, started, finished)
    # The sweeper released the row while this conversation dragged on: another worker may send it too.
    logger.warning("e-mail %s was sent after its claim was released: a duplicate is possible", email.pk)


def _failed(email: EmailOutbox, started: datetime, error: Exception) -> str:
    text = f"{type(error).__name__}: {error}"[:2000]
    final = is_permanent(error) or email.attempts >= int(settings.EMAIL_MAX_ATTEMPTS)
    next_attempt = timezone.now() + timedelta(seconds=retry_delay(email.attempts))
    with transaction.atomic():
        EmailOutbox.objects.filter(pk=email.pk).update(
            status=Status.FAILED if final else Status.PENDING,
            last_error=text,
            next_attempt_at=email.next_attempt_at if final else next_attempt,
            claimed_at=None,
        )
        EmailAttempt.objects.create(
            email=email,
            number=email.attempts,
            started_at=started,
            finished_at=timezone.now(),
            error=text,
            outcome=EmailAttempt.Outcome.FAILED if final else EmailAttempt.Outcome.RETRY,
        )
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
    stuck_before = now - timedelta(seconds=sending_timeout_seconds())
    released = 0
    for stuck in EmailOutbox.objects.filter(status=Status.SENDING, claimed_at__lt=stuck_before):
        assert stuck.claimed_at is not None  # claimed_at__lt: claimed
        with transaction.atomic():
            # Conditional on the same claim: a worker that finishes meanwhile keeps its result.
            if EmailOutbox.objects.filter(pk=stuck.pk, status=Status.SENDING, claimed_at=stuck.claimed_at).update(
                status=Status.PENDING, claimed_at=None, last_error=RELEASED
            ):
                EmailAttempt.objects.create(
                    email=stuck,
                    number=stuck.attempts,
                    started_at=stuck.claimed_at,
                    finished_at=now,
                    outcome=EmailAttempt.Outcome.RETRY,
                    error=RELEASED,
                )
                released += 1
    overdue = now - timedelta(seconds=int(settings.EMAIL_SWEEP_GRACE_SECONDS))
    due = list(
        EmailOutbox.objects.filter(status=Status.PENDING, next_attempt_at__lte=overdue)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: int(settings.EMAIL_SWEEP_BATCH)]
    )
    for email_id in due:
        email_send.delay(email_id)
    if released or due:
        logger.info("outbox sweep: released %s stuck, enqueued %s due", released, len(due))
    return {"released": released, "enqueued": len(due)}


# QUIT the worker's SMTP connection when it stops: prefork children, and the worker itself for threads/solo.
worker_process_shutdown.connect(close_connections, weak=False)
worker_shutdown.connect(close_connections, weak=False)
