"""Taking an order's row lock, within a bounded wait, and naming what a lost race looks like.

Every write to an order (invoice, capture, void, cancel, comment) locks the order row first,
so they queue in one order and never deadlock among themselves. The wait is bounded by
``ORDER_LOCK_TIMEOUT_SECONDS`` (PostgreSQL's ``lock_timeout``, for this transaction only):
past it, or on a serialization failure or deadlock, the write fails as a ConflictError and
writes nothing.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection

from sales.errors import ConflictError
from sales.models import Order

# PostgreSQL SQLSTATEs of a lost race: lock_not_available, serialization_failure, deadlock_detected.
CONFLICT_SQLSTATES = {"55P03", "40001", "40P01"}


def is_conflict(error: Exception) -> bool:
    return getattr(error.__cause__, "sqlstate", None) in CONFLICT_SQLSTATES


@contextmanager
def conflicts_as_domain_errors():
    try:
        yield
    except OperationalError as error:
        if is_conflict(error):
            raise ConflictError() from error
        raise


def lock_order(order_id: int) -> Order | None:
    """The order, locked for this transaction; None if there is no such order."""
    if connection.vendor == "postgresql":
        timeout_ms = int(float(getattr(settings, "ORDER_LOCK_TIMEOUT_SECONDS", 5)) * 1000)
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = {timeout_ms}")
    with conflicts_as_domain_errors():
        return Order.objects.select_for_update(of=("self",)).filter(pk=order_id).first()
