"""Seed 004's 409 ``{"error": "Conflict on save"}``: a create that cannot get the order's row lock in time.

Two real requests over HTTP against the threaded live server, each in its own PostgreSQL connection.
The first invoices a sandbox order online and its gateway capture is slow (the sandbox is the
simulated network edge), so it holds the order's row lock for ~3 s; the second create waits for that
lock past ``ORDER_LOCK_TIMEOUT_SECONDS`` (1 s here) and is refused with 409, writing nothing.
"""

from __future__ import annotations

import threading
import time

import pytest

from payments.gateways.sandbox import LEDGER, SandboxGateway
from payments.models import Transaction
from sales.models import Invoice, InvoiceState, OrderStatusHistory
from tests.factories import OrderFactory, superuser_token
from tests.helpers import live_answer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SLOW_CAPTURE_SECONDS = 3
REQUEST_TIMEOUT_SECONDS = 30


def test_create_waiting_past_the_lock_timeout_is_409_conflict_on_save(
    live_server, default_store, settings, monkeypatch
):
    token = superuser_token()
    settings.ORDER_LOCK_TIMEOUT_SECONDS = 1
    LEDGER.reset()
    original_capture = SandboxGateway.capture
    capture_started = threading.Event()

    def slow_capture(gateway, request):
        capture_started.set()
        time.sleep(SLOW_CAPTURE_SECONDS)
        return original_capture(gateway, request)

    monkeypatch.setattr(SandboxGateway, "capture", slow_capture)
    order = OrderFactory(gateway_paid=True, sandbox_outcome="approve")
    url = f"{live_server.url}/api2/invoice/create"
    first: list = []

    # given a first create holding the order's row lock while its gateway capture is slow
    writer = threading.Thread(
        target=lambda: first.append(
            live_answer(url, token, {"order_id": order.pk, "capture": "online"}, timeout=REQUEST_TIMEOUT_SECONDS)
        )
    )
    writer.start()
    assert capture_started.wait(timeout=10), "the first create never reached the gateway"
    time.sleep(0.5)

    # when a second create of the same order waits for that lock
    started = time.monotonic()
    second_body = {"order_id": order.pk, "capture": "offline", "comment": "second writer"}
    second = live_answer(url, token, second_body, timeout=REQUEST_TIMEOUT_SECONDS)
    waited = time.monotonic() - started
    writer.join(timeout=REQUEST_TIMEOUT_SECONDS)

    # then it gives up after the lock timeout with 409, and the first completes
    assert second == (409, {"error": "Conflict on save"})
    assert 1 <= waited < SLOW_CAPTURE_SECONDS, waited
    assert not writer.is_alive() and len(first) == 1
    status, body = first[0]
    assert status == 201, body
    assert body["invoice"]["state"] == InvoiceState.PAID

    # and exactly one invoice exists, the first's, with nothing of the second written
    assert list(Invoice.objects.values_list("pk", flat=True)) == [body["invoice"]["entity_id"]]
    assert Transaction.objects.filter(order_id=order.pk, txn_type=Transaction.Type.CAPTURE).count() == 1
    assert not OrderStatusHistory.objects.filter(order_id=order.pk, comment="second writer").exists()
    order.refresh_from_db()
    assert order.total_paid == order.total_invoiced == order.grand_total
