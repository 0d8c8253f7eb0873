"""The worker's SMTP connection: reused from e-mail to e-mail, replaced when idle, full or broken; and only
a worker's: an eager or direct send closes its connection after the message.

``email_send`` runs in this process as a worker runs it (``run_in_worker``) against the aiosmtpd server of
the conftest; each accepted message keeps the client address it came from, so one address means one SMTP
connection. Time is moved through ``notifications.transport._clock``, never waited for.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.signals import worker_process_shutdown
from django.utils import timezone

from notifications import transport
from notifications.models import EmailAttempt, EmailOutbox
from notifications.tasks import email_send
from tests.notifications.conftest import CLOSING, run_in_worker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

Status = EmailOutbox.Status
Outcome = EmailAttempt.Outcome


def queued(queued_invoice, count: int) -> list[EmailOutbox]:
    return [queued_invoice()[1] for _ in range(count)]


def make_due(row: EmailOutbox) -> None:
    EmailOutbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def attempt_log(row: EmailOutbox) -> list[tuple[int, str]]:
    return list(EmailAttempt.objects.filter(email=row).order_by("number").values_list("number", "outcome"))


def peers(smtp) -> list[tuple]:
    return [mail.peer for mail in smtp.received]


def copies(smtp, row: EmailOutbox) -> int:
    return sum(1 for mail in smtp.received if mail.message["Message-ID"] == row.message_id)


def worker_sends(row: EmailOutbox) -> str:
    return run_in_worker(email_send, row.pk)


def held_connections() -> int:
    return len(transport._all_held)


@pytest.fixture
def clock(monkeypatch):
    """``clock.advance(seconds)``: the transport's idea of time moves on."""

    class Clock:
        offset = 0.0

        def advance(self, seconds: float) -> None:
            self.offset += seconds

    moved = Clock()
    real = transport._clock
    monkeypatch.setattr(transport, "_clock", lambda: real() + moved.offset)
    return moved


def test_many_mails_from_one_worker_go_over_one_smtp_connection(smtp, queued_invoice):
    rows = queued(queued_invoice, 4)

    assert [worker_sends(row) for row in rows] == ["sent"] * 4

    assert len(smtp.received) == 4
    assert len(set(peers(smtp))) == 1
    assert smtp.handler.quits == 0  # still open for the next e-mail
    assert [mail.message["Message-ID"] for mail in smtp.received] == [row.message_id for row in rows]


def test_a_connection_the_server_dropped_is_replaced_at_once_and_the_mail_sent_once(smtp, queued_invoice):
    first, second = queued(queued_invoice, 2)
    assert worker_sends(first) == "sent"
    smtp.stop()  # the server goes away, and with it the connection the worker holds
    smtp.start()

    assert worker_sends(second) == "sent"

    second.refresh_from_db()
    assert (second.status, second.attempts, second.last_error) == (Status.SENT, 1, "")
    assert attempt_log(second) == [(1, Outcome.SENT)]  # the reconnect is part of the one attempt
    assert (copies(smtp, first), copies(smtp, second)) == (1, 1)
    assert len(set(peers(smtp))) == 2


def test_a_connection_lost_after_the_message_was_sent_is_a_failed_attempt_not_an_instant_resend(smtp, queued_invoice):
    first, second = queued(queued_invoice, 2)
    assert worker_sends(first) == "sent"
    smtp.handler.hang_up_in_data = True  # the server may have accepted it: only the retry's backoff may resend

    assert worker_sends(second) == "retry"

    second.refresh_from_db()
    assert (second.status, second.attempts) == (Status.PENDING, 1)
    assert "SMTPServerDisconnected" in second.last_error
    assert attempt_log(second) == [(1, Outcome.RETRY)]
    assert (smtp.handler.hung_up, copies(smtp, second)) == (1, 0)  # the server got it once, nobody sent it again

    smtp.handler.hang_up_in_data = False
    make_due(second)
    assert worker_sends(second) == "sent"
    assert copies(smtp, second) == 1
    assert attempt_log(second) == [(1, Outcome.RETRY), (2, Outcome.SENT)]


def test_after_a_failed_send_the_next_mail_opens_a_new_connection(smtp, queued_invoice):
    before, failing, after = queued(queued_invoice, 3)
    assert worker_sends(before) == "sent"
    smtp.handler.data_reply = "451 Try again later"
    assert worker_sends(failing) == "retry"
    smtp.handler.data_reply = "250 OK"

    assert worker_sends(after) == "sent"

    assert [mail.message["Message-ID"] for mail in smtp.received] == [before.message_id, after.message_id]
    assert len(set(peers(smtp))) == 2


def test_a_connection_idle_for_longer_than_the_setting_is_replaced(smtp, queued_invoice, settings, clock):
    settings.EMAIL_CONNECTION_IDLE_SECONDS = 30
    rows = queued(queued_invoice, 3)

    assert worker_sends(rows[0]) == "sent"
    clock.advance(29)
    assert worker_sends(rows[1]) == "sent"  # idle 29 s: kept
    clock.advance(31)
    assert worker_sends(rows[2]) == "sent"  # idle 31 s: replaced

    first, second, third = peers(smtp)
    assert first == second != third
    assert smtp.handler.quits == 1  # the idle one was closed politely


def test_a_connection_that_carried_the_maximum_of_messages_is_replaced(smtp, queued_invoice, settings):
    settings.EMAIL_CONNECTION_MAX_MESSAGES = 2
    rows = queued(queued_invoice, 5)

    assert [worker_sends(row) for row in rows] == ["sent"] * 5

    addresses = peers(smtp)
    assert addresses[0] == addresses[1] != addresses[2] == addresses[3] != addresses[4]
    assert smtp.handler.quits == 2


def test_the_connection_is_closed_with_quit_when_the_worker_process_shuts_down(smtp, queued_invoice):
    (row,) = queued(queued_invoice, 1)
    assert worker_sends(row) == "sent"
    assert smtp.handler.quits == 0

    worker_process_shutdown.send(sender=None, pid=0, exitcode=0)

    assert smtp.handler.quits == 1


@pytest.mark.parametrize("command", ["MAIL", "RCPT"])
def test_a_reused_connection_the_server_closes_with_421_is_replaced_at_once_and_the_mail_sent_once(
    smtp, queued_invoice, command
):
    first, second = queued(queued_invoice, 2)
    assert worker_sends(first) == "sent"
    smtp.handler.closes_reused_at = command  # its idle time-out passed: "421 closing" instead of an answer

    assert worker_sends(second) == "sent"

    assert smtp.handler.closed_with_421 == 1
    second.refresh_from_db()
    assert (second.status, second.attempts, second.last_error) == (Status.SENT, 1, "")
    assert attempt_log(second) == [(1, Outcome.SENT)]  # the reconnect is part of the one attempt
    assert (copies(smtp, first), copies(smtp, second)) == (1, 1)
    assert len(set(peers(smtp))) == 2


def test_a_421_on_a_new_connection_is_a_failed_attempt_retried_later_not_an_instant_resend(smtp, queued_invoice):
    (row,) = queued(queued_invoice, 1)
    smtp.handler.rcpt_reply = CLOSING  # the server is busy, not our connection stale: only the backoff helps

    assert worker_sends(row) == "retry"

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "421" in row.last_error
    assert attempt_log(row) == [(1, Outcome.RETRY)]
    assert smtp.received == []


def test_a_mail_sent_eagerly_goes_over_a_connection_of_its_own_closed_after_it(smtp, queued_invoice):
    rows = queued(queued_invoice, 2)

    # make run: the task runs inside the web request's thread, which must not keep an SMTP connection
    assert [email_send.delay(row.pk).get() for row in rows] == ["sent"] * 2

    assert held_connections() == 0
    assert smtp.handler.quits == 2  # each closed politely right after its message
    assert len(set(peers(smtp))) == 2


def test_a_mail_sent_by_a_direct_call_leaves_no_connection_and_a_failed_one_neither(smtp, queued_invoice):
    sent, failing = queued(queued_invoice, 2)

    assert email_send(sent.pk) == "sent"
    assert held_connections() == 0
    smtp.handler.data_reply = "451 4.3.0 Try again later"
    assert email_send(failing.pk) == "retry"  # the same error semantics as a worker's send

    assert held_connections() == 0
    assert smtp.handler.quits == 1  # the failed one is only closed: a QUIT after an error could hang
    failing.refresh_from_db()
    assert "451" in failing.last_error


def test_a_worker_keeps_its_connection_held_between_mails(smtp, queued_invoice):
    (row,) = queued(queued_invoice, 1)

    assert worker_sends(row) == "sent"

    assert held_connections() == 1
    assert smtp.handler.quits == 0
