"""The worker's SMTP connection: one per process (per thread in a threads pool), reused from e-mail to e-mail.

Opening a conversation (connect, EHLO, STARTTLS, AUTH) and closing it (QUIT) cost more than sending one
invoice mail, so ``deliver`` keeps the connection open between tasks, the way Django keeps a database
connection between requests. It is opened lazily and replaced when it has been idle for
``EMAIL_CONNECTION_IDLE_SECONDS`` (servers drop idle clients, commonly after 300 s) or has carried
``EMAIL_CONNECTION_MAX_MESSAGES`` (servers cap messages per connection); it is closed after any error
and when the worker process ends.

A reused connection can still turn out dead (the server or a firewall dropped it meanwhile): if it fails
with ``SMTPServerDisconnected`` before DATA began, the server cannot have accepted the message, so it is
sent again at once on a fresh connection, within the same attempt. Every other failure is raised.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import smtplib
import threading
import time
import weakref

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

logger = logging.getLogger("counterfoil.notifications")

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
QUIT_TIMEOUT = 2.0  # seconds to wait for the answer to QUIT when a connection is retired


class _DataTracking:
    """Notes whether the current message reached DATA: from then on the server may have accepted it."""

    data_started = False

    def data(self, msg):
        self.data_started = True
        return super().data(msg)


class _TrackedSMTP(_DataTracking, smtplib.SMTP):
    pass


class _TrackedSMTPSSL(_DataTracking, smtplib.SMTP_SSL):
    pass


class ReusableSmtpBackend(SmtpBackend):
    """Django's SMTP backend with a client that tells whether a failed send got as far as DATA."""

    @property
    def connection_class(self):
        return _TrackedSMTPSSL if self.use_ssl else _TrackedSMTP


class _Held:
    """One thread's open backend, the settings it was opened with, its age in use and in messages."""

    def __init__(self, backend, signature: tuple):
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
        getattr(settings, name, None)
        for name in ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
                     "EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_TIMEOUT", "EMAIL_FILE_PATH")
    )  # fmt: skip


def _new_backend():
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
                smtp.sock.settimeout(QUIT_TIMEOUT)  # a QUIT nobody answers must not hold up the next e-mail
            backend.close()
        elif smtp is None:
            backend.close()
    except Exception:  # noqa: BLE001 - closing a connection we are giving up on: nothing to save
        logger.debug("closing the SMTP connection failed", exc_info=True)
    finally:
        if smtp is not None:
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
            or idle > float(getattr(settings, "EMAIL_CONNECTION_IDLE_SECONDS", 30))
            or held.messages >= int(getattr(settings, "EMAIL_CONNECTION_MAX_MESSAGES", 100))
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
    if isinstance(getattr(backend, "connection", None), _DataTracking):
        backend.connection.data_started = False
    backend.send_messages([message])
    held.messages += 1
    held.last_used = _clock()


def deliver(message: EmailMessage) -> None:
    """Send one message over this thread's connection; raise what the server or the network said.

    Any failure closes the connection (the next e-mail opens a fresh one). Only a reused connection found
    dead before DATA is retried, once, on a new connection: that message cannot have been accepted.
    """
    held, reused = _connection()
    try:
        _send_on(held, message)
        return
    except smtplib.SMTPServerDisconnected:
        connection = getattr(held.backend, "connection", None)
        stale = reused and not getattr(connection, "data_started", True)
        _drop(held, polite=False)
        if not stale:
            raise
    except BaseException:
        _drop(held, polite=False)
        raise
    logger.info("the reused SMTP connection was closed by the server; sending again on a new one")
    held, _ = _connection()
    try:
        _send_on(held, message)
    except BaseException:
        _drop(held, polite=False)
        raise


def close_connections(**_signal_kwargs) -> None:
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
