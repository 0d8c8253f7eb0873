"""Shared pieces for the e-mail tests: a real SMTP server in this process, orders and queued mails.

The SMTP server is aiosmtpd's ``Controller`` on 127.0.0.1 and a free port; Django's SMTP backend talks to
it exactly as it would to a relay. ``smtp.handler`` (a ``Recorder``) can be told to answer errors, stall,
hang up or close a reused connection with 421 (see its fields). Each accepted message keeps the client's
address (``peer``): one address per SMTP connection.

``run_in_worker(task, *args)`` runs a task the way a worker runs a message from the broker, so it keeps
its SMTP connection; a direct call or an eager one sends over a connection of its own.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import load_seed_order
from tests.factories import OrderFactory


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: tuple = ()  # the client's (host, port): which SMTP connection carried the message

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)

    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


CLOSING = "421 4.4.2 Idle too long, closing connection"


@dataclass
class Recorder:
    """aiosmtpd handler: keeps every accepted message, and misbehaves as told.

    ``data_reply`` / ``rcpt_reply`` answer DATA / every RCPT TO; ``rcpt_replies`` answers RCPT TO per address;
    ``rcpt_stall_seconds`` waits that long before answering RCPT TO; ``hang_up_in_data`` drops the connection
    after the message, before answering it; ``closes_reused_at`` ("MAIL" or "RCPT") answers that command with
    421 and closes the connection when the connection already carried a message, as a server does once its
    idle time-out passed; ``before_data_reply`` is called after the message came in, before the 250.
    """

    received: list[Received] = field(default_factory=list)
    data_reply: str = "250 Message accepted for delivery"
    rcpt_reply: str | None = None
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    rcpt_stall_seconds: float = 0
    hang_up_in_data: bool = False
    closes_reused_at: str | None = None
    before_data_reply: Callable[[], None] | None = None
    hung_up: int = 0  # messages received in full and never answered
    closed_with_421: int = 0
    quits: int = 0

    def _close_reused(self, server, session, command: str) -> str | None:
        if self.closes_reused_at != command or not getattr(session, "carried", 0):
            return None
        self.closed_with_421 += 1
        asyncio.get_running_loop().call_soon(server.transport.close)  # once the 421 is on its way
        return CLOSING

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd's name
        if closing := self._close_reused(server, session, "MAIL"):
            return closing
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if closing := self._close_reused(server, session, "RCPT"):
            return closing
        if self.rcpt_stall_seconds:
            await asyncio.sleep(self.rcpt_stall_seconds)
        reply = self.rcpt_replies.get(address, self.rcpt_reply)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.hang_up_in_data:
            self.hung_up += 1
            server.transport.close()  # the whole message came in, no answer goes out: the client cannot tell
            return "451 never seen"
        if self.before_data_reply is not None:
            await asyncio.to_thread(self.before_data_reply)  # off the event loop: it may block (a database call)
        if self.data_reply.startswith("250"):
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content), tuple(session.peer))
            )
            session.carried = getattr(session, "carried", 0) + 1
        return self.data_reply

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.quits += 1
        return "221 Bye"


class SmtpServer:
    """One local SMTP server; ``start()`` / ``stop()`` on a fixed port, so a test can take it down and up."""

    def __init__(self, port: int):
        self.port = port
        self.handler = Recorder()
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> SmtpServer:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def run_in_worker(task, *args):
    """``task(*args)`` as a worker runs a message it took from the broker: the request is neither a direct call
    nor eager (Celery's tracer does the same, and also sends task_prerun/postrun, whose database clean-up
    would close the test's transaction)."""
    task.push_request(args=args, called_directly=False, is_eager=False)
    try:
        return task.run(*args)
    finally:
        task.pop_request()


@pytest.fixture(autouse=True)
def _no_smtp_connection_left_over():
    """Each test starts and ends without a held SMTP connection (the worker's, kept between e-mails)."""
    from notifications.transport import close_connections

    close_connections()
    yield
    close_connections()


@pytest.fixture
def smtp_settings(settings):
    """Django's real SMTP backend pointed at 127.0.0.1:<free port> (nothing listening yet)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return settings


@pytest.fixture
def smtp_down(smtp_settings):
    """A server object on the configured port, not started: connections are refused until ``start()``."""
    server = SmtpServer(smtp_settings.EMAIL_PORT)
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_down):
    """A running local SMTP server that Django's SMTP backend sends to."""
    return smtp_down.start()


@pytest.fixture
def seed_order(import_order):
    """Seed 001 (Driven Backpack x 20, Voyage Yoga Bag x 40, Yoga Adventure x 1), a new number each call."""
    return lambda **overrides: import_order(load_seed_order("001"), **{"increment_id": None, **overrides})


@pytest.fixture
def virtual_order(default_store):
    """Only a downloadable row: a virtual order, no shipping address or method."""
    return lambda **overrides: OrderFactory(virtual=True, **overrides)


@pytest.fixture
def queued_invoice(seed_order):
    """``queued_invoice(**invoice_order kwargs)`` -> (invoice, outbox row): invoiced with notify, mail pending.

    Outside ``django_capture_on_commit_callbacks`` the on-commit enqueue never runs, so the row waits.
    """
    from notifications.models import EmailOutbox
    from sales.services import invoice_order

    def _queue(order=None, **kwargs):
        order = order or seed_order()
        invoice = invoice_order(order_id=order.pk, notify=True, **kwargs)
        return invoice, EmailOutbox.objects.get(invoice=invoice)

    return _queue


@pytest.fixture
def eager_celery():
    """Celery runs ``delay()`` / ``apply_async()`` in this process, whatever an earlier test left in its conf.

    Celery reads ``CELERY_*`` from Django's settings live, unless a value was set on ``app.conf`` directly; this
    sets eager mode there for the test and puts back exactly what was there before.
    """
    from config.celery_app import app

    names = ("task_always_eager", "task_eager_propagates")
    saved = {name: app.conf.changes[name] for name in names if name in app.conf.changes}
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    for name in names:
        if name in saved:
            app.conf.changes[name] = saved[name]
        else:
            app.conf.changes.pop(name, None)
