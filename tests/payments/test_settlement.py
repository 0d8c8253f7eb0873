"""After an invoice exists: capture it later, void its online capture, cancel it while Pending; read transactions.

Each operation is checked by its exact effect on the database: the stored fields of the order, its rows
and its payment before and after (``updated_at`` aside), and a repeat of the operation is refused with a
400 that changes nothing. Expected amounts are seed 001's, worked out by hand.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import Transaction
from sales.models import Invoice, InvoiceState, Order
from sales.money import as_decimal
from sales.registration import ORDER_REGISTER
from sales.services import CaptureCase, InvoiceLineRequest, invoice_order
from tests.helpers import V1, parse, post_json
from tests.payments.conftest import (
    GRAND_TOTAL,
    SHIPPING,
    D,
    changes,
    database_state,
    history_comments,
    order_items,
    order_state,
    transactions,
)

pytestmark = pytest.mark.django_db

CANNOT_CAPTURE_YET = 'The transaction "%1" cannot be captured yet.'
CAPTURE_NOT_AVAILABLE = "The capture action is not available."
VOID_NOT_AVAILABLE = "The void action is not available."
ONLY_PENDING_CANCELS = "Only a Pending invoice can be canceled; invoice #%1 is %2."
NO_SUCH_ENTITY = "The entity that was requested doesn't exist. Verify the entity and try again."
FIVE_BACKPACKS_WITH_SHIPPING = D("444.00")  # 5 x 36.00 - 20 % + 300.00 shipping
REST_AFTER_FIVE_BACKPACKS = GRAND_TOTAL - FIVE_BACKPACKS_WITH_SHIPPING  # 1,473.60


def invoice_v1(v1, order: Order, *, capture: bool = True, items: dict[str, int] | None = None) -> Invoice:
    rows = order_items(order)
    body: dict = {"capture": capture}
    if items:
        body["items"] = [{"order_item_id": rows[sku].pk, "qty": qty} for sku, qty in items.items()]
    response = post_json(v1, f"{V1}/order/{order.pk}/invoice", body)
    assert response.status_code == 200, response.content
    return Invoice.objects.get(pk=parse(response))


def pending_invoice(order: Order, items: dict[str, int] | None = None) -> Invoice:
    rows = order_items(order)
    lines = [InvoiceLineRequest(rows[sku].pk, D(qty)) for sku, qty in (items or {}).items()]
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE, items=lines)
    assert invoice.state == InvoiceState.OPEN
    return Invoice.objects.get(pk=invoice.pk)


def act(v1, invoice: Invoice, operation: str):
    return post_json(v1, f"{V1}/invoices/{invoice.pk}/{operation}")


def assert_refused(response, message: str, parameters=None) -> None:
    expected = {"message": message} | ({"parameters": parameters} if parameters else {})
    assert (response.status_code, parse(response)) == (400, expected), response.content


def fresh(invoice: Invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


# -- capture later ------------------------------------------------------------------------------------


def test_capturing_a_pending_gateway_invoice_later_captures_online_and_pays_the_order(v1, seed_order, sandbox_ledger):
    # given a Pending invoice of the whole sandbox order
    order = seed_order()
    [authorization] = transactions(order)
    invoice = pending_invoice(order)
    before = order_state(order)

    # when it is captured
    response = act(v1, invoice, "capture")

    # then it is Paid by an online capture under the authorization
    assert (response.status_code, parse(response)) == (200, True)
    authorization, capture = transactions(order)
    assert (capture.txn_type, capture.parent_id, capture.amount) == ("capture", authorization.pk, GRAND_TOTAL)
    assert authorization.is_closed is True
    invoice = fresh(invoice)
    assert (invoice.state, invoice.transaction_id, invoice.can_void_flag) == (InvoiceState.PAID, capture.txn_id, None)
    # and exactly the paid totals changed: the order's, and the payment's
    after = order_state(order)
    assert changes(before["order"], after["order"]) == {
        "total_paid": (None, GRAND_TOTAL),
        "base_total_paid": (None, GRAND_TOTAL),
    }
    assert after["items"] == before["items"]
    assert changes(before["payment"], after["payment"]) == {
        "amount_paid": (None, GRAND_TOTAL),
        "base_amount_paid": (None, GRAND_TOTAL),
        "base_amount_paid_online": (None, GRAND_TOTAL),
        "shipping_captured": (None, SHIPPING),
        "base_shipping_captured": (None, SHIPPING),
        "last_trans_id": (authorization.txn_id, capture.txn_id),
    }
    assert history_comments(order)[-1] == f'Captured amount of $1,917.60 online. Transaction ID: "{capture.txn_id}"'
    assert sandbox_ledger.movements["capture"] == 1


def test_capturing_a_pending_offline_invoice_later_pays_it_offline(v1, seed_order, sandbox_ledger):
    order = seed_order(method="checkmo")
    invoice = pending_invoice(order)
    before = order_state(order)

    response = act(v1, invoice, "capture")

    assert (response.status_code, parse(response)) == (200, True)
    invoice = fresh(invoice)
    assert (invoice.state, invoice.transaction_id, invoice.can_void_flag) == (InvoiceState.PAID, None, 0)
    after = order_state(order)
    assert changes(before["order"], after["order"]) == {
        "total_paid": (None, GRAND_TOTAL),
        "base_total_paid": (None, GRAND_TOTAL),
    }
    assert changes(before["payment"], after["payment"]) == {
        "amount_paid": (None, GRAND_TOTAL),
        "base_amount_paid": (None, GRAND_TOTAL),
        "shipping_captured": (None, SHIPPING),
        "base_shipping_captured": (None, SHIPPING),
    }
    assert transactions(order) == []
    assert history_comments(order) == []
    assert sandbox_ledger.keys_seen == []


@pytest.mark.parametrize("paid_how", ["captured later", "captured at invoicing"])
def test_capturing_a_paid_invoice_again_is_refused_and_changes_nothing(v1, seed_order, sandbox_ledger, paid_how):
    order = seed_order()
    if paid_how == "captured later":
        invoice = pending_invoice(order)
        assert act(v1, invoice, "capture").status_code == 200
    else:
        invoice = invoice_v1(v1, order)
    invoice = fresh(invoice)
    before = database_state(order)

    response = act(v1, invoice, "capture")

    assert_refused(response, CANNOT_CAPTURE_YET, [invoice.transaction_id])
    assert database_state(order) == before
    assert fresh(invoice).state == InvoiceState.PAID
    assert sandbox_ledger.movements["capture"] == 1


def test_capturing_a_canceled_invoice_is_refused(v1, seed_order, sandbox_ledger):
    order = seed_order()
    invoice = pending_invoice(order)
    assert act(v1, invoice, "cancel").status_code == 200
    before = database_state(order)

    response = act(v1, invoice, "capture")

    assert_refused(response, CAPTURE_NOT_AVAILABLE)
    assert database_state(order) == before
    assert sandbox_ledger.movements["capture"] == 0


def test_capturing_an_invoice_of_an_order_in_payment_review_is_refused(v1, seed_order, sandbox_ledger):
    # given an invoice whose capture the gateway holds for review
    order = seed_order(outcome="review")
    invoice = invoice_v1(v1, order)
    assert fresh(invoice).state == InvoiceState.OPEN
    assert Order.objects.get(pk=order.pk).state == "payment_review"
    before = database_state(order)

    # when it is captured again
    response = act(v1, invoice, "capture")

    # then it is refused: the gateway decides, not a second capture
    assert_refused(response, CAPTURE_NOT_AVAILABLE)
    assert database_state(order) == before
    assert sandbox_ledger.movements["capture"] == 1


@pytest.mark.parametrize("operation", ["capture", "void", "cancel"])
def test_an_operation_on_an_unknown_invoice_is_404(v1, operation):
    response = post_json(v1, f"{V1}/invoices/999999/{operation}")

    assert (response.status_code, parse(response)) == (404, {"message": NO_SUCH_ENTITY})


# -- void ------------------------------------------------------------------------------------------------


def online_invoice_of_the_rest(v1, order: Order) -> tuple[Invoice, dict]:
    """First capture 5 backpacks (with the shipping) online; the state then; then capture the rest online."""
    first = invoice_v1(v1, order, items={"24-WB03": 5})
    assert first.grand_total == FIVE_BACKPACKS_WITH_SHIPPING
    before = order_state(order)
    rest = invoice_v1(v1, order)
    assert rest.grand_total == REST_AFTER_FIVE_BACKPACKS
    return rest, before


def test_voiding_an_online_captured_invoice_gives_back_everything_it_took(v1, seed_order, sandbox_ledger):
    # given an order with one online-captured invoice, then a second one capturing the rest
    order = seed_order()
    invoice, before = online_invoice_of_the_rest(v1, order)
    _authorization, first_capture, capture = transactions(order)
    assert fresh(invoice).transaction_id == capture.txn_id

    # when the second is voided
    response = act(v1, invoice, "void")

    # then a void transaction under its capture closes the capture
    assert (response.status_code, parse(response)) == (200, True)
    *_, capture, void = transactions(order)
    assert (void.txn_type, void.parent_id, void.amount) == ("void", capture.pk, REST_AFTER_FIVE_BACKPACKS)
    assert capture.is_closed is True
    # and the invoice is Canceled
    assert fresh(invoice).state == InvoiceState.CANCELED
    # and the order, its rows and its payment are as before the invoice, the canceled amount recorded
    after = order_state(order)
    assert changes(before["order"], after["order"]) == {}
    assert (after["order"]["state"], after["order"]["status"]) == ("processing", "processing")
    assert after["items"] == before["items"]
    assert changes(before["payment"], after["payment"]) == {
        "amount_canceled": (None, REST_AFTER_FIVE_BACKPACKS),
        "base_amount_canceled": (None, REST_AFTER_FIVE_BACKPACKS),
        "last_trans_id": (first_capture.txn_id, void.txn_id),
    }
    assert history_comments(order)[-1] == f'Voided authorization. Amount: $1,473.60. Transaction ID: "{void.txn_id}"'
    assert sandbox_ledger.movements["void"] == 1


def test_voiding_the_only_invoice_leaves_the_order_unpaid_uninvoiced_and_processing(v1, seed_order, sandbox_ledger):
    order = seed_order()
    invoice = invoice_v1(v1, order)

    response = act(v1, invoice, "void")

    assert (response.status_code, parse(response)) == (200, True)
    order.refresh_from_db()
    assert (order.state, order.status) == ("processing", "processing")
    totals = ["total_paid", "base_total_paid", *ORDER_REGISTER]
    assert {name: as_decimal(getattr(order, name)) for name in totals} == dict.fromkeys(totals, D(0))
    assert all(item.qty_invoiced == 0 and item.row_invoiced == 0 for item in order_items(order).values())
    assert order.total_due == GRAND_TOTAL


def test_voiding_twice_is_refused_and_changes_nothing(v1, seed_order, sandbox_ledger):
    order = seed_order()
    invoice = invoice_v1(v1, order)
    assert act(v1, invoice, "void").status_code == 200
    before = database_state(order)

    response = act(v1, invoice, "void")

    assert_refused(response, VOID_NOT_AVAILABLE)
    assert database_state(order) == before
    assert sandbox_ledger.movements["void"] == 1


@pytest.mark.parametrize(("method", "capture"), [("checkmo", True), ("sandbox", False)])
def test_voiding_an_offline_paid_invoice_is_refused(v1, seed_order, sandbox_ledger, method, capture):
    order = seed_order(method=method)
    invoice = invoice_v1(v1, order, capture=capture)
    assert (invoice.state, invoice.can_void_flag) == (InvoiceState.PAID, 0)
    before = database_state(order)

    response = act(v1, invoice, "void")

    assert_refused(response, VOID_NOT_AVAILABLE)
    assert database_state(order) == before
    assert sandbox_ledger.movements["void"] == 0


@pytest.mark.parametrize("state", ["pending", "canceled"])
def test_voiding_a_pending_or_canceled_invoice_is_refused(v1, seed_order, sandbox_ledger, state):
    order = seed_order()
    invoice = pending_invoice(order)
    if state == "canceled":
        assert act(v1, invoice, "cancel").status_code == 200
    before = database_state(order)

    response = act(v1, invoice, "void")

    assert_refused(response, VOID_NOT_AVAILABLE)
    assert database_state(order) == before
    assert sandbox_ledger.movements["void"] == 0


# -- cancel ----------------------------------------------------------------------------------------------


def test_canceling_a_pending_invoice_exactly_reverses_its_registration(v1, seed_order, sandbox_ledger):
    # given an order with a paid invoice of 5 backpacks, and a Pending invoice of the rest
    order = seed_order()
    invoice_v1(v1, order, items={"24-WB03": 5})
    before = database_state(order, exclude={"updated_at"})
    invoice = pending_invoice(order)
    assert Order.objects.get(pk=order.pk).total_invoiced == GRAND_TOTAL

    # when the Pending invoice is canceled
    response = act(v1, invoice, "cancel")

    # then it is Canceled, and the order, its rows and its payment are exactly as before it
    assert (response.status_code, parse(response)) == (200, True)
    assert fresh(invoice).state == InvoiceState.CANCELED
    after = database_state(order, exclude={"updated_at"})
    grown = {"sales.Invoice": 1, "sales.InvoiceItem": 3}  # the canceled invoice and its rows stay, as in Magento
    assert after["counts"] == {table: count + grown.get(table, 0) for table, count in before["counts"].items()}
    assert changes(before["order"], after["order"]) == {}
    assert after["items"] == before["items"]
    assert after["payment"] == before["payment"]
    assert sandbox_ledger.movements["void"] == 0


def test_canceling_the_only_invoice_leaves_nothing_invoiced_and_the_order_processing(v1, seed_order):
    order = seed_order(method="checkmo")
    invoice = pending_invoice(order)

    response = act(v1, invoice, "cancel")

    assert (response.status_code, parse(response)) == (200, True)
    order.refresh_from_db()
    assert (order.state, order.status) == ("processing", "processing")  # as Magento
    assert {name: as_decimal(getattr(order, name)) for name in ORDER_REGISTER} == dict.fromkeys(ORDER_REGISTER, D(0))
    assert (order.total_paid, order.base_total_paid) == (None, None)
    assert all(item.qty_invoiced == 0 for item in order_items(order).values())


def test_canceling_twice_is_refused_and_changes_nothing(v1, seed_order):
    order = seed_order()
    invoice = pending_invoice(order)
    assert act(v1, invoice, "cancel").status_code == 200
    before = database_state(order)

    response = act(v1, invoice, "cancel")

    assert_refused(response, ONLY_PENDING_CANCELS, [invoice.increment_id, "Canceled"])
    assert database_state(order) == before


def test_canceling_a_paid_invoice_is_refused(v1, seed_order):
    order = seed_order()
    invoice = invoice_v1(v1, order)
    before = database_state(order)

    response = act(v1, invoice, "cancel")

    assert_refused(response, ONLY_PENDING_CANCELS, [invoice.increment_id, "Paid"])
    assert database_state(order) == before


def test_canceling_a_pending_invoice_whose_capture_the_gateway_reviews_is_refused(v1, seed_order, sandbox_ledger):
    # given an invoice left Pending because the gateway holds its capture for review (order in payment_review)
    order = seed_order(outcome="review")
    invoice = invoice_v1(v1, order)
    [_authorization, capture] = transactions(order)
    assert (fresh(invoice).state, capture.is_closed) == (InvoiceState.OPEN, False)
    before = database_state(order)

    # when it is canceled
    response = act(v1, invoice, "cancel")

    # then it is refused (Magento offers no Cancel while the order is in payment review, reference 6):
    # the gateway may still capture that money, so the invoice must stay registered
    assert response.status_code == 400, response.content
    assert database_state(order) == before


def test_a_canceled_invoice_frees_the_shipping_and_its_discount_for_the_next_invoice(v1, seed_order):
    # given seed 001 with a 10.00 shipping discount (order discount -414.40, grand total 1,907.60)
    order = seed_order(method="checkmo", shipping_discount=D(10))
    assert (order.discount_amount, order.grand_total) == (D("-414.40"), D("1907.60"))
    # and a Pending invoice of one backpack: 36.00 - 7.20 - 10.00 shipping discount + 300.00 shipping
    pending = pending_invoice(order, {"24-WB03": 1})
    assert (pending.shipping_amount, pending.discount_amount, pending.grand_total) == (
        SHIPPING,
        D("-17.20"),
        D("318.80"),
    )

    # when it is canceled and one backpack is invoiced again
    assert act(v1, pending, "cancel").status_code == 200
    again = invoice_v1(v1, order, items={"24-WB03": 1})

    # then the new invoice bills the shipping and the shipping discount again
    assert (again.shipping_amount, again.base_shipping_amount) == (SHIPPING, SHIPPING)
    assert (again.discount_amount, again.base_discount_amount) == (D("-17.20"), D("-17.20"))
    assert (again.grand_total, again.base_grand_total) == (D("318.80"), D("318.80"))
    order.refresh_from_db()
    assert (order.shipping_invoiced, order.discount_invoiced, order.total_invoiced) == (
        SHIPPING,
        D("-17.20"),
        D("318.80"),
    )


# -- transactions ------------------------------------------------------------------------------------------

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def test_get_transaction_answers_magentos_transaction_fields(v1, seed_order):
    order = seed_order()
    invoice_v1(v1, order)
    authorization, capture = transactions(order)

    response = v1.get(f"{V1}/transactions/{capture.pk}")

    assert response.status_code == 200, response.content
    body = parse(response)
    assert DATETIME.match(body.pop("created_at"))
    assert body == {
        "transaction_id": capture.pk,
        "parent_id": authorization.pk,
        "order_id": order.pk,
        "payment_id": capture.payment_id,
        "txn_id": capture.txn_id,
        "parent_txn_id": authorization.txn_id,
        "txn_type": "capture",
        "is_closed": 1,
        "additional_information": capture.details,
        "child_transactions": [],
    }
    assert body["additional_information"]["gateway"] == "sandbox"


def test_an_authorization_lists_its_capture_among_its_child_transactions(v1, seed_order):
    order = seed_order()
    invoice_v1(v1, order)
    authorization, capture = transactions(order)

    body = parse(v1.get(f"{V1}/transactions/{authorization.pk}"))

    assert (body["txn_type"], body["is_closed"], "parent_id" in body, "parent_txn_id" in body) == (
        "authorization",
        1,
        False,
        False,
    )
    [child] = body["child_transactions"]
    assert (child["transaction_id"], child["txn_id"], child["txn_type"]) == (capture.pk, capture.txn_id, "capture")
    assert (child["parent_id"], child["parent_txn_id"]) == (authorization.pk, authorization.txn_id)


def test_transactions_search_filters_by_txn_type(v1, seed_order):
    orders = [seed_order(), seed_order()]
    for order in orders:
        invoice_v1(v1, order)
    captures = Transaction.objects.filter(txn_type="capture").order_by("id")
    assert captures.count() == 2 and Transaction.objects.count() == 4

    prefix = "searchCriteria[filter_groups][0][filters][0]"
    query = urlencode(
        {f"{prefix}[field]": "txn_type", f"{prefix}[value]": "capture", f"{prefix}[condition_type]": "eq"}
    )
    response = v1.get(f"{V1}/transactions?{query}")

    assert response.status_code == 200, response.content
    body = parse(response)
    assert body["total_count"] == 2
    assert sorted((item["transaction_id"], item["txn_type"]) for item in body["items"]) == [
        (capture.pk, "capture") for capture in captures
    ]
    assert {item["order_id"] for item in body["items"]} == {order.pk for order in orders}


def test_an_unknown_transaction_is_404(v1):
    response = v1.get(f"{V1}/transactions/999999")

    assert (response.status_code, parse(response)) == (404, {"message": NO_SUCH_ENTITY})


def test_the_transaction_list_runs_the_same_number_of_queries_whatever_its_size(v1, seed_order):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = v1.get(f"{V1}/transactions?searchCriteria[pageSize]=50")
        assert response.status_code == 200, response.content
        return len(captured.captured_queries)

    invoice_v1(v1, seed_order())
    small = queries_for_list()
    for _ in range(3):
        invoice_v1(v1, seed_order())
    assert parse(v1.get(f"{V1}/transactions?searchCriteria[pageSize]=50"))["total_count"] == 8

    assert queries_for_list() == small
