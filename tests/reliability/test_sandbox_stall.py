"""The sandbox's ``stall`` outcome: a gateway slow to answer, bounded like a real call.

It is the fault the worker-kill test injects; these tests pin what it does on its own: it waits, then
approves; a wait that reaches the gateway's timeout answers as a time-out (and the invoice rolls back);
and while one capture stalls, the sandbox keeps answering others.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from payments.exceptions import GatewayTimeout
from payments.gateways import GatewayRequest, Outcome
from payments.gateways.sandbox import DEFAULT_STALL_SECONDS, LEDGER, SandboxGateway, stall_seconds
from payments.models import Transaction
from sales.errors import PaymentGatewayFailed
from sales.models import Invoice, Order
from sales.services import CaptureCase, invoice_order
from tests.factories import OrderFactory


@pytest.fixture(autouse=True)
def fresh_ledger():
    LEDGER.reset()
    yield
    LEDGER.reset()


def capture_request(key: str, **information) -> GatewayRequest:
    return GatewayRequest(
        amount=Decimal("10.00"),
        currency="USD",
        idempotency_key=key,
        order_reference="000000001",
        additional_information=information,
    )


def stalling_order(*, seconds: float) -> Order:
    """Seed 001's order paid with the sandbox, whose captures stall ``seconds``."""
    information = {"sandbox_outcome": "stall", "sandbox_stall_seconds": seconds}
    return OrderFactory(seed_001=True, payment={"method": "sandbox", "additional_information": information})


def test_a_stalled_capture_waits_then_approves():
    gateway = SandboxGateway(timeout_seconds=5)

    started = time.monotonic()
    answer = gateway.capture(capture_request("stall-ok", sandbox_outcome="stall", sandbox_stall_seconds=0.2))

    assert time.monotonic() - started >= 0.2
    assert answer.outcome == Outcome.APPROVED
    assert LEDGER.movements["capture"] == 1


def test_a_stall_that_reaches_the_gateway_timeout_answers_as_a_timeout_at_the_timeout():
    gateway = SandboxGateway(timeout_seconds=0.2)

    started = time.monotonic()
    with pytest.raises(GatewayTimeout):
        gateway.capture(capture_request("stall-long", sandbox_outcome="stall", sandbox_stall_seconds=60))

    assert 0.2 <= time.monotonic() - started < 5
    assert LEDGER.movements["capture"] == 0


@pytest.mark.parametrize(
    ("information", "seconds"),
    [
        ({}, DEFAULT_STALL_SECONDS),
        ({"sandbox_stall_seconds": 0}, 0.0),
        ({"sandbox_stall_seconds": "1.5"}, 1.5),
        ({"sandbox_stall_seconds": "soon"}, DEFAULT_STALL_SECONDS),
        ({"sandbox_stall_seconds": -1}, DEFAULT_STALL_SECONDS),
        ({"sandbox_stall_seconds": "nan"}, DEFAULT_STALL_SECONDS),
        ({"sandbox_stall_seconds": None}, DEFAULT_STALL_SECONDS),
    ],
)
def test_the_stall_length_is_a_number_of_seconds_or_the_default(information, seconds):
    assert stall_seconds(information) == seconds


def test_a_stalled_capture_holds_up_no_other_capture():
    gateway = SandboxGateway(timeout_seconds=5)
    stalled = threading.Thread(
        target=gateway.capture, args=(capture_request("slow", sandbox_outcome="stall", sandbox_stall_seconds=1),)
    )
    stalled.start()
    try:
        time.sleep(0.1)  # the stalled capture is waiting
        started = time.monotonic()
        gateway.capture(capture_request("quick"))
        assert time.monotonic() - started < 0.5
    finally:
        stalled.join(5)


@pytest.mark.django_db
def test_an_invoice_whose_capture_stalls_past_the_timeout_writes_nothing(default_store, settings):
    settings.PAYMENT_GATEWAY_TIMEOUT_SECONDS = 0.2
    order = stalling_order(seconds=9)

    with pytest.raises(PaymentGatewayFailed):
        invoice_order(order_id=order.pk, capture_case=CaptureCase.ONLINE)

    assert not Invoice.objects.filter(order=order).exists()
    assert not Transaction.objects.filter(order_id=order.pk, txn_type=Transaction.Type.CAPTURE).exists()


@pytest.mark.django_db
def test_an_invoice_whose_capture_stalls_briefly_is_captured(default_store):
    order = stalling_order(seconds=0.1)

    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.ONLINE)

    assert invoice.transaction_id.startswith("sbx-capt-")
    assert Transaction.objects.filter(order_id=order.pk, txn_type=Transaction.Type.CAPTURE).count() == 1
