"""A gateway that declines or does not answer leaves no trace; a failed save never charges twice.

"Nothing written" is proven by a snapshot of every table an invoice touches (row counts of invoices,
invoice rows, invoice comments, order history and gateway transactions) and every stored field of the
order, its rows and its payment, taken before and after the call.
"""

from __future__ import annotations

import importlib
import logging

import pytest
from django.db import OperationalError

import payments.gateways
import payments.services
from payments.exceptions import GatewayTimeout
from payments.gateways.sandbox import SandboxGateway
from payments.models import Payment, Transaction
from sales.errors import CouldNotInvoiceError
from sales.models import Invoice, InvoiceItem, InvoiceState, OrderStatusHistory
from sales.services import CaptureCase, InvoiceLineRequest, invoice_order
from tests.factories import OrderFactory
from tests.helpers import V1, parse, post_json
from tests.payments.conftest import (
    COULD_NOT_SAVE,
    GRAND_TOTAL,
    D,
    database_state,
    order_items,
    transactions,
)

pytestmark = pytest.mark.django_db

GATEWAY_ANSWERS = {
    "decline": ("declined", "Card declined", "card_declined"),
    "timeout": ("timeout", "No answer within", "timeout"),
}


def gateway_failure_logs(caplog, order, outcome: str) -> None:
    """The payments logger names the order and what the gateway said; the sales logger names the rollback."""
    reason, said, code = GATEWAY_ANSWERS[outcome]
    payments_lines = [r.getMessage() for r in caplog.records if r.name == "counterfoil.payments"]
    sales_lines = [r.getMessage() for r in caplog.records if r.name == "counterfoil.sales"]
    assert any(order.increment_id in line and said in line and code in line for line in payments_lines), payments_lines
    assert any(f"#{order.increment_id}" in line and reason in line and code in line for line in sales_lines), (
        sales_lines
    )


# -- declined or timed out: nothing written ------------------------------------------------------------


@pytest.mark.parametrize("outcome", sorted(GATEWAY_ANSWERS))
def test_v1_capture_the_gateway_refuses_rolls_back_the_whole_invoice(v1, seed_order, sandbox_ledger, caplog, outcome):
    # given a sandbox order whose gateway will decline (or not answer) the capture
    order = seed_order(outcome=outcome)
    before = database_state(order)
    keys_at_import = list(sandbox_ledger.keys_seen)

    # when it is invoiced with capture: true, a comment and an e-mail
    body = {"capture": True, "notify": True, "appendComment": True, "comment": {"comment": "Thanks!"}}
    with caplog.at_level(logging.WARNING):
        response = post_json(v1, f"{V1}/order/{order.pk}/invoice", body)

    # then Magento's error, and every table exactly as it was
    assert response.status_code == 400, response.content
    assert parse(response) == {"message": COULD_NOT_SAVE}
    assert database_state(order) == before
    # the gateway was asked once and moved no money
    assert len(sandbox_ledger.keys_seen) == len(keys_at_import) + 1
    assert sandbox_ledger.movements["capture"] == 0
    gateway_failure_logs(caplog, order, outcome)


@pytest.mark.parametrize("outcome", sorted(GATEWAY_ANSWERS))
def test_service_online_capture_the_gateway_refuses_raises_could_not_invoice_and_writes_nothing(
    sandbox_ledger, caplog, outcome
):
    order = OrderFactory(bundle=True, taxed=True, gateway_paid=True, sandbox_outcome=outcome)
    before = database_state(order)

    with caplog.at_level(logging.WARNING), pytest.raises(CouldNotInvoiceError) as raised:
        invoice_order(order_id=order.pk, capture_case=CaptureCase.ONLINE)

    assert raised.value.message == COULD_NOT_SAVE
    assert database_state(order) == before
    gateway_failure_logs(caplog, order, outcome)


@pytest.mark.parametrize("outcome", sorted(GATEWAY_ANSWERS))
def test_capture_later_the_gateway_refuses_leaves_the_pending_invoice_untouched(v1, sandbox_ledger, caplog, outcome):
    # given a Pending invoice (Not Capture) of an order whose gateway refuses captures
    order = OrderFactory(configurable=True, discounted=True, gateway_paid=True, sandbox_outcome=outcome)
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)
    before = database_state(order)
    invoice_before = Invoice.objects.filter(pk=invoice.pk).values().get()

    # when it is captured later
    with caplog.at_level(logging.WARNING):
        response = post_json(v1, f"{V1}/invoices/{invoice.pk}/capture")

    # then the same error, the invoice still Pending, nothing else changed
    assert response.status_code == 400, response.content
    assert parse(response) == {"message": COULD_NOT_SAVE}
    assert Invoice.objects.filter(pk=invoice.pk).values().get() == invoice_before
    assert invoice_before["state"] == InvoiceState.OPEN
    assert database_state(order) == before
    assert sandbox_ledger.movements["capture"] == 0
    gateway_failure_logs(caplog, order, outcome)


def test_a_void_the_gateway_does_not_answer_leaves_the_paid_invoice_untouched(
    v1, seed_order, sandbox_ledger, caplog, monkeypatch
):
    # given an invoice captured online, and a gateway that then stops answering
    order = seed_order()
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.ONLINE)
    before = database_state(order)

    def no_answer(self, request):
        raise GatewayTimeout("No answer within 10 s", details={"gateway": "sandbox", "code": "timeout"})

    monkeypatch.setattr(SandboxGateway, "void", no_answer)

    # when the invoice is voided
    with caplog.at_level(logging.WARNING):
        response = post_json(v1, f"{V1}/invoices/{invoice.pk}/void")

    # then the void fails as a whole: the invoice stays Paid, nothing was written, the failure is logged
    assert response.status_code == 400, response.content
    assert parse(response) == {"message": COULD_NOT_SAVE}
    assert database_state(order) == before
    assert Invoice.objects.get(pk=invoice.pk).state == InvoiceState.PAID
    lines = [r.getMessage() for r in caplog.records if r.name == "counterfoil.payments"]
    assert any(order.increment_id in line and "void" in line and "timeout" in line for line in lines), lines


# -- a failure after the gateway captured: rolled back, and the retry charges once -------------------


def fail_once(monkeypatch, target, name: str, error: Exception | None = None) -> list[int]:
    """Make ``target.name`` raise ``error`` (the database connection lost, as Django raises it) on its first call
    only; returns the call counter."""
    original = getattr(target, name)
    calls: list[int] = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise error or OperationalError("simulated loss of the database connection")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    return calls


FAILURE_POINTS = {
    "numbering": lambda: (importlib.import_module("sales.services.invoice_order"), "next_increment_id"),
    "invoice rows": lambda: (InvoiceItem.objects, "bulk_create"),
    "history": lambda: (OrderStatusHistory.objects, "bulk_create"),
}


@pytest.mark.parametrize("failure_point", sorted(FAILURE_POINTS))
def test_a_save_failing_after_the_gateway_captured_rolls_back_and_the_retry_charges_once(
    v1, seed_order, sandbox_ledger, monkeypatch, failure_point
):
    # given a sandbox order, and a save that fails once after the gateway has captured
    order = seed_order()
    before = database_state(order)
    keys_at_import = len(sandbox_ledger.keys_seen)
    calls = fail_once(monkeypatch, *FAILURE_POINTS[failure_point]())

    # when the invoice is created with capture: true
    failed = post_json(v1, f"{V1}/order/{order.pk}/invoice", {"capture": True})

    # then the request fails, the money moved at the gateway, and nothing at all was written here
    assert failed.status_code >= 400 and calls == [1], failed.content
    assert sandbox_ledger.movements["capture"] == 1
    assert database_state(order) == before

    # when the same request is retried
    retried = post_json(v1, f"{V1}/order/{order.pk}/invoice", {"capture": True})

    # then it reaches the gateway with the same idempotency key, and the gateway moves no money again
    assert retried.status_code == 200, retried.content
    first_key, retry_key = sandbox_ledger.keys_seen[keys_at_import:]
    assert first_key == retry_key
    assert sandbox_ledger.movements["capture"] == 1
    # and there is exactly one invoice, paid by exactly one capture
    [invoice] = Invoice.objects.filter(order=order)
    assert invoice.pk == parse(retried)
    [capture] = transactions(order, Transaction.Type.CAPTURE)
    assert (invoice.state, invoice.transaction_id, capture.idempotency_key) == (2, capture.txn_id, first_key)
    order.refresh_from_db()
    assert (order.total_paid, order.base_total_paid, order.total_invoiced) == (GRAND_TOTAL,) * 3
    assert Payment.objects.get(order=order).base_amount_paid_online == GRAND_TOTAL
    assert OrderStatusHistory.objects.filter(order=order, comment__startswith="Captured amount").count() == 1


def test_a_step_failing_after_the_gateway_captured_answers_magentos_could_not_save_an_invoice(
    v1, seed_order, sandbox_ledger, monkeypatch, caplog
):
    # Magento's InvoiceOrder (reference 2.1 step 7): an exception while paying or saving is logged
    # and rethrown as CouldNotInvoiceException, a 400 with this message, not an internal error.
    order = seed_order()
    fail_once(monkeypatch, *FAILURE_POINTS["numbering"](), error=ValueError("simulated failure of a step"))

    with caplog.at_level(logging.WARNING):
        failed = post_json(v1, f"{V1}/order/{order.pk}/invoice", {"capture": True})

    assert (failed.status_code, parse(failed)) == (400, {"message": COULD_NOT_SAVE}), failed.content
    assert any("could not save an invoice" in r.getMessage() and r.exc_info for r in caplog.records)


def test_the_database_failing_after_the_gateway_captured_is_503_not_the_clients_could_not_save(
    v1, seed_order, sandbox_ledger, monkeypatch, caplog
):
    # The database failing is not the request's fault (a 400 would also be kept for its Idempotency-Key):
    # 503, retry shortly, and the retry charges once (test above).
    order = seed_order()
    fail_once(monkeypatch, *FAILURE_POINTS["numbering"]())

    with caplog.at_level(logging.WARNING):
        failed = post_json(v1, f"{V1}/order/{order.pk}/invoice", {"capture": True})

    assert failed.status_code == 503 and failed["Retry-After"], failed.content
    assert parse(failed)["message"] != COULD_NOT_SAVE
    assert any("database unavailable" in r.getMessage() and r.exc_info for r in caplog.records)


# -- idempotency keys ------------------------------------------------------------------------------------


def test_two_different_partial_captures_of_the_same_amount_get_different_keys_and_both_charge(
    seed_order, sandbox_ledger
):
    # given an order whose shipping is already invoiced, so one yoga bag always costs 32.00 - 6.40
    order = seed_order()
    rows = order_items(order)
    invoice_order(
        order_id=order.pk, capture_case=CaptureCase.ONLINE, items=[InvoiceLineRequest(rows["24-WB03"].pk, D(1))]
    )
    keys_before = len(sandbox_ledger.keys_seen)

    # when one yoga bag is captured, then another
    one_bag = [InvoiceLineRequest(rows["24-WB01"].pk, D(1))]
    first = invoice_order(order_id=order.pk, capture_case=CaptureCase.ONLINE, items=one_bag)
    second = invoice_order(order_id=order.pk, capture_case=CaptureCase.ONLINE, items=one_bag)

    # then both invoices are 25.60, each reached the gateway with its own key, and both were charged
    assert first.base_grand_total == second.base_grand_total == D("25.60")
    first_key, second_key = sandbox_ledger.keys_seen[keys_before:]
    assert first_key != second_key
    assert sandbox_ledger.movements["capture"] == 3
    captures = transactions(order, Transaction.Type.CAPTURE)
    assert len({capture.txn_id for capture in captures}) == 3
    assert [capture.amount for capture in captures[1:]] == [D("25.60"), D("25.60")]
    assert Payment.objects.get(order=order).base_amount_paid_online == D("328.80") + D("25.60") * 2


def test_an_offline_method_never_calls_a_gateway_to_invoice_or_capture_later(
    v1, seed_order, sandbox_ledger, monkeypatch
):
    def refuse(method_code):
        pytest.fail(f"a gateway was asked for ({method_code!r}) by a checkmo payment")

    monkeypatch.setattr(payments.gateways, "gateway_for", refuse)
    monkeypatch.setattr(payments.services, "gateway_for", refuse)
    # given a checkmo order
    order = seed_order(method="checkmo")
    rows = order_items(order)

    # when it is invoiced with capture: true, and a Pending invoice of the rest is captured later
    invoiced = post_json(
        v1,
        f"{V1}/order/{order.pk}/invoice",
        {"capture": True, "items": [{"order_item_id": rows["24-WB03"].pk, "qty": 1}]},
    )
    pending = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)
    captured = post_json(v1, f"{V1}/invoices/{pending.pk}/capture")

    # then both are paid offline and no gateway heard of them
    assert (invoiced.status_code, captured.status_code, parse(captured)) == (200, 200, True)
    assert sandbox_ledger.keys_seen == []
    assert transactions(order) == []
    assert set(Invoice.objects.filter(order=order).values_list("state", "can_void_flag")) == {(2, 0)}
    order.refresh_from_db()
    assert order.total_paid == GRAND_TOTAL
