"""sales/registration.py's write of the registered columns (issue 18, item 6): what a mutation run left unpinned."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sales.models import OrderItem
from sales.registration import registered_items_save
from tests.sales.test_invoice_rules import D, entity, line

pytestmark = pytest.mark.django_db


def test_the_registered_columns_of_all_an_invoices_order_rows_are_written_in_one_update(import_order):
    # Given an order of three rows, each invoiced in memory (Invoice\Item::register)
    order = import_order(entity([line("A", 2, "10.00"), line("B", 3, "5.00"), line("C", 1, "7.50")]))
    items = list(OrderItem.objects.filter(order=order).order_by("pk"))
    for position, item in enumerate(items, start=1):
        item.qty_invoiced = D(1)
        item.row_invoiced = D(position)
        item.base_tax_invoiced = D("0.01") * position
        item.discount_invoiced = None  # no discount yet on any row: PostgreSQL must still read the column as numeric
    # When their registered columns are saved
    with CaptureQueriesContext(connection) as queries:
        registered_items_save(items)
    # Then one statement wrote them all, each row its own values
    assert len(queries.captured_queries) == 1
    stored = OrderItem.objects.filter(order=order).order_by("pk")
    assert [(i.qty_invoiced, i.row_invoiced, i.base_tax_invoiced, i.discount_invoiced) for i in stored] == [
        (D(1), D(1), D("0.01"), None),
        (D(1), D(2), D("0.02"), None),
        (D(1), D(3), D("0.03"), None),
    ]


def test_saving_no_rows_runs_no_statement():
    with CaptureQueriesContext(connection) as queries:
        registered_items_save([])
    assert queries.captured_queries == []
