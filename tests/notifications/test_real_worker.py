"""Invoice e-mails end to end: a real Celery worker process, a real Redis and a real SMTP server.

Nothing is eager or mocked. This process creates invoices (through the service, or over the REST API
with the test client); with ``transaction=True`` there is no wrapping transaction, so the outbox row is
committed and the on-commit hook publishes ``email_send`` to a dedicated ``redis-server``. A ``celery
worker`` child process (prefork, one pool process) takes it from there and talks SMTP to aiosmtpd in this
process; a ``celery beat`` child process runs the outbox sweeper. The children read pytest-django's test
database and the short timings in ``realworker.WORKER_TIMINGS`` (sweep every 2 s, 1 s grace, rows stuck
in ``sending`` released after 3 s, retries after 1 s, 2 s, 4 s...).

"Exactly once" is checked after the mail arrived *and* the worker finished two more sweeps: a sweep is
what would re-send a row the worker lost track of.
"""

from __future__ import annotations

import shutil
import time
from decimal import Decimal

import pytest

from notifications.models import EmailAttempt, EmailOutbox
from notifications.tasks import email_send
from sales.models import Invoice, Store
from sales.services import invoice_email_send, invoice_order
from tests.conftest import load_seed_order
from tests.notifications.realworker import (
    WORKER_TIMINGS,
    EnqueueFailures,
    PublishTo,
    RedisServer,
    Rig,
    SmtpServer,
    database_url,
    free_port,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Status = EmailOutbox.Status
Outcome = EmailAttempt.Outcome

STORE_FRONTEND_NAME = "Main Website Store"  # what migration 0002 gives store 1 (the flush between tests drops it)
SUBJECT = "Invoice for your Main Website Store order"
CUSTOMER = "roni_cost@example.com"  # seed order 000
MAIL_TIMEOUT = 30.0  # seconds: far above what a delivery takes here (well under a second to a few seconds)
REDIS_BACK_DEADLINE = 120.0  # the issue: the mail arrives within two minutes of Redis coming back


# -- fixtures --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    if shutil.which("redis-server") is None:
        pytest.fail("the real-worker tests start their own Redis: install redis-server (on PATH)", pytrace=False)
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis") / "redis-server.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def smtp_server():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def rig(request, transactional_db, settings, redis_server, smtp_server, tmp_path):
    """A fresh worker and beat on an empty Redis and an empty, running SMTP server; this process publishes
    to that Redis (``rig.enqueue_failures``: its on-commit publishes that failed). The children are stopped
    before pytest-django flushes the database; their logs are printed if the test failed."""
    from django.db import connection

    if not redis_server.running:
        redis_server.start()
    with redis_server.client() as client:
        client.flushall()
    smtp_server.start()
    smtp_server.handler.reset()

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_server.url
    for name, value in WORKER_TIMINGS.items():
        setattr(settings, name, int(value))
    publishing = PublishTo(redis_server.url)

    failed_before = request.session.testsfailed
    rig = Rig(redis=redis_server, smtp=smtp_server, database=database_url(connection.settings_dict), log_dir=tmp_path)
    with EnqueueFailures() as failures:
        rig.enqueue_failures = failures.messages
        try:
            yield rig.start()
        finally:
            rig.stop()
            publishing.restore()
            smtp_server.handler.release.set()
            if request.session.testsfailed > failed_before:
                reporter = request.config.pluginmanager.get_plugin("terminalreporter")
                if reporter is not None:
                    reporter.write_sep("-", f"real worker diagnostics: {request.node.nodeid}")
                    reporter.write_line(rig.diagnostics())


@pytest.fixture
def order(import_order, default_store):
    """Seed order 000 (9 rows, $160 + $5 shipping = $165) in store 1, shown to customers as Main Website Store."""
    Store.objects.filter(pk=default_store.pk).update(frontend_name=STORE_FRONTEND_NAME)
    return import_order(load_seed_order("000"), increment_id=None)


# -- helpers ---------------------------------------------------------------------------------------------


def invoice_with_notify(order) -> tuple[Invoice, EmailOutbox]:
    invoice = invoice_order(order_id=order.pk, notify=True)
    return invoice, EmailOutbox.objects.get(invoice=invoice)


def wait_for_mails(rig: Rig, count: int, *, timeout: float = MAIL_TIMEOUT):
    """The first ``count`` mails the SMTP server accepted, once it has accepted at least that many."""
    return wait_until(
        lambda: rig.smtp.received[:count] if len(rig.smtp.received) >= count else None,
        timeout=timeout,
        what=f"{count} mail(s) at the SMTP server",
        diagnostics=rig.diagnostics,
    )


def attempt_log(email: EmailOutbox) -> list[tuple[int, str]]:
    return list(EmailAttempt.objects.filter(email=email).order_by("number").values_list("number", "outcome"))


def wait_until_sent(rig: Rig, email: EmailOutbox) -> EmailOutbox:
    """The row, once the worker marked it sent (just after the SMTP server accepted the mail)."""
    wait_until(
        lambda: EmailOutbox.objects.filter(pk=email.pk, status=Status.SENT).exists(),
        timeout=MAIL_TIMEOUT,
        what=f"e-mail {email.pk} to be marked sent",
        diagnostics=rig.diagnostics,
    )
    email.refresh_from_db()
    return email


def assert_sent_once(rig: Rig, *emails: EmailOutbox) -> None:
    """Each row is sent and, two sweeps later, the server holds exactly one mail with its Message-ID."""
    for email in emails:
        wait_until_sent(rig, email)
    rig.wait_sweeps(2)
    for email in emails:
        copies = [mail for mail in rig.smtp.received if mail.message_id == email.message_id]
        assert len(copies) == 1, rig.smtp.describe()
        email.refresh_from_db()
        assert email.status == Status.SENT
        assert email.sent_at is not None
        assert email.last_error == ""
        assert email.invoice.email_sent == 1


# -- the tests -------------------------------------------------------------------------------------------


def test_an_invoice_with_notify_is_one_mail_to_the_customer_with_the_invoice_totals(rig, order):
    invoice, email = invoice_with_notify(order)
    assert rig.enqueue_failures == []  # handed to the worker on commit

    (mail,) = wait_for_mails(rig, 1)
    assert mail.rcpt_tos == [CUSTOMER]
    message = mail.message
    assert message["To"] == CUSTOMER
    assert message["Subject"] == SUBJECT
    assert message["Message-ID"] == email.message_id
    text = mail.text()
    assert f"Your Invoice #{invoice.increment_id} for Order #{order.increment_id}" in text
    assert invoice.grand_total == Decimal("165")
    for total in ("Subtotal: $160.00", "Shipping & Handling: $5.00", "Tax: $0.00", "Grand Total: $165.00"):
        assert total in text, text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Grand Total" in html and "$165.00" in html

    assert_sent_once(rig, email)
    assert (email.attempts, attempt_log(email)) == (1, [(1, Outcome.SENT)])
    assert f"e-mail {email.pk} (invoice_new) sent to {CUSTOMER}" in rig.worker.log()  # the worker process sent it


def test_smtp_down_records_the_attempts_and_the_mail_arrives_once_when_it_is_back(rig, order):
    rig.smtp.stop()  # connections refused

    _, email = invoice_with_notify(order)
    assert rig.enqueue_failures == []

    wait_until(
        lambda: EmailAttempt.objects.filter(email=email, outcome=Outcome.RETRY).count() >= 2,
        timeout=MAIL_TIMEOUT,
        what="two failed attempts recorded",
        diagnostics=rig.diagnostics,
    )
    email.refresh_from_db()
    assert email.status != Status.SENT and email.attempts >= 2
    assert "ConnectionRefusedError" in email.last_error
    failed = list(EmailAttempt.objects.filter(email=email).order_by("number"))
    assert all(attempt.outcome == Outcome.RETRY and "ConnectionRefusedError" in attempt.error for attempt in failed)
    assert rig.smtp.received == []

    rig.smtp.start()

    (mail,) = wait_for_mails(rig, 1)
    assert mail.message_id == email.message_id  # the Message-ID kept across the retries
    assert_sent_once(rig, email)
    log = attempt_log(email)
    tries = len(log)
    assert tries >= 3 and email.attempts == tries
    assert log == [(number, Outcome.RETRY) for number in range(1, tries)] + [(tries, Outcome.SENT)]


def test_redis_down_while_invoicing_the_invoice_stands_and_the_sweeper_sends_the_mail_once(rig, order):
    rig.redis.stop()  # with --save "" a restart comes back empty, as after a crash: the broker lost everything
    rig.worker.wait_for_log(r"Cannot connect to redis://", timeout=MAIL_TIMEOUT, what="the broker outage")

    invoice, email = invoice_with_notify(order)

    assert Invoice.objects.filter(pk=invoice.pk, order_id=order.pk).exists()
    assert rig.enqueue_failures == [f"could not enqueue e-mail {email.pk}; the sweeper will send it"]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.PENDING, 0)

    rig.redis.start()
    back = time.monotonic()

    (mail,) = wait_for_mails(rig, 1, timeout=REDIS_BACK_DEADLINE)
    delay = time.monotonic() - back
    assert delay < REDIS_BACK_DEADLINE
    assert mail.message_id == email.message_id and mail.rcpt_tos == [CUSTOMER]
    assert_sent_once(rig, email)
    assert (email.attempts, attempt_log(email)) == (1, [(1, Outcome.SENT)])
    assert "enqueued 1 due" in rig.worker.log()  # the sweeper, not the lost on-commit message, sent it
    print(f"mail delivered {delay:.1f} s after Redis came back")


def test_a_worker_killed_while_sending_loses_no_mail_and_sends_none_twice(rig, order):
    """SIGKILL the whole worker (main process and its pool process) while its SMTP conversation waits for
    the answer to RCPT TO: the server has not accepted the message, so nothing was delivered. The row stays
    in ``sending``; once ``EMAIL_SENDING_TIMEOUT_SECONDS`` pass the sweeper releases it and a new worker
    sends it once. The killed worker's message (``acks_late``: never acknowledged) comes back after Redis'
    visibility timeout; that redelivery is played here with a second ``email_send`` of the same row, and
    the claim (pending -> sending) turns it away.

    The window that remains: a worker killed after the server accepted DATA (the mail is out) and before
    it marked the row sent. The row is released and sent again, a duplicate this design cannot rule out
    (SMTP has no idempotent submit). The repeat carries the same Message-ID (kept on the row across every
    attempt), so receivers and mail clients that de-duplicate on Message-ID can tell it is the same mail.
    The release also takes a row in ``sending`` for longer than ``EMAIL_SENDING_TIMEOUT_SECONDS`` to be
    abandoned: a live worker whose SMTP conversation lasts longer than that is not told, and its mail and
    the released row's are both delivered.
    """
    rig.smtp.handler.stall_next_rcpt()

    _, email = invoice_with_notify(order)
    assert rig.enqueue_failures == []

    wait_until(
        rig.smtp.handler.stalled.is_set,
        timeout=MAIL_TIMEOUT,
        what="the conversation to stall at RCPT TO",
        diagnostics=rig.diagnostics,
    )
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.SENDING, 1)  # claimed by the worker we are about to kill

    doomed = rig.worker
    doomed.kill()
    assert not doomed.running
    wait_until(
        rig.smtp.handler.abandoned.is_set,
        timeout=10,
        what="the killed worker's conversation to be dropped",
        diagnostics=rig.diagnostics,
    )
    rig.smtp.handler.release.set()
    assert rig.smtp.received == []  # the dying conversation never got to DATA
    email.refresh_from_db()
    assert email.status == Status.SENDING  # nobody is sending it now; only the sweeper can tell

    rig.new_worker().wait_ready()

    (mail,) = wait_for_mails(rig, 1)
    assert mail.message_id == email.message_id
    wait_until_sent(rig, email)
    assert email.attempts == 2
    # the killed attempt is on record, released by the sweeper, then the one that sent
    assert attempt_log(email) == [(1, Outcome.RETRY), (2, Outcome.SENT)]
    assert email.attempt_log.get(number=1).error == "released: the worker stopped while sending"
    assert "released 1 stuck" in rig.worker.log()

    redelivered = email_send.delay(email.pk)  # what Redis hands out again once the dead worker's message times out
    rig.worker.wait_for_log(
        rf"email_send\[{redelivered.id}\] succeeded in [0-9.e-]+s: 'not due'",
        timeout=MAIL_TIMEOUT,
        what="the redelivered message to be turned away",
    )
    assert_sent_once(rig, email)
    assert rig.smtp.handler.mail_commands == 2  # one conversation killed, one delivered


def test_resends_with_one_idempotency_key_are_one_mail_and_without_a_key_each_is_a_mail(rig, order, v1):
    invoice = invoice_order(order_id=order.pk, notify=False)
    url = f"/rest/default/V1/invoices/{invoice.pk}/emails"

    # two requests with the same key (a client retrying): one mail
    for _ in range(2):
        response = v1.post(url, format="json", headers={"Idempotency-Key": "resend-42"})
        assert (response.status_code, response.json()) == (200, True)
    assert rig.enqueue_failures == []
    (keyed_mail,) = wait_for_mails(rig, 1)
    (keyed,) = EmailOutbox.objects.filter(invoice=invoice)
    assert keyed_mail.message_id == keyed.message_id and keyed_mail.rcpt_tos == [CUSTOMER]
    assert keyed_mail.message["Subject"] == SUBJECT
    assert_sent_once(rig, keyed)

    # the same key once more, after its mail went out: still one mail, and the invoice still says sent
    response = v1.post(url, format="json", headers={"Idempotency-Key": "resend-42"})
    assert (response.status_code, response.json()) == (200, True)
    assert EmailOutbox.objects.filter(invoice=invoice).count() == 1
    assert_sent_once(rig, keyed)

    # two requests without a key: two mails
    for _ in range(2):
        response = v1.post(url, format="json")
        assert (response.status_code, response.json()) == (200, True)
    mails = wait_for_mails(rig, 3)
    unkeyed = list(EmailOutbox.objects.filter(invoice=invoice).exclude(pk=keyed.pk))
    assert len(unkeyed) == 2
    assert_sent_once(rig, *unkeyed)
    assert len(rig.smtp.received) == 3
    assert len({mail.message_id for mail in mails}) == 3
    assert all(mail.rcpt_tos == [CUSTOMER] and mail.message["Subject"] == SUBJECT for mail in mails)


def worker_database_backends() -> set[tuple]:
    """(pid, start) of every session on the test database but this process's: the worker's and beat's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        return set(cursor.fetchall())


def resend(invoice: Invoice, key: str) -> EmailOutbox:
    invoice_email_send(invoice_id=invoice.pk, key=key)
    return EmailOutbox.objects.filter(invoice=invoice).latest("id")


def test_the_worker_keeps_its_database_and_smtp_connections_from_task_to_task(rig, order):
    invoice, first = invoice_with_notify(order)
    wait_until_sent(rig, first)
    rig.wait_sweeps(1)  # and a few more tasks in between
    held = worker_database_backends()

    second = resend(invoice, "again")
    wait_until_sent(rig, second)
    rig.wait_sweeps(1)

    assert held and worker_database_backends() == held  # the same PostgreSQL sessions, none opened since
    first_mail, second_mail = wait_for_mails(rig, 2)
    assert first_mail.peer == second_mail.peer  # one SMTP connection carried both


def test_a_database_connection_killed_between_tasks_is_replaced_and_the_next_mail_sent_once(rig, order):
    invoice, first = invoice_with_notify(order)
    wait_until_sent(rig, first)
    rig.wait_sweeps(1)
    from django.db import connection

    with connection.cursor() as cursor:  # what a database restart or an idle-session killer does
        for pid, _ in worker_database_backends():
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    second = resend(invoice, "after the kill")

    assert_sent_once(rig, first, second)
    assert attempt_log(second) == [(1, Outcome.SENT)]
    assert "OperationalError" not in rig.worker.log()  # CONN_HEALTH_CHECKS found the dead session before a task did


@pytest.mark.parametrize("pool", ["prefork", "threads"])
def test_a_conversation_that_hangs_is_cut_off_at_the_deadline_and_the_mail_sent_on_the_retry(rig, order, pool):
    """The server stops answering at RCPT TO and never hangs up: the send deadline (0.8 of
    ``EMAIL_SENDING_TIMEOUT_SECONDS`` = 2.4 s here, shorter than the 5 s socket time-out) ends the attempt
    before the sweeper would release the row, and the retry delivers the mail once. In a prefork child (the
    task in the main thread) a timer signal and the socket waits carry the deadline, in a threads pool the
    socket waits alone."""
    if pool != "prefork":
        rig.worker.stop()
        rig.new_worker(pool=pool).wait_ready()
    rig.smtp.handler.stall_next_rcpt()

    _, email = invoice_with_notify(order)
    wait_until(
        rig.smtp.handler.stalled.is_set,
        timeout=MAIL_TIMEOUT,
        what="the conversation to stall at RCPT TO",
        diagnostics=rig.diagnostics,
    )
    wait_until(
        lambda: EmailAttempt.objects.filter(email=email, number=1).exists(),
        timeout=MAIL_TIMEOUT,
        what="the hung attempt to be cut off",
        diagnostics=rig.diagnostics,
    )
    rig.smtp.handler.release.set()

    assert_sent_once(rig, email)
    assert attempt_log(email) == [(1, Outcome.RETRY), (2, Outcome.SENT)]
    assert email.attempt_log.get(number=1).error == "SendDeadlineExceeded: the SMTP conversation took over 2.4 s"
    assert "released" not in email.attempt_log.get(number=1).error  # the worker ended it, not the sweeper
