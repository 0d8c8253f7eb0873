"""A database that fails while an invoice is being saved is the server's failure, not the client's: each door
answers 503 with Retry-After in its own envelope, logs it, and writes nothing; never Magento's 400
``Could not save an invoice``, which blames the request.

The request runs in its own thread and PostgreSQL connection; the test holds row locks on the order's items,
so the invoice's save waits inside its transaction, and there the database fails for real: the test ends the
request's server process (``pg_terminate_backend``, as a restart or a pooler dropping it would), or the
request's ``statement_timeout`` expires.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from sales.api.api2.errors import UNAVAILABLE as API2_UNAVAILABLE
from sales.api.v1.errors import UNAVAILABLE as V1_UNAVAILABLE
from sales.errors import DATABASE_RETRY_AFTER_SECONDS
from sales.models import Invoice, OrderItem
from tests.conftest import load_seed_order
from tests.notifications.realworker import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Sessions waiting for a lock this session holds.
BLOCKED_BY_ME = "SELECT DISTINCT pid FROM pg_locks WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
WAIT_SECONDS = 10.0
STATEMENT_TIMEOUT_MS = 300  # far below ORDER_LOCK_TIMEOUT_SECONDS: the statement times out, not the lock wait
DOORS = {
    "/V1": (lambda order: (f"/rest/default/V1/order/{order.pk}/invoice", {"capture": False}), "counterfoil.api.v1"),
    "/api2": (lambda order: ("/api2/invoice/create", {"order_id": order.pk}), "counterfoil.api.api2"),
}


def terminate_the_waiting_request() -> None:
    """Ends the server process of the session waiting on this test's locks."""

    def waiting() -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(BLOCKED_BY_ME)
            return [pid for (pid,) in cursor.fetchall()]

    [pid] = wait_until(waiting, timeout=WAIT_SECONDS, what="the request to wait on a lock")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def invoice_in_its_own_connection(
    pool: ThreadPoolExecutor, client, path: str, body: dict, *, statement_timeout_ms: int | None
) -> Future:
    def post():
        try:
            if statement_timeout_ms is not None:
                with connection.cursor() as cursor:
                    cursor.execute(f"SET statement_timeout = {statement_timeout_ms}")
            return client.post(path, body, format="json")
        finally:
            connection.close()  # this thread's own connection (or what is left of it)

    return pool.submit(post)


@pytest.mark.parametrize("failure", ["connection terminated", "statement timeout"])
@pytest.mark.parametrize("door", sorted(DOORS))
def test_a_database_failure_while_saving_an_invoice_is_503_in_the_doors_envelope_not_the_clients_400(
    v1, import_order, caplog, door, failure
):
    # given an order, and its items' rows locked here: the invoice's save will wait on them
    order = import_order(load_seed_order("000"))
    request_for, logger_name = DOORS[door]
    path, body = request_for(order)
    timeout = STATEMENT_TIMEOUT_MS if failure == "statement timeout" else None

    # when the database fails the invoicing request while it waits inside its transaction
    with caplog.at_level(logging.ERROR, logger=logger_name), ThreadPoolExecutor(1) as pool, transaction.atomic():
        list(OrderItem.objects.select_for_update().filter(order=order))
        request = invoice_in_its_own_connection(pool, v1, path, body, statement_timeout_ms=timeout)
        if failure == "connection terminated":
            terminate_the_waiting_request()
        response = request.result(timeout=WAIT_SECONDS)

    # then 503, retry shortly, in the door's envelope; logged; nothing written
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    if door == "/V1":
        assert response.json()["message"] == V1_UNAVAILABLE and len(response.json()["parameters"]) == 1
    else:
        assert response.json() == {"error": API2_UNAVAILABLE}
    assert any("database unavailable" in record.getMessage() and record.exc_info for record in caplog.records)
    assert not Invoice.objects.filter(order=order).exists()
