"""Seed 004's 409 ``{"error": "Conflict on save"}``: a create that cannot get the order's row lock in time.

Two real requests over HTTP against the threaded live server, each in its own PostgreSQL connection.
The first invoices a sandbox order online and its gateway capture is slow (the sandbox is the
simulated network edge), so it holds the order's row lock for ~3 s; the second create waits for that
lock past ``ORDER_LOCK_TIMEOUT_SECONDS`` (1 s here) and is refused with 409, writing nothing.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest

from integrations.services import admin_token_create
from payments.gateways.sandbox import LEDGER, SandboxGateway
from payments.models import Transaction
from sales.api.json import dumps
from sales.models import Invoice, InvoiceState, OrderStatusHistory
from tests.conftest import load_seed_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "s3cret-Passw0rd"
SLOW_CAPTURE_SECONDS = 3
REQUEST_TIMEOUT_SECONDS = 30


def post_json(url: str, token: str, body: dict) -> tuple[int, object]:
    request = urllib.request.Request(
        url, data=dumps(body).encode("utf-8"), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            status, content = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, content = error.code, error.read()
    return status, json.loads(content, parse_float=Decimal)


def test_create_waiting_past_the_lock_timeout_is_409_conflict_on_save(
    live_server, default_store, django_user_model, import_order, settings, monkeypatch
):
    django_user_model.objects.create_user("conflict-admin", password=PASSWORD, is_staff=True, is_superuser=True)
    token = admin_token_create(username="conflict-admin", password=PASSWORD)
    settings.ORDER_LOCK_TIMEOUT_SECONDS = 1
    LEDGER.reset()
    original_capture = SandboxGateway.capture
    capture_started = threading.Event()

    def slow_capture(gateway, request):
        capture_started.set()
        time.sleep(SLOW_CAPTURE_SECONDS)
        return original_capture(gateway, request)

    monkeypatch.setattr(SandboxGateway, "capture", slow_capture)
    payment = {"method": "sandbox", "additional_information": {"sandbox_outcome": "approve"}}
    order = import_order(load_seed_order("001"), increment_id=None, payment=payment)
    url = f"{live_server.url}/api2/invoice/create"
    first: list = []

    # given a first create holding the order's row lock while its gateway capture is slow
    writer = threading.Thread(
        target=lambda: first.append(post_json(url, token, {"order_id": order.pk, "capture": "online"}))
    )
    writer.start()
    assert capture_started.wait(timeout=10), "the first create never reached the gateway"
    time.sleep(0.5)

    # when a second create of the same order waits for that lock
    started = time.monotonic()
    second = post_json(url, token, {"order_id": order.pk, "capture": "offline", "comment": "second writer"})
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
