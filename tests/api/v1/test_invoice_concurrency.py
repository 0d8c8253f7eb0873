"""Parallel ``POST /V1/order/{id}/invoice`` over real HTTP: the order row lock serialises invoices.

Each test starts N client threads behind a ``threading.Barrier`` so their requests reach the
threaded live server together; every request runs in its own server thread with its own
PostgreSQL connection. Only PostgreSQL has the row locks (and concurrent writers) this is about.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest

from sales.models import Invoice, InvoiceItem, Order, OrderItem, OrderState
from sales.money import ZERO
from tests.conftest import load_seed_order
from tests.factories import OrderFactory, line, superuser_token
from tests.helpers import live_post_json, parse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VALIDATION_HEADER = "Invoice Document Validation Error(s):"
REQUEST_TIMEOUT_SECONDS = 60


@pytest.fixture
def bearer_token(default_store) -> str:
    """A fresh staff user and admin token: ``transaction=True`` flushes the database between tests."""
    return superuser_token()


def post_all_at_once(requests: list[tuple[str, dict]], token: str) -> list[tuple[int, bytes]]:
    """POST every (url, body) from its own thread, all released together; responses in request order."""
    barrier = threading.Barrier(len(requests))
    results: list[tuple[int, bytes] | BaseException | None] = [None] * len(requests)

    def send(index: int, url: str, body: dict) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = live_post_json(url, token, body, timeout=REQUEST_TIMEOUT_SECONDS)
        except BaseException as error:  # reported below, in the test's thread
            results[index] = error

    threads = [threading.Thread(target=send, args=(i, url, body)) for i, (url, body) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_SECONDS * 2)
    assert not any(thread.is_alive() for thread in threads), "a request never came back"
    failures = [result for result in results if isinstance(result, BaseException)]
    assert not failures, f"client errors: {failures!r}"
    return results


def invoice_url(live_server, order_id: int) -> str:
    return f"{live_server.url}/rest/default/V1/order/{order_id}/invoice"


def qty_eight_order():
    """One simple line of 8 units at 12.34 (98.72) with a 10 % discount (9.87) that does not split evenly into
    units, plus 5.00 shipping: 93.85."""
    return OrderFactory(
        lines=[line("EIGHT-UNITS", 8, "12.34", discount="9.87", name="Eight Units", discount_percent=10)]
    )


def test_sixteen_parallel_full_invoices_of_one_order_create_exactly_one(live_server, bearer_token, import_order):
    # given an order with nothing invoiced yet
    order = import_order(load_seed_order("000"))

    # when 16 clients invoice all of it at the same moment
    results = post_all_at_once([(invoice_url(live_server, order.pk), {"capture": True})] * 16, bearer_token)

    # then one wins and the 15 others are told there is nothing left to invoice
    statuses = sorted(status for status, _ in results)
    assert 500 not in statuses, results
    assert statuses == [200] + [400] * 15, results
    created = [parse(content) for status, content in results if status == 200]
    assert len(created) == 1 and isinstance(created[0], int) and not isinstance(created[0], bool)
    for status, content in results:
        if status == 400:
            assert parse(content)["message"].startswith(VALIDATION_HEADER), content

    invoices = list(Invoice.objects.filter(order_id=order.pk))
    assert [invoice.pk for invoice in invoices] == created
    order.refresh_from_db()
    items = list(OrderItem.objects.filter(order_id=order.pk))
    assert items and all(item.qty_invoiced == item.qty_ordered for item in items)
    assert order.total_invoiced == order.grand_total == invoices[0].grand_total
    assert order.base_total_invoiced == order.base_grand_total
    assert order.total_paid == order.grand_total
    assert order.state == OrderState.PROCESSING


def test_eight_parallel_one_unit_invoices_of_one_line_all_succeed_without_lost_updates(live_server, bearer_token):
    # given an order whose only line is 8 units
    order = qty_eight_order()
    line = OrderItem.objects.get(order_id=order.pk)

    # when 8 clients each invoice one unit of it at the same moment
    body = {"capture": True, "items": [{"order_item_id": line.pk, "qty": 1}]}
    results = post_all_at_once([(invoice_url(live_server, order.pk), body)] * 8, bearer_token)

    # then every one of them gets its own invoice
    assert [status for status, _ in results] == [200] * 8, results
    invoice_ids = {parse(content) for _, content in results}
    assert len(invoice_ids) == 8
    invoices = list(Invoice.objects.filter(order_id=order.pk))
    assert {invoice.pk for invoice in invoices} == invoice_ids
    assert len({invoice.increment_id for invoice in invoices}) == 8
    assert all(invoice.total_qty == 1 for invoice in invoices)
    assert InvoiceItem.objects.filter(parent__order_id=order.pk).count() == 8

    # and the order took all 8 units and exactly its totals (no invoice overwrote another's update)
    line.refresh_from_db()
    order.refresh_from_db()
    assert line.qty_invoiced == 8
    assert line.row_invoiced == line.row_total
    assert line.discount_invoiced == line.discount_amount
    assert sum((invoice.grand_total for invoice in invoices), ZERO) == order.grand_total == Decimal("93.85")
    assert sum((invoice.subtotal for invoice in invoices), ZERO) == order.subtotal
    assert sum((invoice.discount_amount for invoice in invoices), ZERO) == order.discount_amount
    assert sum((invoice.shipping_amount or ZERO for invoice in invoices), ZERO) == order.shipping_amount
    assert order.total_invoiced == order.grand_total
    assert order.subtotal_invoiced == order.subtotal
    assert order.discount_invoiced == order.discount_amount
    assert order.shipping_invoiced == order.shipping_amount
    assert order.total_paid == order.grand_total


def test_sixteen_parallel_invoices_of_sixteen_orders_take_sixteen_distinct_numbers(
    live_server, bearer_token, import_order
):
    # given 16 orders of the default store
    orders = [import_order(load_seed_order("000"), increment_id=None) for _ in range(16)]
    assert len({order.increment_id for order in orders}) == 16

    # when each is invoiced at the same moment
    results = post_all_at_once(
        [(invoice_url(live_server, order.pk), {"capture": True}) for order in orders], bearer_token
    )

    # then all succeed, each invoice numbered once in the store's sequence (gaps allowed)
    assert [status for status, _ in results] == [200] * 16, results
    invoices = list(Invoice.objects.filter(order__in=orders))
    assert {invoice.pk for invoice in invoices} == {parse(content) for _, content in results}
    assert {invoice.order_id for invoice in invoices} == {order.pk for order in orders}
    numbers = [invoice.increment_id for invoice in invoices]
    assert all(re.fullmatch(r"[0-9]{9}", number) for number in numbers), numbers
    assert len(set(numbers)) == 16
    assert all(invoice.store_id == orders[0].store_id for invoice in invoices)
    for order in Order.objects.filter(pk__in=[order.pk for order in orders]):
        assert order.total_invoiced == order.grand_total
