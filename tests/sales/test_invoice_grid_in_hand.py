"""The grid row ``invoice_order`` writes from the objects in hand is the row a full refresh reads back
from the database, whatever the invoice's shape; and the order rows' one-statement update writes what
the ORM would."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sales.grid import GRID_FIELDS, invoice_grid_refresh
from sales.models import Invoice, InvoiceGrid, InvoiceState, OrderItem, Store
from sales.registration import REGISTERED_ITEM_FIELDS, rows_update
from sales.services import CaptureCase, invoice_cancel, invoice_capture, invoice_order, invoice_void
from tests.sales.test_invoice_rules import (
    D,
    dynamic_bundle,
    entity,
    fixed_bundle,
    invoice,
    item,
    line,
    two_lines,
)

pytestmark = pytest.mark.django_db

COLUMNS = ["invoice_id", *GRID_FIELDS]


def grid_values(invoice_id: int) -> dict:
    return InvoiceGrid.objects.filter(pk=invoice_id).values(*COLUMNS).get()


def assert_written_row_is_the_refreshed_row(invoice_id: int) -> dict:
    """The row as the service wrote it equals the row a refresh from the database writes in its place."""
    written = grid_values(invoice_id)
    InvoiceGrid.objects.filter(pk=invoice_id).delete()
    assert invoice_grid_refresh([invoice_id]) == 1
    assert grid_values(invoice_id) == written
    return written


def test_a_partial_invoice_writes_the_refreshed_row(import_order):
    order = import_order(two_lines(shipping="5.00"))
    created = invoice(order, ("A", 1))

    row = assert_written_row_is_the_refreshed_row(created.pk)

    # The partial invoice bills A (10.00) and all of the shipping; the grid shows them in base currency.
    assert (row["subtotal"], row["shipping_and_handling"], row["grand_total"]) == (D("10"), D("5"), D("15"))
    assert row["state"] == InvoiceState.PAID and row["payment_method"] == "checkmo"
    assert row["billing_name"] == "Ada Lovelace" and row["customer_name"] == "Ada Lovelace"
    assert row["billing_address"] == row["shipping_address"] == "12 Analytical Row, London, EC1A 1AA"
    assert row["order_increment_id"] == order.increment_id and row["increment_id"] == created.increment_id
    assert row["keywords"] == (
        f"{created.increment_id} {order.increment_id} ada lovelace 12 analytical row, london, ec1a 1aa"
        f" 12 analytical row, london, ec1a 1aa ada lovelace {order.customer_email}"
    )


@pytest.mark.parametrize(
    ("order_entity", "grand_total"),
    [(fixed_bundle, D("150")), (dynamic_bundle, D("50"))],  # 3 x 50.00 on the parent; 2 x 10.00 + 6 x 5.00
    ids=["fixed_bundle", "dynamic_bundle"],
)
def test_a_bundle_invoice_writes_the_refreshed_row(import_order, order_entity, grand_total):
    order = import_order(order_entity())
    created = invoice(order)

    row = assert_written_row_is_the_refreshed_row(created.pk)

    assert row["grand_total"] == grand_total


def test_a_discounted_invoice_with_tax_writes_the_refreshed_row(import_order):
    order = import_order(entity([line("A", 2, "10.00", tax="1.60", discount="2.00")], shipping="5.00"))
    created = invoice(order, ("A", 1))

    row = assert_written_row_is_the_refreshed_row(created.pk)

    # 10.00 - 1.00 discount + 0.80 tax + 5.00 shipping
    assert (row["subtotal"], row["grand_total"], row["base_grand_total"]) == (D("10"), D("14.80"), D("14.80"))


def test_an_invoice_of_another_store_in_another_currency_writes_the_refreshed_row(import_order):
    Store(id=2, code="fr", name="French").save()
    order = import_order(two_lines(base_factor="1.1"), store_id=2, store_name="French Store View")
    created = invoice(order)

    row = assert_written_row_is_the_refreshed_row(created.pk)

    assert (row["store_id"], row["store_name"], row["increment_id"]) == (2, "French Store View", "2000000001")
    assert (row["order_currency_code"], row["base_currency_code"]) == ("EUR", "USD")
    assert (row["grand_total"], row["base_grand_total"]) == (D("30"), D("33"))


def test_an_order_without_a_shipping_address_writes_the_refreshed_row(import_order):
    order = import_order(entity([line("E-BOOK", 1, "9.00", product_type="virtual", is_virtual=True)]))
    created = invoice(order)

    row = assert_written_row_is_the_refreshed_row(created.pk)

    assert row["shipping_address"] is None and row["billing_address"] == "12 Analytical Row, London, EC1A 1AA"


@pytest.mark.parametrize(
    ("follow_up", "state"),
    [
        (invoice_capture, InvoiceState.PAID),
        (invoice_cancel, InvoiceState.CANCELED),
        (
            lambda *, invoice_id: invoice_void(invoice_id=invoice_capture(invoice_id=invoice_id).pk),
            InvoiceState.CANCELED,
        ),
    ],
    ids=["capture", "cancel", "capture_then_void"],
)
def test_a_pending_invoice_and_what_follows_it_write_the_refreshed_rows(import_order, follow_up, state):
    order = import_order(two_lines(method="sandbox"))
    created = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)
    assert assert_written_row_is_the_refreshed_row(created.pk)["state"] == InvoiceState.OPEN

    follow_up(invoice_id=created.pk)

    # What follows refreshes the row from the database itself: it must show the invoice as it now stands.
    settled = Invoice.objects.get(pk=created.pk)
    row = grid_values(created.pk)
    assert (row["state"], row["updated_at"]) == (state, settled.updated_at)


def test_one_statement_writes_the_registered_columns_of_every_row_as_bulk_update_would(
    import_order, django_assert_num_queries
):
    order = import_order(entity([line("A", 3, "10.00", tax="2.40"), line("B", 2, "5.00", discount="1.00")]))
    rows = list(OrderItem.objects.filter(order=order))
    for position, row in enumerate(rows, start=1):
        row.qty_invoiced = Decimal(position)
        row.row_invoiced = Decimal("3.333333")  # more places than the column: stored as the ORM stores it
        row.tax_invoiced = None if position == 1 else Decimal("0.8")
    expected = [
        {"qty_invoiced": D(1), "row_invoiced": D("3.3333"), "tax_invoiced": None},
        {"qty_invoiced": D(2), "row_invoiced": D("3.3333"), "tax_invoiced": D("0.8")},
    ]

    with django_assert_num_queries(1):
        rows_update(OrderItem, rows, REGISTERED_ITEM_FIELDS)

    stored = OrderItem.objects.filter(order=order).order_by("id").values("qty_invoiced", "row_invoiced", "tax_invoiced")
    assert list(stored) == expected
    assert item(order, "B").base_row_invoiced == 0  # columns in hand unchanged are written back unchanged
