"""A canceled or voided invoice gives its virtual quantities back to the sources it took them from,
so invoicing the rows again takes them once, not twice (Magento keeps the first deduction). A source
item a deduction set out of stock goes back in stock above its threshold (Magento's can_back_in_stock);
one staff set out of stock stays out of stock."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from inventory.models import InvoiceSource, Reservation, SourceItemStatus, StockItemConfiguration
from inventory.selectors import salable_qty_get
from sales.services import CaptureCase, invoice_cancel, invoice_capture, invoice_order, invoice_void, order_import
from tests.inventory.conftest import add_source, line, order_entity, set_source_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sources(v1, default_stock):
    """vp1: 1 unit in the Default Source (priority 2), 5 in a warehouse of priority 1."""
    default_stock.source_links.filter(source_id="default").update(priority=2)
    add_source("east_warehouse", priority=1)
    set_source_items(v1, ("vp1", "default", 1), ("vp1", "east_warehouse", 5))


def quantities(sku: str = "vp1") -> dict[str, Decimal]:
    from inventory.models import SourceItem

    return {item.source_id: item.quantity for item in SourceItem.objects.filter(sku=sku)}


def order_reservations(order) -> Decimal:
    return Reservation.objects.filter(metadata__object_id=str(order.pk), sku="vp1").aggregate(total=Sum("quantity"))[
        "total"
    ]


def test_canceling_an_invoice_gives_its_quantities_back_to_the_sources_it_took_them_from(two_sources, default_store):
    order = order_import(entity=order_entity(line("vp1", qty=6)), store_id=default_store.pk)
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)
    assert quantities() == {"default": Decimal(0), "east_warehouse": Decimal(0)}
    assert salable_qty_get(sku="vp1", stock_id=1) == Decimal(0)

    invoice_cancel(invoice_id=invoice.pk)

    assert quantities() == {"default": Decimal(1), "east_warehouse": Decimal(5)}
    assert not InvoiceSource.objects.filter(invoice_id=invoice.pk).exists()
    # the order holds its 6 units again: what can be sold is unchanged
    assert order_reservations(order) == Decimal(-6)
    assert salable_qty_get(sku="vp1", stock_id=1) == Decimal(0)


def test_invoicing_again_after_a_cancel_takes_the_quantities_once(two_sources, default_store):
    order = order_import(entity=order_entity(line("vp1", qty=2)), store_id=default_store.pk)
    invoice_cancel(invoice_id=invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE).pk)

    invoice_order(order_id=order.pk)

    assert quantities() == {"default": Decimal(1), "east_warehouse": Decimal(3)}
    assert order_reservations(order) == Decimal(0)  # placed -2, invoiced +2, canceled -2, invoiced +2
    assert salable_qty_get(sku="vp1", stock_id=1) == Decimal(4)


def test_voiding_an_online_capture_gives_its_quantities_back(two_sources, default_store):
    order = order_import(
        entity=order_entity(line("vp1", qty=2), payment={"method": "sandbox"}), store_id=default_store.pk
    )
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)
    invoice_capture(invoice_id=invoice.pk)
    assert quantities() == {"default": Decimal(1), "east_warehouse": Decimal(3)}

    invoice_void(invoice_id=invoice.pk)

    assert quantities() == {"default": Decimal(1), "east_warehouse": Decimal(5)}
    assert order_reservations(order) == Decimal(-2)


# -- the status a returned quantity leaves: Magento's can_back_in_stock, for an automatic status only ----------


def status(sku: str = "vp1", source_code: str = "default") -> int:
    from inventory.models import SourceItem

    return SourceItem.objects.get(sku=sku, source_id=source_code).status


def invoiced(default_store, qty: int):
    order = order_import(entity=order_entity(line("vp1", qty=qty)), store_id=default_store.pk)
    return invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)


def test_a_cancel_sets_back_in_stock_a_source_item_its_deduction_set_out_of_stock(v1, default_stock, default_store):
    set_source_items(v1, ("vp1", "default", 2))
    invoice = invoiced(default_store, 2)
    assert status() == SourceItemStatus.OUT_OF_STOCK

    invoice_cancel(invoice_id=invoice.pk)

    assert (quantities(), status()) == ({"default": Decimal(2)}, SourceItemStatus.IN_STOCK)


def test_a_cancel_sets_back_in_stock_a_source_item_another_invoices_deduction_set_out_of_stock(
    v1, default_stock, default_store
):
    set_source_items(v1, ("vp1", "default", 3))
    first = invoiced(default_store, 1)
    invoiced(default_store, 2)  # takes the last 2: out of stock
    assert status() == SourceItemStatus.OUT_OF_STOCK

    invoice_cancel(invoice_id=first.pk)

    assert (quantities(), status()) == ({"default": Decimal(1)}, SourceItemStatus.IN_STOCK)


def test_a_cancel_leaves_out_of_stock_a_source_item_staff_set_out_of_stock_by_hand(v1, default_stock, default_store):
    set_source_items(v1, ("vp1", "default", 5))
    invoice = invoiced(default_store, 2)
    set_source_items(v1, ("vp1", "default", 3, SourceItemStatus.OUT_OF_STOCK))  # staff stop selling it

    invoice_cancel(invoice_id=invoice.pk)

    assert (quantities(), status()) == ({"default": Decimal(5)}, SourceItemStatus.OUT_OF_STOCK)
    assert salable_qty_get(sku="vp1", stock_id=1) == Decimal(0)


def test_a_void_leaves_out_of_stock_a_source_item_staff_set_out_of_stock_after_the_deduction_did(
    v1, default_stock, default_store
):
    set_source_items(v1, ("vp1", "default", 2))
    order = order_import(
        entity=order_entity(line("vp1", qty=2), payment={"method": "sandbox"}), store_id=default_store.pk
    )
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)
    invoice_capture(invoice_id=invoice.pk)
    assert status() == SourceItemStatus.OUT_OF_STOCK  # automatically, by the deduction
    set_source_items(v1, ("vp1", "default", 0, SourceItemStatus.OUT_OF_STOCK))  # then staff say so too

    invoice_void(invoice_id=invoice.pk)

    assert (quantities(), status()) == ({"default": Decimal(2)}, SourceItemStatus.OUT_OF_STOCK)


def test_a_cancel_leaves_out_of_stock_a_source_item_still_at_its_out_of_stock_threshold(
    v1, default_stock, default_store
):
    StockItemConfiguration.objects.create(sku="vp1", min_qty=Decimal(3))
    set_source_items(v1, ("vp1", "default", 5))
    invoice = invoiced(default_store, 2)  # 3 left: at the threshold, out of stock
    set_source_items(v1, ("vp1", "default", 1, SourceItemStatus.IN_STOCK))  # staff count 1 and sell on
    invoiced(default_store, 1)  # 0 left: out of stock, automatically

    invoice_cancel(invoice_id=invoice.pk)  # 2 back: still below the threshold of 3

    assert (quantities(), status()) == ({"default": Decimal(2)}, SourceItemStatus.OUT_OF_STOCK)
