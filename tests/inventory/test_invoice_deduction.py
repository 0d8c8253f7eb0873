"""Section 10.2 at invoice time: which rows leave which sources, and the refusal that writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection

from inventory.models import Reservation, SourceItem, SourceItemStatus, StockItemConfiguration
from inventory.services import InvoicedItem, SourceItemData, invoiced_qty, source_deduct_for_invoice, source_items_save
from sales.errors import DomainError
from sales.models import Invoice, OrderItem
from sales.services import InvoiceLineRequest, invoice_order
from tests.helpers import parse, post_json
from tests.inventory.conftest import (
    NOT_ENOUGH,
    add_source,
    import_order_v1,
    invoice_v1,
    line,
    order_entity,
    source_quantity,
)

pytestmark = pytest.mark.django_db

SNAPSHOT_APPS = ("sales", "payments", "notifications", "inventory")


def stock(*entries: tuple) -> None:
    source_items_save(
        items=[
            SourceItemData(sku=sku, source_code=code, quantity=Decimal(qty), status=rest[0] if rest else 1)
            for sku, code, qty, *rest in entries
        ]
    )


def every_table() -> dict:
    """Every row of every sales, payments, notifications and inventory table, and (PostgreSQL) the numbering."""
    tables = {
        model._meta.db_table: list(model._base_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.app_label in SNAPSHOT_APPS
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_value, is_called FROM sales_sequence_invoice_1")
            tables["sales_sequence_invoice_1"] = cursor.fetchall()
    return tables


# -- the refusal ------------------------------------------------------------------------------------------


def test_not_enough_stock_refuses_the_invoice_with_magentos_message_and_changes_no_table(v1, default_stock):
    # given an order of 2 x vp1 and 3 physical units, and only 1 vp1 in stock
    stock(("vp1", "default", 1), ("BAG", "default", 50))
    order = import_order_v1(v1, order_entity(line("vp1", qty=2), line("BAG", "simple", qty=3)))
    before = every_table()

    # when it is invoiced
    response = invoice_v1(
        v1, order["entity_id"], {"capture": True, "notify": True, "appendComment": True, "comment": {"comment": "paid"}}
    )

    # then it is refused with Magento's message, and no table changed: no invoice, no number, no payment,
    # no e-mail, no order bookkeeping, no source quantity, no reservation
    assert response.status_code == 400
    assert parse(response) == {"message": NOT_ENOUGH}
    assert every_table() == before


def test_one_short_sku_refuses_the_whole_invoice_and_deducts_no_other_sku(default_stock, import_order):
    stock(("vp1", "default", 10), ("vp2", "default", 1))
    order = import_order(order_entity(line("vp1", qty=2), line("vp2", qty=2)))
    before = every_table()

    with pytest.raises(DomainError) as refused:
        invoice_order(order_id=order.pk)

    assert refused.value.message == NOT_ENOUGH and refused.value.code == "not_enough_stock"
    assert every_table() == before
    assert source_quantity("vp1") == Decimal(10)  # vp1 alone was enough: still untouched


def test_api2_answers_the_refusal_as_400_with_magentos_message(v1, default_stock, import_order):
    stock(("vp1", "default", 1))
    order = import_order(order_entity(line("vp1", qty=2)))

    response = post_json(v1, "/api2/invoice/create", {"order_id": order.pk})

    assert response.status_code == 400
    assert parse(response) == {"error": NOT_ENOUGH}
    assert not Invoice.objects.filter(order_id=order.pk).exists()


def test_a_refused_invoice_can_be_made_once_stock_arrives(v1, default_stock, import_order):
    stock(("vp1", "default", 1))
    order = import_order(order_entity(line("vp1", qty=2)))
    assert invoice_v1(v1, order.pk).status_code == 400

    stock(("vp1", "default", 5))
    assert invoice_v1(v1, order.pk).status_code == 200
    assert source_quantity("vp1") == Decimal(3)


# -- which rows, which sources ----------------------------------------------------------------------------


def test_virtual_and_downloadable_rows_are_deducted_physical_rows_are_not(default_stock, import_order):
    stock(("vp1", "default", 10), ("dl1", "default", 10), ("BAG", "default", 10))
    order = import_order(
        order_entity(line("vp1", qty=2), line("dl1", "downloadable", qty=3), line("BAG", "simple", qty=4))
    )

    invoice_order(order_id=order.pk)

    assert (source_quantity("vp1"), source_quantity("dl1"), source_quantity("BAG")) == (8, 7, 10)


def test_a_partial_invoice_deducts_only_what_it_invoices(default_stock, import_order):
    stock(("vp1", "default", 10))
    order = import_order(order_entity(line("vp1", qty=5)))
    row = OrderItem.objects.get(order=order)

    invoice_order(order_id=order.pk, items=[InvoiceLineRequest(order_item_id=row.pk, qty=Decimal(2))])
    assert source_quantity("vp1") == Decimal(8)
    invoice_order(order_id=order.pk)
    assert source_quantity("vp1") == Decimal(5)
    assert sum(r.quantity for r in Reservation.objects.filter(sku="vp1")) == Decimal(0)


def test_a_sku_assigned_to_no_source_of_the_stock_is_invoiced_without_deduction(v1, default_stock, import_order):
    # as in Magento, whose source selection finds nothing to take: its inventory is not tracked here
    order = import_order(order_entity(line("UNTRACKED", qty=2)))

    assert invoice_v1(v1, order.pk).status_code == 200
    assert not SourceItem.objects.filter(sku="UNTRACKED").exists()
    # the compensating reservation still balances the order's
    assert [r.quantity for r in Reservation.objects.filter(sku="UNTRACKED")] == [Decimal(-2), Decimal(2)]


def test_a_sku_with_stock_management_off_is_neither_checked_nor_deducted(v1, default_stock, import_order):
    stock(("vp1", "default", 1))
    StockItemConfiguration.objects.filter(sku="vp1").update(manage_stock=False)
    order = import_order(order_entity(line("vp1", qty=5)))

    assert invoice_v1(v1, order.pk).status_code == 200
    assert source_quantity("vp1") == Decimal(1)
    assert sum(r.quantity for r in Reservation.objects.filter(sku="vp1")) == Decimal(0)


def test_out_of_stock_and_disabled_sources_give_nothing(v1, default_stock, import_order):
    # given 9 units marked out of stock in the Default Source, 9 in a disabled source, 1 in an enabled one
    add_source("closed", priority=0, enabled=False)
    add_source("open", priority=5)
    stock(("vp1", "default", 9, SourceItemStatus.OUT_OF_STOCK), ("vp1", "closed", 9), ("vp1", "open", 1))
    order = import_order(order_entity(line("vp1", qty=2)))

    # then 2 cannot be invoiced: only the enabled, in-stock unit counts
    response = invoice_v1(v1, order.pk)
    assert response.status_code == 400 and parse(response)["message"] == NOT_ENOUGH

    row = OrderItem.objects.get(order=order)
    assert invoice_v1(v1, order.pk, {"items": [{"order_item_id": row.pk, "qty": 1}]}).status_code == 200
    assert [(item.source_id, item.quantity) for item in SourceItem.objects.filter(sku="vp1").order_by("source_id")] == [
        ("closed", Decimal(9)),
        ("default", Decimal(9)),
        ("open", Decimal(0)),
    ]


def test_a_sku_only_in_another_stocks_sources_is_not_deducted_from_them(v1, default_stock, import_order):
    from inventory.models import Stock

    other = Stock.objects.create(name="Other Stock")
    add_source("elsewhere", stock_id=other.stock_id, priority=1)
    stock(("vp1", "elsewhere", 1))
    order = import_order(order_entity(line("vp1", qty=2)))

    assert invoice_v1(v1, order.pk).status_code == 200  # untracked on the Default Stock
    assert source_quantity("vp1", "elsewhere") == Decimal(1)


def test_a_source_item_goes_out_of_stock_when_it_reaches_the_out_of_stock_threshold(default_stock, import_order):
    stock(("vp1", "default", 5))
    StockItemConfiguration.objects.filter(sku="vp1").update(min_qty=Decimal(2))
    order = import_order(order_entity(line("vp1", qty=3)))

    invoice_order(order_id=order.pk)

    item = SourceItem.objects.get(sku="vp1")
    assert (item.quantity, item.status) == (Decimal(2), SourceItemStatus.OUT_OF_STOCK)


def test_a_dynamic_bundles_virtual_children_are_deducted_and_its_parent_is_not(default_stock, import_order):
    # children carry the price (product_calculations 0): the parent row is the dummy
    stock(("vb-a", "default", 10), ("vb-b", "default", 10))
    parent = line(
        "VBUNDLE",
        "bundle",
        qty=1,
        price="0",
        item_id=1,
        product_options={"product_calculations": 0},
        is_virtual=1,
        dummy=True,
    )
    children = [
        line("vb-a", qty=2, price="3", item_id=2, parent_item_id=1),
        line("vb-b", qty=1, price="4", item_id=3, parent_item_id=1),
    ]
    order = import_order(order_entity(parent, *children))

    invoice_order(order_id=order.pk)

    assert (source_quantity("vb-a"), source_quantity("vb-b")) == (Decimal(8), Decimal(9))
    assert not Reservation.objects.filter(sku="VBUNDLE").exists()


def test_a_fixed_bundles_virtual_children_are_dummy_rows_and_not_deducted(default_stock, import_order):
    # Magento's GetSourceSelectionResultFromInvoice skips dummy rows; the bundle SKU itself has no source items
    stock(("fb-a", "default", 10))
    parent = line(
        "FBUNDLE", "bundle", qty=1, price="9", item_id=1, product_options={"product_calculations": 1}, is_virtual=1
    )
    child = line("fb-a", qty=1, price="0", item_id=2, parent_item_id=1, dummy=True)
    order = import_order(order_entity(parent, child))

    invoice_order(order_id=order.pk)

    assert source_quantity("fb-a") == Decimal(10)


# -- the service's rules, directly -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qty", "is_qty_decimal", "expected"),
    [("2", False, "2"), ("2.7", False, "2"), ("2.5", True, "2.5"), ("-1", False, "0"), ("-0.5", True, "0")],
)
def test_invoiced_quantities_are_cast_as_magento_does(qty, is_qty_decimal, expected):
    assert invoiced_qty(Decimal(qty), is_qty_decimal=is_qty_decimal) == Decimal(expected)


def test_rows_of_one_sku_are_deducted_together_and_decimal_quantities_kept(default_stock):
    stock(("dec", "default", "3.5"))

    deductions = source_deduct_for_invoice(
        stock_id=1,
        items=[
            InvoicedItem("dec", Decimal("1.25"), is_qty_decimal=True),
            InvoicedItem("dec", Decimal("2.25"), is_qty_decimal=True),
        ],
        order_id=7,
        order_increment_id="000000007",
    )

    assert [(d.source_code, d.sku, d.qty) for d in deductions] == [("default", "dec", Decimal("3.5"))]
    assert source_quantity("dec") == Decimal(0)
    assert [r.quantity for r in Reservation.objects.filter(sku="dec")] == [Decimal("3.5")]


def test_product_types_without_source_items_are_never_deducted(default_stock):
    stock(("cfg", "default", 1))

    deductions = source_deduct_for_invoice(
        stock_id=1,
        items=[InvoicedItem("cfg", Decimal(5), product_type="configurable")],
        order_id=1,
        order_increment_id="1",
    )

    assert deductions == [] and source_quantity("cfg") == Decimal(1)
    assert not Reservation.objects.exists()
