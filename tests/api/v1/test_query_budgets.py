"""Rule 6: a /V1 door runs a fixed number of queries, however many rows the order or page holds.

Each test drives one door at several sizes, asserts the budget with ``django_assert_max_num_queries``
and that the count is the same at every size (a per-row query shows up as a difference even while
it still fits the budget).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sales.models import Invoice, OrderItem
from sales.services import InvoiceCommentRequest, InvoiceLineRequest, invoice_order, order_comment_add
from tests.factories import ADDRESS, OrderFactory, numbered_lines
from tests.helpers import V1, parse, post_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("audited_content_types_cached")]

# Budgets: the counts measured on SQLite and PostgreSQL (the same on both), whatever the size.
# token 1 + SAVEPOINT 1 + order FOR UPDATE, with its addresses and payment, 1 + order rows 1 + payment read 1
# + payment update 1 + number 1 + invoice insert 1 + invoice rows insert 1 + order rows update (one UPDATE ... FROM
# VALUES for all rows) 1 + order update 1 + comment insert 1 + grid row upsert (written from the objects in hand,
# no read) 1 + RELEASE SAVEPOINT 1 (the test's transaction turns the service's atomic() into a savepoint);
# on PostgreSQL + SET LOCAL lock_timeout 1 (the bounded wait for the order lock); then the audit entry's INSERT 1.
INVOICE_CREATE_BUDGET = 15
LOCK_TIMEOUT_STATEMENT = 1
# token 1 + the invoice with its rows and comments (JSON aggregates) in one query 1.
INVOICE_DETAIL_BUDGET = 2
# token 1 + count 1 + the page's ids 1 + those invoices with their rows and comments 1.
INVOICE_LIST_BUDGET = 4
# token 1 + order with addresses and payment 1 + rows 1 + status history 1.
ORDER_DETAIL_BUDGET = 4
# token 1 + count 1 + page (with addresses and payment) 1 + rows 1 + status history 1.
ORDER_LIST_BUDGET = 5

LINE_COUNTS = (1, 5, 40)


@pytest.fixture(autouse=True)
def uncached_tokens(settings):
    """Every request looks its token up (``token 1`` in the budgets), the first as the later ones."""
    settings.API_TOKEN_CACHE_SECONDS = 0


def order_of(lines: int):
    """An order of ``lines`` simple rows with a discount, tax on every row and shipping that grows with its size."""
    return OrderFactory(lines=numbered_lines(lines, qty=2), discount_rate=10, tax_rate=8, shipping=5 * lines)


def measured(call, budget: int, django_assert_max_num_queries):
    """(response, number of queries) of one request, which must stay within ``budget``."""
    with django_assert_max_num_queries(budget), CaptureQueriesContext(connection) as queries:
        response = call()
    return response, len(queries.captured_queries)


def post_invoice(v1, order_id: int, body: dict):
    return post_json(v1, f"{V1}/order/{order_id}/invoice", body)


def test_creating_an_invoice_runs_the_same_queries_for_1_5_and_40_lines(v1, django_assert_max_num_queries):
    counts = {}
    for lines in LINE_COUNTS:
        order = order_of(lines)
        body = {"capture": True, "comment": {"comment": "Invoiced by the budget test", "is_visible_on_front": 1}}

        response, counts[lines] = measured(
            lambda order=order, body=body: post_invoice(v1, order.pk, body),
            INVOICE_CREATE_BUDGET + (LOCK_TIMEOUT_STATEMENT if connection.vendor == "postgresql" else 0),
            django_assert_max_num_queries,
        )

        assert response.status_code == 200, response.content
        assert Invoice.objects.get(pk=parse(response)).items.count() == lines
    assert len(set(counts.values())) == 1, counts


def test_creating_a_partial_invoice_runs_the_same_queries_for_1_5_and_40_lines(v1, django_assert_max_num_queries):
    counts = {}
    for lines in LINE_COUNTS:
        order = order_of(lines)
        rows = list(OrderItem.objects.filter(order=order).order_by("id"))
        body = {"capture": True, "items": [{"order_item_id": row.pk, "qty": 1} for row in rows]}

        response, counts[lines] = measured(
            lambda order=order, body=body: post_invoice(v1, order.pk, body),
            INVOICE_CREATE_BUDGET + (LOCK_TIMEOUT_STATEMENT if connection.vendor == "postgresql" else 0),
            django_assert_max_num_queries,
        )

        assert response.status_code == 200, response.content
    assert len(set(counts.values())) == 1, counts


def test_reading_an_invoice_runs_the_same_queries_for_1_5_and_40_lines(v1, django_assert_max_num_queries):
    counts = {}
    for lines in LINE_COUNTS:
        order = order_of(lines)
        invoice = invoice_order(order_id=order.pk, comment=InvoiceCommentRequest(comment="first"))

        response, counts[lines] = measured(
            lambda invoice=invoice: v1.get(f"/rest/default/V1/invoices/{invoice.pk}"),
            INVOICE_DETAIL_BUDGET,
            django_assert_max_num_queries,
        )

        assert response.status_code == 200, response.content
        data = parse(response)
        assert len(data["items"]) == lines
        assert [comment["comment"] for comment in data["comments"]] == ["first"]
    assert len(set(counts.values())) == 1, counts


def test_listing_invoices_runs_the_same_queries_for_1_and_30_invoices(v1, django_assert_max_num_queries):
    order = order_of(30)
    rows = list(OrderItem.objects.filter(order=order).order_by("id"))
    url = "/rest/default/V1/invoices?searchCriteria[pageSize]=50"

    def invoice_row(row):
        invoice_order(
            order_id=order.pk,
            items=[InvoiceLineRequest(order_item_id=row.pk, qty=row.qty_ordered)],
            comment=InvoiceCommentRequest(comment=f"invoice of {row.sku}"),
        )

    invoice_row(rows[0])
    one, count_for_one = measured(lambda: v1.get(url), INVOICE_LIST_BUDGET, django_assert_max_num_queries)
    for row in rows[1:]:
        invoice_row(row)
    thirty, count_for_thirty = measured(lambda: v1.get(url), INVOICE_LIST_BUDGET, django_assert_max_num_queries)

    assert (one.status_code, thirty.status_code) == (200, 200)
    assert (parse(one)["total_count"], len(parse(thirty)["items"])) == (1, 30)
    assert all(len(item["items"]) == 1 and len(item["comments"]) == 1 for item in parse(thirty)["items"])
    assert count_for_one == count_for_thirty


def test_reading_an_order_runs_the_same_queries_for_1_and_40_lines(v1, django_assert_max_num_queries):
    counts = {}
    for lines in (1, 40):
        order = order_of(lines)
        order_comment_add(order_id=order.pk, comment="first note")
        order_comment_add(order_id=order.pk, comment="second note")

        response, counts[lines] = measured(
            lambda order=order: v1.get(f"/rest/default/V1/orders/{order.pk}"),
            ORDER_DETAIL_BUDGET,
            django_assert_max_num_queries,
        )

        assert response.status_code == 200, response.content
        data = parse(response)
        assert len(data["items"]) == lines
        assert len(data["status_histories"]) == 2
        assert data["billing_address"]["city"] == ADDRESS["city"]
        assert data["payment"]["method"] == "checkmo"
    assert counts[1] == counts[40], counts


def test_listing_orders_runs_the_same_queries_for_1_and_20_orders(v1, django_assert_max_num_queries):
    url = "/rest/default/V1/orders?searchCriteria[pageSize]=50"
    order_of(3)
    one, count_for_one = measured(lambda: v1.get(url), ORDER_LIST_BUDGET, django_assert_max_num_queries)
    for _ in range(19):
        order = order_of(3)
        order_comment_add(order_id=order.pk, comment="a note")
    twenty, count_for_twenty = measured(lambda: v1.get(url), ORDER_LIST_BUDGET, django_assert_max_num_queries)

    assert (one.status_code, twenty.status_code) == (200, 200)
    assert (parse(one)["total_count"], parse(twenty)["total_count"]) == (1, 20)
    assert count_for_one == count_for_twenty
