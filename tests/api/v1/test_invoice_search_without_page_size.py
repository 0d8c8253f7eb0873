"""A /V1 invoice search without ``pageSize`` answers every match, however many: more than a statement can bind
(PostgreSQL takes 65,535 parameters, SQLite 32,766), in a few queries, not a 500."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sales.models import Invoice
from sales.selectors import IDS_PER_QUERY
from tests.factories import OrderFactory, numbered_lines
from tests.helpers import parse

pytestmark = pytest.mark.django_db

MATCHES = 70_000  # more than PostgreSQL's 65,535 parameters

# One statement for all the invoices, numbered from 1 (the database's own series: a second, not minutes).
POSTGRES_INSERT = """
INSERT INTO sales_invoice (order_id, store_id, increment_id, state, grand_total, base_grand_total, total_qty,
                           created_at, updated_at)
SELECT %s, 1, 'S' || lpad(n::text, 8, '0'), 1, 10.5, 10.5, 1, now(), now() FROM generate_series(1, %s) AS n
"""
SQLITE_INSERT = """
INSERT INTO sales_invoice (order_id, store_id, increment_id, state, grand_total, base_grand_total, total_qty,
                           created_at, updated_at)
WITH RECURSIVE series(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM series WHERE n < %s)
SELECT %s, 1, 'S' || substr('0000000' || n, -8), 1, 10.5, 10.5, 1, datetime('now'), datetime('now') FROM series
"""


@pytest.fixture
def many_invoices(db) -> int:
    order = OrderFactory(lines=numbered_lines(1))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_INSERT, [order.pk, MATCHES])
        else:
            cursor.execute(SQLITE_INSERT, [MATCHES, order.pk])
    assert Invoice.objects.filter(order=order).count() == MATCHES
    return order.pk


def test_a_search_matching_more_invoices_than_a_statement_binds_answers_them_all(v1, many_invoices):
    query = (
        "searchCriteria[filter_groups][0][filters][0][field]=order_id"
        f"&searchCriteria[filter_groups][0][filters][0][value]={many_invoices}"
    )

    with CaptureQueriesContext(connection) as queries:
        response = v1.get(f"/rest/default/V1/invoices?{query}")

    assert response.status_code == 200, response.content[:500]
    body = parse(response)
    assert body["total_count"] == MATCHES
    ids = [invoice["entity_id"] for invoice in body["items"]]
    assert ids == sorted(Invoice.objects.filter(order_id=many_invoices).values_list("pk", flat=True), reverse=True)
    assert {invoice["grand_total"] for invoice in body["items"]} == {Decimal("10.5")}
    reads = [query["sql"] for query in queries.captured_queries if "json" in query["sql"].lower()]
    assert len(reads) == -(-MATCHES // IDS_PER_QUERY)  # batches of IDS_PER_QUERY ids
