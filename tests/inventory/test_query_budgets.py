"""What the stock rules add to creating an invoice and importing an order: a fixed number of queries,
whatever the number of rows (rule 6)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.services import SourceItemData, source_items_save
from sales.services import invoice_order, order_import
from tests.inventory.conftest import line, order_entity

pytestmark = pytest.mark.django_db

# stock options 1 + source items FOR UPDATE 1 + source items update 1 + compensating reservations insert 1
# + which sources the invoice took from, kept for a cancel or void 1
DEDUCTION_QUERIES = 5
# order_placed reservations insert 1
ORDER_PLACED_QUERIES = 1
SIZES = (1, 5, 20)


def queries_of(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries.captured_queries)


def entity(size: int, product_type: str, prefix: str) -> dict:
    return order_entity(*[line(f"{prefix}-{n}", product_type, qty=2) for n in range(size)])


def test_invoicing_virtual_rows_adds_five_queries_whatever_their_number(default_store, default_stock):
    added = {}
    for size in SIZES:
        source_items_save(items=[SourceItemData(f"v{size}-{n}", "default", 10, 1) for n in range(size)])
        physical = order_import(entity=entity(size, "simple", f"s{size}"), store_id=default_store.id)
        virtual = order_import(entity=entity(size, "virtual", f"v{size}"), store_id=default_store.id)

        added[size] = queries_of(lambda v=virtual: invoice_order(order_id=v.pk)) - queries_of(
            lambda p=physical: invoice_order(order_id=p.pk)
        )
    assert added == dict.fromkeys(SIZES, DEDUCTION_QUERIES)


def test_importing_an_order_adds_one_query_for_its_reservations_whatever_its_rows(default_store, default_stock):
    inventory_queries = {}
    for size in SIZES:
        with CaptureQueriesContext(connection) as queries:
            order_import(entity=entity(size, "virtual", f"i{size}"), store_id=default_store.id)
        inventory_queries[size] = [query["sql"] for query in queries.captured_queries if "inventory_" in query["sql"]]
    assert {size: len(sqls) for size, sqls in inventory_queries.items()} == dict.fromkeys(SIZES, ORDER_PLACED_QUERIES)
    assert all(sqls[0].startswith('INSERT INTO "inventory_reservation"') for sqls in inventory_queries.values())
