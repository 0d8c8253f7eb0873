"""A gunicorn worker SIGKILLed in the middle of invoicing leaves no partial invoice.

A real gunicorn (production settings, one sync worker) serves ``POST /V1/order/{id}/invoice`` with
``capture: true`` for a sandbox-paid order, and the test SIGKILLs the worker while the invoice's transaction
is open: no Python runs after that, no rollback, no ``finally``. It does so at two points:

- **at the gateway**: the sandbox's ``stall`` outcome holds the capture; PostgreSQL shows the worker's
  session ``idle in transaction`` holding the order's row lock;
- **with the invoice rows written**: the gateway approves at once and the worker writes the capture
  transaction, the invoice and its rows, then waits on an order-item row lock the test holds; PostgreSQL
  shows it holding write locks on those tables.

The proof is in the database: once PostgreSQL has dropped the dead session, every table the invoice touches
is as it was before the request and the order row is free. The master respawns a worker, and the same
request, the gateway answering normally, creates exactly one invoice, captured under the same idempotency
key as the killed attempt (so a real gateway that had charged answers the retry without charging again).

Only PostgreSQL has the row locks and the separate server process this is about.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.forms.models import model_to_dict

from notifications.models import EmailOutbox
from payments.gateways import idempotency_key
from payments.models import Payment, Transaction
from sales.api.json import dumps
from sales.models import Invoice, InvoiceGrid, InvoiceItem, Order, OrderItem
from tests.factories import OrderFactory, superuser_token
from tests.notifications.realworker import database_url, wait_until
from tests.reliability.gunicorn import PROXY_HEADERS, GunicornServer, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

STALL_SECONDS = 20  # the gateway's wait: far longer than the test needs to find and kill the worker
# The worker's bounds, all above the stall: only the test kills the worker, and a worker waiting on the
# test's row lock does not give up first (ORDER_LOCK_TIMEOUT_SECONDS is the transaction's lock_timeout).
SERVER_TIMEOUTS = {"PAYMENT_GATEWAY_TIMEOUT_SECONDS": "30", "ORDER_LOCK_TIMEOUT_SECONDS": "30"}
WORKER_TIMEOUT_SECONDS = 60  # gunicorn's watchdog
REQUEST_TIMEOUT_SECONDS = 45
WAIT_SECONDS = 10.0  # longest wait for the worker to reach the kill point, for PostgreSQL to drop it...
TABLE_APPS = ("sales", "payments", "notifications", "inventory")  # every table an invoice may write

# The worker's session at the gateway: in a transaction that has locked a row (it has a transaction id),
# waiting on the application, holding the row-share lock SELECT ... FOR UPDATE takes on the order table.
AT_THE_GATEWAY = """
    SELECT activity.pid FROM pg_stat_activity AS activity
    WHERE activity.datname = current_database() AND activity.pid <> pg_backend_pid()
      AND activity.state = 'idle in transaction' AND activity.backend_xid IS NOT NULL
      AND EXISTS (
          SELECT 1 FROM pg_locks AS lock
          WHERE lock.pid = activity.pid AND lock.locktype = 'relation' AND lock.relation = %s::regclass
            AND lock.mode = 'RowShareLock' AND lock.granted
      )
"""
# Sessions waiting for a lock this session holds (pg_locks is live, even inside this session's transaction).
BLOCKED_BY_ME = "SELECT DISTINCT pid FROM pg_locks WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
# The tables a session holds a lock of ``mode`` on.
TABLES_LOCKED = """
    SELECT relation::regclass::text FROM pg_locks
    WHERE pid = %s AND locktype = 'relation' AND mode = %s AND granted
"""


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """The server, on pytest-django's test database; stopped (its whole process group) whatever happens."""
    env = server_env(database_url=database_url(connection.settings_dict), **SERVER_TIMEOUTS)
    server = GunicornServer(env=env, log_path=tmp_path / "gunicorn.log", timeout_seconds=WORKER_TIMEOUT_SECONDS)
    try:
        yield server.start()
    finally:
        server.stop()  # before transactional_db flushes the tables the worker's session could still hold
    assert not server.running


@pytest.fixture
def bearer_token(default_store) -> str:
    """An admin token of a superuser (staff tokens act with their user's permissions)."""
    return superuser_token()


def sandbox_order(information: dict) -> Order:
    """Seed 001's order paid with the sandbox gateway, stored by ``OrderFactory`` through the services and
    committed."""
    return OrderFactory(seed_001=True, payment={"method": "sandbox", "additional_information": information})


def post_invoice(server: GunicornServer, order_id: int, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"{server.url}/rest/default/V1/order/{order_id}/invoice",
        data=dumps({"capture": True, "notify": True}).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            **PROXY_HEADERS,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Background:
    """One call in a thread; ``outcome`` is its return value or the exception it raised."""

    def __init__(self, call):
        self.outcome = None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()

    def _run(self, call) -> None:
        try:
            self.outcome = call()
        except BaseException as error:  # noqa: BLE001 - examined by the test
            self.outcome = error

    def join(self, timeout: float):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the request never came back"
        return self.outcome


def query_pids(sql: str, params=()) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pid for (pid,) in cursor.fetchall()]


def tables_locked(backend_pid: int, mode: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(TABLES_LOCKED, [backend_pid, mode])
        return {name for (name,) in cursor.fetchall()}


def session_alive(backend_pid: int) -> bool:
    return bool(query_pids("SELECT pid FROM pg_stat_activity WHERE pid = %s", [backend_pid]))


def row_counts() -> dict[str, int]:
    """Rows in every table of the apps an invoice writes to."""
    return {
        model._meta.label: model.objects.count()
        for label in TABLE_APPS
        for model in apps.get_app_config(label).get_models()
    }


def order_snapshot(order: Order) -> dict:
    """Every stored field of the order, its rows and its payment, read fresh."""
    return {
        "order": model_to_dict(Order.objects.get(pk=order.pk)),
        "items": {item.pk: model_to_dict(item) for item in OrderItem.objects.filter(order_id=order.pk)},
        "payment": model_to_dict(Payment.objects.get(order_id=order.pk)),
    }


def order_row_is_free(order: Order) -> bool:
    """``SELECT ... FOR UPDATE NOWAIT`` on the order succeeds: nobody holds its row lock."""
    try:
        with transaction.atomic():
            Order.objects.select_for_update(nowait=True).get(pk=order.pk)
    except DatabaseError:
        return False
    return True


# -- the two kill points: each returns (the killed session's backend pid, what the client got) --------------


def kill_at_the_gateway(server: GunicornServer, worker: int, order: Order, token: str):
    request = Background(lambda: post_invoice(server, order.pk, token))
    backends = wait_until(
        lambda: query_pids(AT_THE_GATEWAY, [Order._meta.db_table]),
        timeout=WAIT_SECONDS,
        what="the worker's session to wait on the gateway with the order locked",
        diagnostics=server.describe,
    )
    assert len(backends) == 1, backends
    assert not order_row_is_free(order)  # the lock the worker dies holding
    os.kill(worker, signal.SIGKILL)
    return backends[0], request.join(timeout=WAIT_SECONDS)


def kill_with_the_invoice_rows_written(server: GunicornServer, worker: int, order: Order, token: str):
    # The worker updates the invoiced order items after writing the capture, the invoice and its rows:
    # a lock on one of them stops it right there, its writes made and not committed.
    with transaction.atomic():
        OrderItem.objects.select_for_update().filter(order_id=order.pk).order_by("pk").first()
        request = Background(lambda: post_invoice(server, order.pk, token))
        backends = wait_until(
            lambda: query_pids(BLOCKED_BY_ME),
            timeout=WAIT_SECONDS,
            what="the worker's session to wait on the order item",
            diagnostics=server.describe,
        )
        assert len(backends) == 1, backends
        written = {Invoice._meta.db_table, InvoiceItem._meta.db_table, Transaction._meta.db_table}
        assert written <= tables_locked(backends[0], "RowExclusiveLock")
        assert Order._meta.db_table in tables_locked(backends[0], "RowShareLock")
        os.kill(worker, signal.SIGKILL)
        outcome = request.join(timeout=WAIT_SECONDS)
    return backends[0], outcome  # the lock is released: the dead session may run on into its lost client


@pytest.mark.parametrize(
    ("payment_information", "kill"),
    [
        pytest.param(
            {"sandbox_outcome": "stall", "sandbox_stall_seconds": STALL_SECONDS},
            kill_at_the_gateway,
            id="at-the-gateway",
        ),
        pytest.param({"sandbox_outcome": "approve"}, kill_with_the_invoice_rows_written, id="with-the-rows-written"),
    ],
)
def test_a_worker_killed_mid_invoice_leaves_nothing_and_the_retry_invoices_once(
    gunicorn, bearer_token, default_store, payment_information, kill
):
    # given a sandbox-paid order, and a gunicorn worker ready to serve
    order = sandbox_order(payment_information)
    counts_before, order_before = row_counts(), order_snapshot(order)
    worker = gunicorn.wait_worker()
    assert gunicorn.workers() == [worker]

    # when the worker is killed with SIGKILL inside the invoice's transaction
    backend, outcome = kill(gunicorn, worker, order, bearer_token)

    # then the client is cut off without an answer
    assert isinstance(outcome, (ConnectionError, http.client.HTTPException, urllib.error.URLError)), outcome
    assert not isinstance(outcome, urllib.error.HTTPError), outcome
    # and once PostgreSQL has dropped the dead session, its transaction left nothing behind
    wait_until(lambda: not session_alive(backend), timeout=WAIT_SECONDS, what="PostgreSQL to drop the session")
    assert not Invoice.objects.filter(order_id=order.pk).exists()
    assert not InvoiceItem.objects.filter(parent__order_id=order.pk).exists()
    assert not InvoiceGrid.objects.filter(order_id=order.pk).exists()
    assert not Transaction.objects.filter(order_id=order.pk, txn_type=Transaction.Type.CAPTURE).exists()
    assert not EmailOutbox.objects.exists()
    assert row_counts() == counts_before
    order_after = order_snapshot(order)
    assert order_after == order_before  # state, status, total_invoiced, every row's qty_invoiced, the payment
    assert all(item["qty_invoiced"] in (None, Decimal(0)) for item in order_after["items"].values())
    assert order_row_is_free(order)

    # when the master's new worker gets the same request, the gateway now answering at once
    retry_worker = gunicorn.wait_worker(other_than=worker)
    Payment.objects.filter(order_id=order.pk).update(additional_information={"sandbox_outcome": "approve"})
    status, content = post_invoice(gunicorn, order.pk, bearer_token)

    # then exactly one invoice is created, captured once, with its rows, grid row and e-mail
    assert status == 200, (status, content, gunicorn.describe())
    invoice = Invoice.objects.get(order_id=order.pk)
    assert int(content) == invoice.pk
    assert InvoiceItem.objects.filter(parent=invoice).count() == OrderItem.objects.filter(order_id=order.pk).count()
    assert InvoiceGrid.objects.filter(order_id=order.pk).count() == 1
    assert EmailOutbox.objects.filter(invoice=invoice).count() == 1
    capture = Transaction.objects.get(order_id=order.pk, txn_type=Transaction.Type.CAPTURE)
    # The killed attempt committed no capture, so the retry is keyed as it was: a gateway that had charged
    # (the second kill point came after the sandbox approved) answers the retry without charging again.
    payment = Payment.objects.get(order_id=order.pk)
    assert capture.idempotency_key == idempotency_key("capture", payment.pk, 0, invoice.base_grand_total)
    order.refresh_from_db()
    assert order.total_invoiced == order.grand_total
    assert all(item.qty_invoiced == item.qty_ordered for item in OrderItem.objects.filter(order_id=order.pk))
    assert gunicorn.workers() == [retry_worker]
