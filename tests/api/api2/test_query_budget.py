"""/api2/invoice runs a fixed number of queries whatever the page size or the number of rows, and a deep page
of a large table is read from an index, not by scanning it.

Counts are asserted equal across sizes (a per-row query shows up as a difference even within budget)
and against a budget with ``django_assert_max_num_queries``.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sales.api.json import dumps
from sales.models import Invoice, OrderItem
from sales.services import InvoiceCommentRequest, InvoiceLineRequest, invoice_order
from tests.factories import OrderFactory, numbered_lines
from tests.helpers import parse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("audited_content_types_cached")]

# Budgets (measured; the same on SQLite and PostgreSQL but for create's SET LOCAL lock_timeout):
# token 1 + the page's ids (LIMIT/OFFSET or the cursor's range, one more row to know the next cursor) 1
# + the invoices with their order's number, rows and comments (JSON aggregates) in one query 1.
LIST_BUDGET = 3
# ... + count 1.
LIST_WITH_PAGINATION_BUDGET = 4
# token 1 + the invoice with its order's number, rows and comments 1 (+ the number's lookup 1).
LOOKUP_BY_ID_BUDGET = 2
LOOKUP_BY_INCREMENT_ID_BUDGET = 3
# token 1 + SAVEPOINT 1 + order FOR UPDATE, with its addresses and payment, 1 + order rows 1 + payment read 1
# + payment update 1 + number 1 + invoice insert 1 + rows insert 1 + order rows update (one UPDATE ... FROM VALUES) 1
# + order update 1 + order history insert 1 + invoice comment insert 1 + grid row upsert (written from the objects
# in hand, no read) 1 + RELEASE SAVEPOINT 1 + re-read: the invoice with its order, rows and comments in one query 1
# (the test's transaction turns the service's atomic() into a savepoint); PostgreSQL adds SET LOCAL lock_timeout 1.
# send_email queues the mail in the same transaction: SAVEPOINT 1 + store 1 + outbox key check 1 + outbox insert 1
# + RELEASE 1 = 5, whatever the number of lines (the addresses and payment came with the order's lock).
# Then the audit trail's entry, after the service's transaction: 1 INSERT.
CREATE_BUDGET_SQLITE = 16 + 5 + 1


@pytest.fixture(autouse=True)
def uncached_tokens(settings):
    """Every request looks its token up (``token 1`` in the budgets), the first as the later ones."""
    settings.API_TOKEN_CACHE_SECONDS = 0


def create_budget() -> int:
    return CREATE_BUDGET_SQLITE + (connection.vendor == "postgresql")


def measured(call, budget: int, django_assert_max_num_queries):
    with django_assert_max_num_queries(budget), CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code in (200, 201), response.content
    return parse(response), len(queries.captured_queries)


@pytest.fixture
def sixty_invoices(db):
    """60 invoices of 3 rows and a comment each: 3 orders of 3 lines x 20 units, one unit of each line a time."""
    for _ in range(3):
        order = OrderFactory(lines=numbered_lines(3, qty=20))
        lines = [InvoiceLineRequest(order_item_id=item.pk, qty=Decimal(1)) for item in order.items.all()]
        for number in range(20):
            invoice_order(order_id=order.pk, items=lines, comment=InvoiceCommentRequest(comment=f"#{number}"))
    assert Invoice.objects.count() == 60


@pytest.mark.parametrize(("pagination", "budget"), [("0", LIST_BUDGET), ("1", LIST_WITH_PAGINATION_BUDGET)])
def test_list_runs_the_same_queries_for_limit_5_and_50(
    v1, sixty_invoices, django_assert_max_num_queries, pagination, budget
):
    counts = {}
    for limit in (5, 50):
        url = f"/api2/invoice?limit={limit}&include_pagination={pagination}&sort=grand_total&direction=asc"
        body, counts[limit] = measured(lambda url=url: v1.get(url), budget, django_assert_max_num_queries)
        assert len(body["invoices"]) == limit
        assert {len(invoice["items"]) for invoice in body["invoices"]} == {3}
        assert {len(invoice["comments"]) for invoice in body["invoices"]} == {1}
    assert counts == {5: budget, 50: budget}


@pytest.mark.parametrize(
    ("by", "budget"), [("id", LOOKUP_BY_ID_BUDGET), ("increment_id", LOOKUP_BY_INCREMENT_ID_BUDGET)]
)
def test_lookup_runs_the_same_queries_for_1_and_20_rows(v1, django_assert_max_num_queries, by, budget):
    counts = {}
    for lines in (1, 20):
        order = OrderFactory(lines=numbered_lines(lines))
        made = invoice_order(order_id=order.pk, comment=InvoiceCommentRequest(comment="noted"))
        key = made.pk if by == "id" else made.increment_id
        body, counts[lines] = measured(
            lambda key=key: v1.get(f"/api2/invoice?{by}={key}"), budget, django_assert_max_num_queries
        )
        assert len(body["invoice"]["items"]) == lines
    assert counts == {1: budget, 20: budget}


@pytest.mark.parametrize("partial", [False, True], ids=["full", "items"])
def test_create_runs_the_same_queries_for_1_and_20_lines(v1, django_assert_max_num_queries, partial):
    counts = {}
    for lines in (1, 20):
        order = OrderFactory(lines=numbered_lines(lines, qty=2))
        body = {"order_id": order.pk, "capture": "offline", "send_email": True, "comment": "budget"}
        if partial:  # every line named, half by id and half by SKU
            body["items"] = [
                {"order_item_id": item.pk, "qty": 1} if item.pk % 2 else {"sku": item.sku, "qty": 1}
                for item in OrderItem.objects.filter(order=order)
            ]
        created, counts[lines] = measured(
            lambda body=body: v1.post("/api2/invoice/create", dumps(body), content_type="application/json"),
            create_budget(),
            django_assert_max_num_queries,
        )
        assert len(created["invoice"]["items"]) == lines
    assert counts == {1: create_budget(), 20: create_budget()}


# -- a deep page of 100,000 invoices (PostgreSQL) ------------------------------------------------------------

INVOICE_COUNT = 100_000

# One order, store 1. Ids, numbers and created_at follow the insertion (as the sequence and the clock do);
# updated_at (invoices touched later: captured, voided, mailed again) and grand_total do not.
BULK_INSERT = """
INSERT INTO sales_invoice (order_id, store_id, increment_id, state, grand_total, base_grand_total, total_qty,
                           created_at, updated_at)
SELECT %(order_id)s, 1, lpad((200000000 + n)::text, 9, '0'), 1 + n %% 3,
       ((n * 7919) %% 100000) / 100.0, ((n * 7919) %% 100000) / 100.0, 1,
       timestamptz '2020-01-01' + n * interval '1 minute',
       timestamptz '2020-01-01' + ((n * 104729) %% 100000) * interval '1 minute'
FROM generate_series(1::bigint, %(count)s) AS n
"""


@pytest.fixture
def hundred_thousand_invoices(db):
    """100,000 invoices in fresh table files: TRUNCATE (rolled back with the test, like the rows) keeps the
    rows earlier tests inserted and rolled back from bloating the table and skewing the planner's costs."""
    order = OrderFactory(lines=numbered_lines(1))
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE sales_invoice, sales_invoiceitem, sales_invoicecomment, sales_invoice_grid,"
            " notifications_emailoutbox, notifications_emailattempt"
        )
        cursor.execute(BULK_INSERT, {"order_id": order.pk, "count": INVOICE_COUNT})
        cursor.execute("ANALYZE sales_invoice")
    assert Invoice.objects.count() == INVOICE_COUNT


def page_query(queries) -> str:
    """The query that picks the page's rows: the one with the OFFSET."""
    [sql] = [query["sql"] for query in queries if "sales_invoice" in query["sql"] and "OFFSET" in query["sql"]]
    return sql


@pytest.mark.postgres
@pytest.mark.parametrize("sort", ["entity_id", "created_at", "updated_at", "increment_id", "grand_total"])
def test_deep_page_of_100000_invoices_is_read_from_an_index(v1, hundred_thousand_invoices, sort):
    with CaptureQueriesContext(connection) as queries:
        response = v1.get(f"/api2/invoice?page=1999&limit=50&sort={sort}")

    assert response.status_code == 200, response.content
    assert len(json.loads(response.content)["invoices"]) == 50
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {page_query(queries.captured_queries)}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on sales_invoice" not in plan, plan
    assert "Index Scan" in plan or "Index Only Scan" in plan, plan
