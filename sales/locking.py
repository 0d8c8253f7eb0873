"""Taking an order's row lock, within a bounded wait, and naming what a lost race looks like.

Every write to an order (invoice, capture, void, cancel, comment) locks the order row first,
so they queue in one order and never deadlock among themselves. The wait is bounded by
``ORDER_LOCK_TIMEOUT_SECONDS`` (PostgreSQL's ``lock_timeout``, for this transaction only):
past it, or on a serialization failure or deadlock that re-running did not cure, the write fails
as a ConflictError and writes nothing.

``retry_transient`` re-runs a whole write service when PostgreSQL chose it as the loser of a
serialization failure or a deadlock (the other transaction went through, so a re-run usually
succeeds), a bounded number of times. A lock wait that timed out is not re-run: the lock is still
held by a request that may take long (a slow gateway), so the caller hears 409 at once.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction

from sales.errors import ConflictError, ErrorCode
from sales.models import Order

logger = logging.getLogger("counterfoil.sales")

# PostgreSQL SQLSTATEs of a lost race: lock_not_available, serialization_failure, deadlock_detected.
LOCK_NOT_AVAILABLE = "55P03"
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
CONFLICT_SQLSTATES = {LOCK_NOT_AVAILABLE, SERIALIZATION_FAILURE, DEADLOCK_DETECTED}
# The ones PostgreSQL asks the client to retry: the transaction was rolled back, the other one won.
TRANSIENT_SQLSTATES = {SERIALIZATION_FAILURE, DEADLOCK_DETECTED}
TRANSIENT_CONFLICT = "Another request changed the same records at the same time. Try again."
BACKOFF_FIRST_SECONDS = 0.01
BACKOFF_MAX_SECONDS = 0.1


def is_conflict(error: Exception) -> bool:
    return getattr(error.__cause__, "sqlstate", None) in CONFLICT_SQLSTATES


@contextmanager
def conflicts_as_domain_errors() -> Iterator[None]:
    try:
        yield
    except OperationalError as error:
        if is_conflict(error):
            raise ConflictError() from error
        raise


def lock_order(order_id: int, *, related: tuple[str, ...] = ()) -> Order | None:
    """The order, locked for this transaction; None if there is no such order.

    ``related`` (e.g. its addresses and payment) come in the same query, read but not locked: only
    the order's row is (``FOR UPDATE OF`` the order), so an order without them is found all the same.
    """
    if connection.vendor == "postgresql":
        timeout_ms = int(float(settings.ORDER_LOCK_TIMEOUT_SECONDS) * 1000)
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = {timeout_ms}")
    orders = Order.objects.select_for_update(of=("self",)).filter(pk=order_id)
    if related:
        orders = orders.select_related(*related)
    with conflicts_as_domain_errors():
        return orders.first()


# -- retrying serialization failures and deadlocks -------------------------------------------------


def sqlstate(error: BaseException | None) -> str | None:
    """The PostgreSQL SQLSTATE behind an error, following ``__cause__``.

    psycopg's error carries it; Django's DatabaseError wraps that one (``__cause__``), and the services
    wrap Django's in their domain errors (``conflicts_as_domain_errors`` and the invoice's
    ``could_not_invoice_on_failure`` raise ``ConflictError() from error``), so the chain keeps it.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        state = getattr(error, "sqlstate", None)
        if state:
            return state
        error = error.__cause__
    return None


def is_transient(error: BaseException) -> bool:
    """A serialization failure or deadlock, raw or already a ConflictError: re-running may succeed."""
    return isinstance(error, DatabaseError | ConflictError) and sqlstate(error) in TRANSIENT_SQLSTATES


def backoff_seconds(attempt: int) -> float:
    """The pause before re-run number ``attempt``: 5-10 ms, then doubling, at most 100 ms, jittered so
    the two losers of one deadlock do not collide again in step."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography


class _Attempt:
    """What the attempt under way has done that a re-run could not undo."""

    def __init__(self) -> None:
        self.irrevocable: str | None = None


_attempt: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar("sales_retry_attempt", default=None)


def mark_not_retryable(reason: str) -> None:
    """From here on the running attempt is not re-run: something outside the database is about to
    happen that a re-run would repeat rather than recognise (a gateway call whose idempotency key
    a re-run would not reproduce). Outside ``retry_transient`` it does nothing."""
    attempt = _attempt.get()
    if attempt is not None and attempt.irrevocable is None:
        attempt.irrevocable = reason


def _conflict_for(error: Exception) -> ConflictError | None:
    """A lost race the services did not name yet (one raised at COMMIT, or by a service that does not
    wrap its queries) as the domain's ConflictError, which every door renders as 409."""
    if isinstance(error, DatabaseError) and sqlstate(error) in CONFLICT_SQLSTATES:
        return ConflictError(TRANSIENT_CONFLICT, code=ErrorCode.TRANSIENT_CONFLICT)
    return None


P = ParamSpec("P")
R = TypeVar("R")


def retry_transient(attempts: int | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Re-run a write service, its whole transaction, when PostgreSQL rolled it back as the loser of a
    serialization failure (40001) or a deadlock (40P01); at most ``attempts`` runs in all
    (``DATABASE_RETRY_ATTEMPTS``, default 3), with a jittered pause of a few ms up to 100 ms between.

    The last failure is raised as ``ConflictError`` (409 on /api2 ``Conflict on save``, 409 on /V1).
    Not re-run: a lock wait that timed out (55P03, answered 409 at once), any other error, an attempt
    that called ``mark_not_retryable``, and any call made inside an outer atomic block.

    Gateway calls inside the transaction (``invoice_order``, ``invoice_capture``, ``invoice_void``) are
    safe to re-run: the idempotency key is derived from rows the rollback restores
    (``payments.services``: capture = payment, its number of capture transactions and the amount;
    void = payment and the capture's transaction id), so a re-run reaches the gateway with the same key
    and money moves once. Proven for a save failing after the capture by
    ``tests/payments/test_gateway_failures.py::test_a_save_failing_after_the_gateway_captured_rolls_back_and_the_retry_charges_once``
    and, through this decorator, by ``tests/sales/test_retries.py``. The limit of that argument: if
    another request invoices the same order in the milliseconds between two attempts, the re-run's
    key differs (as a client's own retry would). ``order_import``'s authorization key includes the
    new order's id, which a re-run does not reuse, so it marks itself not retryable before the call.
    """

    def decorate(service: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(service)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            if transaction.get_connection().in_atomic_block:
                # The caller owns the transaction: a failed statement aborted all of it (its locks and
                # snapshot too), so only the caller can re-run it from its start. Pass errors through.
                return service(*args, **kwargs)
            limit = max(1, attempts or int(settings.DATABASE_RETRY_ATTEMPTS))
            for attempt in range(1, limit + 1):
                state = _Attempt()
                token = _attempt.set(state)
                try:
                    return service(*args, **kwargs)
                except Exception as error:
                    if is_transient(error) and state.irrevocable is None and attempt < limit:
                        pause = backoff_seconds(attempt)
                        logger.warning(
                            "%s lost a race (SQLSTATE %s), attempt %s of %s: re-running in %.0f ms",
                            service.__name__,
                            sqlstate(error),
                            attempt,
                            limit,
                            pause * 1000,
                        )
                    else:
                        if is_transient(error):
                            why = f"after {state.irrevocable}" if state.irrevocable else f"{attempt} times"
                            logger.warning(
                                "%s lost a race (SQLSTATE %s) %s: not re-run", service.__name__, sqlstate(error), why
                            )
                        conflict = _conflict_for(error)
                        if conflict is None:
                            raise
                        raise conflict from error
                finally:
                    _attempt.reset(token)
                time.sleep(pause)
            raise AssertionError("unreachable")  # pragma: no cover

        return run

    return decorate
