"""Parallel capture, void and cancel of one invoice over real HTTP: the row locks let exactly one through.

Each test starts its client threads behind a ``threading.Barrier`` so the requests reach the threaded
live server together, each in its own server thread with its own PostgreSQL connection. The sandbox
gateway runs in the server's process, so its ledger shows how often money really moved.
"""

from __future__ import annotations

import threading

import pytest

from payments.models import Payment, Transaction
from sales.models import Invoice, InvoiceState, Order, OrderStatusHistory
from sales.money import as_decimal
from sales.services import CaptureCase, invoice_order
from tests.factories import OrderFactory, superuser_token
from tests.helpers import live_answer
from tests.payments.conftest import GRAND_TOTAL, order_items, transactions

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARALLEL = 8
REQUEST_TIMEOUT_SECONDS = 60
CANNOT_CAPTURE_YET = 'The transaction "%1" cannot be captured yet.'
CAPTURE_NOT_AVAILABLE = "The capture action is not available."
VOID_NOT_AVAILABLE = "The void action is not available."
ONLY_PENDING_CANCELS = "Only a Pending invoice can be canceled; invoice #%1 is %2."


def admin_bearer() -> str:
    """A staff user and its admin token, made in the test: ``transaction=True`` flushes them between tests."""
    return superuser_token()


def post_all_at_once(urls: list[str], token: str) -> list[tuple[int, object]]:
    """POST every url from its own thread, all released together; answers in request order."""
    barrier = threading.Barrier(len(urls))
    results: list = [None] * len(urls)

    def send(index: int, url: str) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = live_answer(url, token, timeout=REQUEST_TIMEOUT_SECONDS)
        except BaseException as error:  # reported below, in the test's thread
            results[index] = error

    threads = [threading.Thread(target=send, args=(index, url)) for index, url in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_SECONDS * 2)
    assert not any(thread.is_alive() for thread in threads), "a request never came back"
    failures = [result for result in results if isinstance(result, BaseException)]
    assert not failures, f"client errors: {failures!r}"
    return results


def invoice_url(live_server, invoice: Invoice, operation: str) -> str:
    return f"{live_server.url}/rest/default/V1/invoices/{invoice.pk}/{operation}"


def comments_starting(order: Order, text: str) -> int:
    return OrderStatusHistory.objects.filter(order=order, comment__startswith=text).count()


def test_eight_parallel_captures_of_one_pending_invoice_capture_it_once(live_server, default_store, sandbox_ledger):
    token = admin_bearer()
    # given a Pending invoice of a whole sandbox order
    order = OrderFactory(seed_001=True, gateway_paid=True)
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)

    # when 8 clients capture it at the same moment
    results = post_all_at_once([invoice_url(live_server, invoice, "capture")] * PARALLEL, token)

    # then one captures it and the 7 others are told it is already captured
    [capture] = transactions(order, Transaction.Type.CAPTURE)
    assert sorted(status for status, _ in results) == [200] + [400] * (PARALLEL - 1), results
    assert [body for status, body in results if status == 200] == [True]
    refused = {"message": CANNOT_CAPTURE_YET, "parameters": [capture.txn_id]}
    assert all(body == refused for status, body in results if status == 400), results
    # and the money moved once, here and at the gateway
    assert sandbox_ledger.movements["capture"] == 1
    invoice.refresh_from_db()
    assert (invoice.state, invoice.transaction_id) == (InvoiceState.PAID, capture.txn_id)
    order.refresh_from_db()
    assert (order.total_paid, order.base_total_paid) == (GRAND_TOTAL, GRAND_TOTAL)
    payment = Payment.objects.get(order=order)
    assert (payment.amount_paid, payment.base_amount_paid_online) == (GRAND_TOTAL, GRAND_TOTAL)
    assert comments_starting(order, "Captured amount") == 1


def test_eight_parallel_voids_of_one_paid_online_invoice_void_it_once(live_server, default_store, sandbox_ledger):
    token = admin_bearer()
    # given a sandbox order captured online in full
    order = OrderFactory(seed_001=True, gateway_paid=True)
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.ONLINE)

    # when 8 clients void it at the same moment
    results = post_all_at_once([invoice_url(live_server, invoice, "void")] * PARALLEL, token)

    # then one voids it and the 7 others are refused
    assert sorted(status for status, _ in results) == [200] + [400] * (PARALLEL - 1), results
    assert all(body == {"message": VOID_NOT_AVAILABLE} for status, body in results if status == 400), results
    # and it was given back once: one void at the gateway, totals back to nothing (not below)
    [capture] = transactions(order, Transaction.Type.CAPTURE)
    [void] = transactions(order, Transaction.Type.VOID)
    assert void.parent_id == capture.pk
    assert sandbox_ledger.movements["void"] == 1
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.CANCELED
    order.refresh_from_db()
    assert [as_decimal(order.total_paid), as_decimal(order.total_invoiced), as_decimal(order.subtotal_invoiced)] == [
        0,
        0,
        0,
    ]
    assert all(item.qty_invoiced == 0 for item in order_items(order).values())
    assert as_decimal(Payment.objects.get(order=order).amount_paid) == 0
    assert comments_starting(order, "Voided authorization") == 1


def test_parallel_captures_and_cancels_of_one_pending_invoice_let_exactly_one_win(
    live_server, default_store, sandbox_ledger
):
    token = admin_bearer()
    # given a Pending invoice of a whole sandbox order
    order = OrderFactory(seed_001=True, gateway_paid=True)
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)

    # when 4 clients capture it and 4 cancel it, all at the same moment
    urls = [invoice_url(live_server, invoice, op) for op in ("capture", "cancel") * (PARALLEL // 2)]
    results = post_all_at_once(urls, token)

    # then exactly one request succeeds, and the invoice is either Paid (captured once) or Canceled (reverted once)
    assert sorted(status for status, _ in results) == [200] + [400] * (PARALLEL - 1), results
    invoice.refresh_from_db()
    order.refresh_from_db()
    captures = transactions(order, Transaction.Type.CAPTURE)
    if invoice.state == InvoiceState.PAID:
        assert len(captures) == 1 and sandbox_ledger.movements["capture"] == 1
        assert (order.total_paid, order.total_invoiced) == (GRAND_TOTAL, GRAND_TOTAL)
        assert all(item.qty_invoiced == item.qty_ordered for item in order_items(order).values())
    else:
        assert invoice.state == InvoiceState.CANCELED
        assert captures == [] and sandbox_ledger.movements["capture"] == 0
        assert (order.total_paid, as_decimal(order.total_invoiced)) == (None, 0)
        assert all(item.qty_invoiced == 0 for item in order_items(order).values())
    for status, body in results:
        if status == 400:
            assert body["message"] in {CANNOT_CAPTURE_YET, CAPTURE_NOT_AVAILABLE, ONLY_PENDING_CANCELS}, body
