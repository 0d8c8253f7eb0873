"""Every capture mode, through /V1 (``capture: true|false``) and through the service (``CaptureCase``).

Seed 001 (grand total 1,917.60 with 300.00 shipping) is paid with the ``sandbox`` gateway method or
with an offline method. Each test states the invoice's state, the order's invoiced and paid totals,
the payment's amounts and the gateway transactions the mode leaves behind.
"""

from __future__ import annotations

import pytest

import payments.gateways
import payments.services
from payments.methods import OFFLINE_METHODS
from payments.models import Payment, Transaction
from sales.models import Invoice, InvoiceState, Order
from sales.services import CaptureCase, InvoiceLineRequest, invoice_order
from tests.helpers import V1, parse, post_json
from tests.payments.conftest import (
    GRAND_TOTAL,
    SHIPPING,
    D,
    history_comments,
    order_items,
    transactions,
)

pytestmark = pytest.mark.django_db


def invoice_v1(v1, order: Order, body: dict) -> Invoice:
    response = post_json(v1, f"{V1}/order/{order.pk}/invoice", body)
    assert response.status_code == 200, response.content
    invoice_id = parse(response)
    assert isinstance(invoice_id, int) and not isinstance(invoice_id, bool)
    return Invoice.objects.get(pk=invoice_id)


def invoice_service(order: Order, capture_case: CaptureCase, items=()) -> Invoice:
    return Invoice.objects.get(pk=invoice_order(order_id=order.pk, capture_case=capture_case, items=items).pk)


@pytest.fixture
def no_gateway_calls(monkeypatch):
    """Fail the test if anything asks for a gateway."""

    def refuse(method_code):
        pytest.fail(f"a gateway was asked for ({method_code!r}) by an offline payment")

    monkeypatch.setattr(payments.gateways, "gateway_for", refuse)
    monkeypatch.setattr(payments.services, "gateway_for", refuse)


def assert_invoiced_in_full(order: Order) -> Order:
    order.refresh_from_db()
    assert (order.total_invoiced, order.base_total_invoiced) == (GRAND_TOTAL, GRAND_TOTAL)
    assert (order.shipping_invoiced, order.base_shipping_invoiced) == (SHIPPING, SHIPPING)
    assert all(item.qty_invoiced == item.qty_ordered for item in order_items(order).values())
    return order


def assert_paid_offline(order: Order, invoice: Invoice) -> None:
    """Paid, never voidable, no transaction id; the order and payment hold the money; no gateway record."""
    assert (invoice.state, invoice.can_void_flag, invoice.transaction_id) == (InvoiceState.PAID, 0, None)
    order = assert_invoiced_in_full(order)
    assert (order.total_paid, order.base_total_paid, order.total_due) == (GRAND_TOTAL, GRAND_TOTAL, 0)
    payment = Payment.objects.get(order=order)
    assert (payment.amount_paid, payment.base_amount_paid) == (GRAND_TOTAL, GRAND_TOTAL)
    assert (payment.shipping_captured, payment.base_shipping_captured) == (SHIPPING, SHIPPING)
    assert payment.base_amount_paid_online is None
    assert transactions(order, Transaction.Type.CAPTURE) == []


def assert_captured_online(order: Order, invoice: Invoice, ledger) -> Transaction:
    """Paid and voidable; one capture under the (now closed) authorization; the history says so."""
    authorization, capture = transactions(order)
    assert (authorization.txn_type, capture.txn_type) == ("authorization", "capture")
    assert capture.parent_id == authorization.pk and authorization.parent_id is None
    assert capture.amount == GRAND_TOTAL
    assert capture.is_closed is True
    assert authorization.is_closed is True  # everything authorized has been captured
    assert (invoice.state, invoice.can_void_flag, invoice.transaction_id) == (InvoiceState.PAID, None, capture.txn_id)

    order = assert_invoiced_in_full(order)
    assert (order.total_paid, order.base_total_paid, order.total_due) == (GRAND_TOTAL, GRAND_TOTAL, 0)
    assert (order.state, order.status) == ("processing", "processing")
    payment = Payment.objects.get(order=order)
    assert (payment.amount_paid, payment.base_amount_paid, payment.base_amount_paid_online) == (GRAND_TOTAL,) * 3
    assert (payment.shipping_captured, payment.base_shipping_captured) == (SHIPPING, SHIPPING)
    assert payment.last_trans_id == capture.txn_id

    assert history_comments(order)[-1] == f'Captured amount of $1,917.60 online. Transaction ID: "{capture.txn_id}"'
    assert ledger.movements["capture"] == 1
    return capture


def assert_pending_and_unpaid(order: Order, invoice: Invoice) -> None:
    assert (invoice.state, invoice.can_void_flag, invoice.transaction_id) == (InvoiceState.OPEN, None, None)
    order = assert_invoiced_in_full(order)
    assert (order.total_paid, order.base_total_paid, order.total_due) == (None, None, GRAND_TOTAL)
    payment = Payment.objects.get(order=order)
    paid = (payment.amount_paid, payment.base_amount_paid, payment.base_amount_paid_online, payment.shipping_captured)
    assert paid == (None, None, None, None)
    assert transactions(order, Transaction.Type.CAPTURE) == []


# -- authorization at import -----------------------------------------------------------------------


def test_an_imported_sandbox_order_is_authorized_for_its_total_with_a_history_comment(seed_order, sandbox_ledger):
    order = seed_order()

    [authorization] = transactions(order)
    assert (authorization.txn_type, authorization.is_closed, authorization.parent_id) == ("authorization", False, None)
    assert authorization.amount == GRAND_TOTAL
    payment = Payment.objects.get(order=order)
    assert (payment.amount_authorized, payment.base_amount_authorized) == (GRAND_TOTAL, GRAND_TOTAL)
    assert payment.last_trans_id == authorization.txn_id
    assert authorization.payment_id == payment.pk and authorization.order_id == order.pk
    assert history_comments(order) == [f'Authorized amount of $1,917.60 Transaction ID: "{authorization.txn_id}"']
    assert sandbox_ledger.movements == {"authorize": 1}


@pytest.mark.parametrize("method", sorted(OFFLINE_METHODS))
def test_an_imported_offline_order_is_not_authorized_anywhere(seed_order, sandbox_ledger, no_gateway_calls, method):
    order = seed_order(method=method)

    assert transactions(order) == []
    assert history_comments(order) == []
    payment = Payment.objects.get(order=order)
    assert (payment.method, payment.amount_authorized, payment.last_trans_id) == (method, None, None)
    assert sandbox_ledger.keys_seen == []


# -- /V1 capture: true -------------------------------------------------------------------------------


def test_v1_capture_true_on_a_gateway_method_captures_online_under_the_authorization(v1, seed_order, sandbox_ledger):
    order = seed_order()

    invoice = invoice_v1(v1, order, {"capture": True})

    capture = assert_captured_online(order, invoice, sandbox_ledger)
    # and /V1 shows the invoice as Magento does: Paid, its capture's id, no can_void_flag (null)
    shown = parse(v1.get(f"{V1}/invoices/{invoice.pk}"))
    assert (shown["state"], shown["transaction_id"], "can_void_flag" in shown) == (2, capture.txn_id, False)


@pytest.mark.parametrize("method", sorted(OFFLINE_METHODS))
def test_v1_capture_true_on_an_offline_method_pays_offline_and_never_calls_a_gateway(
    v1, seed_order, sandbox_ledger, no_gateway_calls, method
):
    order = seed_order(method=method)

    invoice = invoice_v1(v1, order, {"capture": True})

    assert_paid_offline(order, invoice)
    assert transactions(order) == []
    assert history_comments(order) == []  # Magento writes no comment for an offline payment
    assert sandbox_ledger.keys_seen == []


# -- /V1 capture: false -------------------------------------------------------------------------------


def test_v1_capture_false_on_a_gateway_method_pays_offline_without_calling_the_gateway(v1, seed_order, sandbox_ledger):
    order = seed_order()
    keys_at_import = list(sandbox_ledger.keys_seen)

    invoice = invoice_v1(v1, order, {"capture": False})

    assert_paid_offline(order, invoice)
    assert sandbox_ledger.keys_seen == keys_at_import  # the authorization only
    [authorization] = transactions(order)
    assert authorization.is_closed is False  # nothing was captured from it
    assert len(history_comments(order)) == 1  # the authorization's


def test_v1_capture_false_on_an_offline_method_pays_offline(v1, seed_order, sandbox_ledger, no_gateway_calls):
    order = seed_order(method="checkmo")

    invoice = invoice_v1(v1, order, {"capture": False})

    assert_paid_offline(order, invoice)
    assert sandbox_ledger.keys_seen == []


def test_v1_capture_true_answered_review_leaves_the_invoice_pending_and_the_order_in_payment_review(
    v1, seed_order, sandbox_ledger
):
    order = seed_order(outcome="review")

    invoice = invoice_v1(v1, order, {"capture": True})

    assert_held_for_review(order, invoice, sandbox_ledger)


def assert_held_for_review(order: Order, invoice: Invoice, ledger) -> None:
    authorization, capture = transactions(order)
    assert (capture.txn_type, capture.parent_id, capture.is_closed) == ("capture", authorization.pk, False)
    assert authorization.is_closed is False
    assert (invoice.state, invoice.transaction_id) == (InvoiceState.OPEN, capture.txn_id)
    order = assert_invoiced_in_full(order)
    assert (order.state, order.status) == ("payment_review", "payment_review")
    assert (order.total_paid, order.base_total_paid) == (None, None)
    payment = Payment.objects.get(order=order)
    assert (payment.amount_paid, payment.base_amount_paid, payment.base_amount_paid_online) == (None, None, None)
    assert payment.last_trans_id == capture.txn_id
    assert history_comments(order)[-1] == (
        "An amount of $1,917.60 will be captured after being approved at the payment gateway."
        f' Transaction ID: "{capture.txn_id}"'
    )
    assert ledger.movements["capture"] == 1


# -- the service: CaptureCase ------------------------------------------------------------------------


def test_service_online_on_a_gateway_method_captures_online(seed_order, sandbox_ledger):
    order = seed_order()

    invoice = invoice_service(order, CaptureCase.ONLINE)

    assert_captured_online(order, invoice, sandbox_ledger)


def test_service_online_answered_review_leaves_the_invoice_pending(seed_order, sandbox_ledger):
    order = seed_order(outcome="review")

    invoice = invoice_service(order, CaptureCase.ONLINE)

    assert_held_for_review(order, invoice, sandbox_ledger)


def test_service_online_on_an_offline_method_pays_offline(seed_order, sandbox_ledger, no_gateway_calls):
    order = seed_order(method="checkmo")

    invoice = invoice_service(order, CaptureCase.ONLINE)

    assert_paid_offline(order, invoice)
    assert sandbox_ledger.keys_seen == []


@pytest.mark.parametrize("method", ["sandbox", "checkmo"])
def test_service_offline_pays_offline_whatever_the_method(seed_order, sandbox_ledger, method):
    order = seed_order(method=method)
    keys_at_import = list(sandbox_ledger.keys_seen)

    invoice = invoice_service(order, CaptureCase.OFFLINE)

    assert_paid_offline(order, invoice)
    assert sandbox_ledger.keys_seen == keys_at_import
    assert all(not txn.is_closed for txn in transactions(order))  # an authorization, if any, stays open


@pytest.mark.parametrize("method", ["sandbox", "checkmo"])
@pytest.mark.parametrize("outcome", [None, "decline"])
def test_service_not_capture_leaves_the_invoice_pending_with_nothing_paid(seed_order, sandbox_ledger, method, outcome):
    # a gateway that would decline is never asked: nothing is captured
    order = seed_order(method=method, outcome=outcome)
    keys_at_import = list(sandbox_ledger.keys_seen)

    invoice = invoice_service(order, CaptureCase.NOT_CAPTURE)

    assert_pending_and_unpaid(order, invoice)
    order.refresh_from_db()
    assert (order.state, order.status) == ("processing", "processing")
    assert sandbox_ledger.keys_seen == keys_at_import
    assert len(history_comments(order)) == len(keys_at_import)  # the authorization's comment, if any


# -- partial captures --------------------------------------------------------------------------------


def test_partial_online_captures_close_the_authorization_only_when_everything_is_captured(seed_order, sandbox_ledger):
    order = seed_order()
    backpack = order_items(order)["24-WB03"]

    first = invoice_service(order, CaptureCase.ONLINE, [InvoiceLineRequest(backpack.pk, D(10))])
    # 10 backpacks 360.00 - 72.00 discount + 300.00 shipping
    assert first.grand_total == D("588.00")
    authorization, first_capture = transactions(order)
    assert authorization.is_closed is False  # 1,329.60 is still authorized and not captured
    assert (first_capture.parent_id, first_capture.amount, first.transaction_id) == (
        authorization.pk,
        D("588.00"),
        first_capture.txn_id,
    )

    second = invoice_service(order, CaptureCase.ONLINE)
    assert second.grand_total == GRAND_TOTAL - D("588.00")
    authorization, first_capture, second_capture = transactions(order)
    assert second_capture.parent_id == authorization.pk
    assert second_capture.txn_id != first_capture.txn_id
    assert authorization.is_closed is True

    order.refresh_from_db()
    assert (order.total_paid, order.base_total_paid, order.total_invoiced) == (GRAND_TOTAL,) * 3
    payment = Payment.objects.get(order=order)
    assert (payment.amount_paid, payment.base_amount_paid_online) == (GRAND_TOTAL, GRAND_TOTAL)
    assert (payment.shipping_captured, payment.last_trans_id) == (SHIPPING, second_capture.txn_id)
    assert sandbox_ledger.movements["capture"] == 2
    assert [c for c in history_comments(order) if c.startswith("Captured")] == [
        f'Captured amount of $588.00 online. Transaction ID: "{first_capture.txn_id}"',
        f'Captured amount of $1,329.60 online. Transaction ID: "{second_capture.txn_id}"',
    ]
    assert_invoiced_in_full(order)
