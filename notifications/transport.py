"""Sending one e-mail over SMTP: a worker's connection, reused from e-mail to e-mail, and the send deadline.

Opening a conversation (connect, EHLO, STARTTLS, AUTH) and closing it (QUIT) cost more than sending one
invoice mail, so a worker (``deliver(..., reuse_connection=True)``) keeps its connection open between tasks,
one per process (per thread in a threads pool), the way Django keeps a database connection between
requests. It is opened lazily and replaced when it has been idle for ``EMAIL_CONNECTION_IDLE_SECONDS``
(servers drop idle clients, commonly after 300 s) or has carried ``EMAIL_CONNECTION_MAX_MESSAGES`` (servers
cap messages per connection); it is closed after any error and when the worker process ends. Anything else
(a task run eagerly inside a web request, ``make run``; a direct call) sends over a connection of its own,
closed after the message: a web thread must not hold an SMTP connection for the rest of its life.

A reused connection can still turn out dead (the server or a firewall dropped it meanwhile, or the server
timed it out and says so with 421, "closing transmission channel"): if it fails with
``SMTPServerDisconnected`` or a 421 answer before DATA began, the server cannot have accepted the message,
so it is sent again at once on a fresh connection, within the same attempt. Every other failure is raised.

``send_deadline`` bounds the whole conversation, not only each socket wait (``EMAIL_TIMEOUT``).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import smtplib
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextvars import ContextVar
from types import FrameType
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

logger = logging.getLogger("counterfoil.notifications")

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
QUIT_TIMEOUT = 2.0  # seconds to wait for the answer to QUIT when a connection is retired


class SendDeadlineExceeded(Exception):  # noqa: N818 - named as what happened, like Celery's TimeLimitExceeded
    """The SMTP conversation outlived its deadline; the attempt fails and is retried like a time-out."""


class _Deadline(NamedTuple):
    at: float  # time.monotonic()
    seconds: float

    def exceeded(self) -> SendDeadlineExceeded:
        return SendDeadlineExceeded(f"the SMTP conversation took over {self.seconds:g} s")


_deadline: ContextVar[_Deadline | None] = ContextVar("smtp_send_deadline", default=None)


@contextlib.contextmanager
def send_deadline(seconds: float) -> Iterator[None]:
    """Raise SendDeadlineExceeded in the block once ``seconds`` have passed, in any pool.

    Every socket wait of the SMTP conversation (connect, each command, each reply, the message) is cut to
    what is left of the deadline, so a server that goes silent ends the attempt on time in a threads or
    gevent pool too. Where the task runs in the main thread (a prefork child) a SIGALRM timer also
    interrupts what no socket time-out covers: a slow DNS lookup, a server that trickles a reply byte by
    byte (each wait is cut, not their sum). Not Celery's ``time_limit``: the prefork pool arms a timer per
    task in the worker's main process and a finished task's timer stays queued until its time would have
    come, so at 300 e-mails/s and a 240 s limit the main process held 72,000 of them (+34 MB).
    """
    deadline = _Deadline(time.monotonic() + seconds, seconds)
    token = _deadline.set(deadline)

    def on_alarm(signum: int, frame: FrameType | None) -> NoReturn:
        raise deadline.exceeded()

    alarm = threading.current_thread() is threading.main_thread()
    if alarm:
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        _deadline.reset(token)


def _time_left(timeout: object) -> float | None:
    """``timeout`` (EMAIL_TIMEOUT), or what is left of the deadline if less; SendDeadlineExceeded once it is past."""
    if not isinstance(timeout, int | float):
        timeout = socket.getdefaulttimeout()  # smtplib's "not given"
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline.at - time.monotonic()
    if left <= 0:
        raise deadline.exceeded()
    return left if timeout is None else min(timeout, left)


def _raise_if_past_deadline(error: BaseException) -> None:
    """A socket wait the deadline cut short reads as "Connection unexpectedly closed: timed out": say what it was."""
    deadline = _deadline.get()
    if (
        deadline is not None
        and isinstance(error, Exception)
        and not isinstance(error, SendDeadlineExceeded)
        and time.monotonic() >= deadline.at
    ):
        raise deadline.exceeded() from error


if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

    _SMTPClient = smtplib.SMTP  # what _Conversation extends: it is mixed into SMTP and SMTP_SSL below
else:
    _SMTPClient = object


class _Conversation(_SMTPClient):
    """smtplib's client, noting whether the current message reached DATA (from then on the server may have
    accepted it), with each socket wait cut to what is left of the send deadline."""

    data_started = False

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(host, port, _time_left(timeout))  # type: ignore[misc]  # typeshed omits SMTP's private _get_socket

    def send(self, s: ReadableBuffer | str) -> None:
        self._bound()
        return super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        self._bound()
        return super().getreply()

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        self.data_started = True
        return super().data(msg)

    def _bound(self) -> None:
        if self.sock is not None:
            self.sock.settimeout(_time_left(self.timeout))


class _TrackedSMTP(_Conversation, smtplib.SMTP):
    pass


class _TrackedSMTPSSL(_Conversation, smtplib.SMTP_SSL):
    pass


class ReusableSmtpBackend(SmtpBackend):
    """Django's SMTP backend with a client that keeps the send deadline and tells whether a failed send got as
    far as DATA."""

    @property
    def connection_class(self) -> type[smtplib.SMTP_SSL | smtplib.SMTP]:
        return _TrackedSMTPSSL if self.use_ssl else _TrackedSMTP


class _Held:
    """An open backend (a thread's, or one message's), the settings it was opened with, its age in use and in
    messages."""

    def __init__(self, backend: BaseEmailBackend, signature: tuple) -> None:
        self.backend = backend
        self.signature = signature
        self.last_used = _clock()
        self.messages = 0


_clock = time.monotonic  # a seam for the tests: they move time, not wait for it
_local = threading.local()
_all_held: weakref.WeakSet[_Held] = weakref.WeakSet()  # every thread's, for the shutdown
_all_lock = threading.Lock()


def _signature() -> tuple:
    """What the connection was opened with: a change (a test, a reload) means a new connection."""
    return tuple(
        getattr(settings, name)
        for name in (
            "EMAIL_BACKEND",
            "EMAIL_HOST",
            "EMAIL_PORT",
            "EMAIL_HOST_USER",
            "EMAIL_HOST_PASSWORD",
            "EMAIL_USE_TLS",
            "EMAIL_USE_SSL",
            "EMAIL_TIMEOUT",
            "EMAIL_FILE_PATH",
        )
    )


def _new_backend() -> BaseEmailBackend:
    if settings.EMAIL_BACKEND == SMTP_BACKEND:
        return ReusableSmtpBackend(fail_silently=False)
    return get_connection(fail_silently=False)  # locmem in tests, files locally: nothing to reuse, same calls


def _drop(held: _Held, *, polite: bool) -> None:
    """Forget ``held`` and close its socket; say QUIT first when ``polite`` (not after an error: it could hang)."""
    if getattr(_local, "held", None) is held:
        _local.held = None
    with _all_lock:
        _all_held.discard(held)
    backend = held.backend
    smtp = backend.connection if isinstance(backend, SmtpBackend) else None
    try:
        if polite:
            if smtp is not None and smtp.sock is not None:
                smtp.timeout = QUIT_TIMEOUT  # a QUIT nobody answers must not hold up the next e-mail
                smtp.sock.settimeout(QUIT_TIMEOUT)
            backend.close()
        elif smtp is None:
            backend.close()
    except Exception:  # noqa: BLE001 - closing a connection we are giving up on: nothing to save
        logger.debug("closing the SMTP connection failed", exc_info=True)
    finally:
        if smtp is not None and isinstance(backend, SmtpBackend):  # (smtp is only ever an SmtpBackend's)
            with contextlib.suppress(OSError):
                smtp.close()  # the socket, whatever became of QUIT
            backend.connection = None


def _connection() -> tuple[_Held, bool]:
    """This thread's connection, and whether it is reused (it carried a message before)."""
    held: _Held | None = getattr(_local, "held", None)
    if held is not None:
        idle = _clock() - held.last_used
        if (
            held.signature != _signature()
            or idle > float(settings.EMAIL_CONNECTION_IDLE_SECONDS)
            or held.messages >= int(settings.EMAIL_CONNECTION_MAX_MESSAGES)
        ):
            _drop(held, polite=True)
            held = None
    if held is None:
        held = _Held(_new_backend(), _signature())
        _local.held = held
        with _all_lock:
            _all_held.add(held)
    return held, held.messages > 0


def _send_on(held: _Held, message: EmailMessage) -> None:
    backend = held.backend
    backend.open()
    connection = getattr(backend, "connection", None)
    if isinstance(connection, _Conversation):
        connection.data_started = False
    backend.send_messages([message])
    held.messages += 1
    held.last_used = _clock()


def _closing_channel(error: BaseException) -> bool:
    """The server answered 421: it is closing the connection (RFC 5321 3.8), as after its idle time-out."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code == 421


def _given_up_before_data(held: _Held, error: BaseException) -> bool:
    """The server had given up on this connection, and said so before DATA: it cannot have the message."""
    if getattr(getattr(held.backend, "connection", None), "data_started", True):
        return False
    return isinstance(error, smtplib.SMTPServerDisconnected) or _closing_channel(error)


def deliver(message: EmailMessage, *, reuse_connection: bool) -> None:
    """Send one message; raise what the server or the network said (SendDeadlineExceeded past the deadline).

    ``reuse_connection``: over this thread's held connection (a worker), else over one for this message only.
    Any failure closes the connection (the next e-mail opens a fresh one). Only a reused connection the
    server gave up on before DATA is retried, once, on a new connection: that message cannot have been accepted.
    """
    if not reuse_connection:
        _deliver_once(message)
        return
    held, reused = _connection()
    try:
        _send_on(held, message)
        return
    except BaseException as error:
        stale = reused and _given_up_before_data(held, error)
        _drop(held, polite=False)
        _raise_if_past_deadline(error)
        if not stale:
            raise
    logger.info("the reused SMTP connection was closed by the server; sending again on a new one")
    held, _ = _connection()
    try:
        _send_on(held, message)
    except BaseException as error:
        _drop(held, polite=False)
        _raise_if_past_deadline(error)
        raise


def _deliver_once(message: EmailMessage) -> None:
    """Over a connection of its own, which no thread keeps: QUIT after the message, just closed after an error."""
    held = _Held(_new_backend(), _signature())
    try:
        _send_on(held, message)
    except BaseException as error:
        _drop(held, polite=False)
        _raise_if_past_deadline(error)
        raise
    _drop(held, polite=True)


def close_connections(**_signal_kwargs: Any) -> None:
    """QUIT every open connection of this process (worker shutdown, interpreter exit)."""
    with _all_lock:
        everything = list(_all_held)
    for held in everything:
        _drop(held, polite=True)


def _forget_after_fork() -> None:
    """A forked child must not talk over (or QUIT) its parent's socket: it starts with no connection."""
    global _local, _all_held, _all_lock
    _local = threading.local()
    _all_held = weakref.WeakSet()
    _all_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(close_connections)
