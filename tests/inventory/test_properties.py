"""However orders of virtual and physical rows are invoiced against whatever stock two sources hold, no source
goes below zero, and the sources give up exactly the virtual quantities of the invoices that were made."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from inventory.models import Reservation, SourceItem, StockSourceLink
from inventory.services import SourceItemData, source_items_save
from sales.errors import DomainError
from sales.models import InvoiceItem, OrderItem
from sales.services import InvoiceLineRequest, invoice_order, order_import
from tests.inventory.conftest import NOT_ENOUGH, add_source, line, order_entity

EXAMPLE = itertools.count()


def held(skus) -> Decimal:
    return sum((item.quantity for item in SourceItem.objects.filter(sku__in=skus)), Decimal(0))


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_sources_never_go_negative_and_give_up_exactly_the_invoiced_virtual_quantities(
    default_store, default_stock, data
):
    # Given two sources of the Default Stock holding random quantities of two virtual SKUs
    number = next(EXAMPLE)
    priority = data.draw(st.integers(0, 3), label="second source priority (the Default Source's is 1)")
    if not StockSourceLink.objects.filter(source_id="second").exists():
        add_source("second", priority=priority)
    StockSourceLink.objects.filter(source_id="second").update(priority=priority)
    skus = [f"v{number}-a", f"v{number}-b"]
    stocked = {
        (sku, code): data.draw(st.integers(0, 6), label=f"{sku}@{code}")
        for sku in skus
        for code in ("default", "second")
    }
    source_items_save(items=[SourceItemData(sku, code, Decimal(qty), 1) for (sku, code), qty in stocked.items()])
    total_held = held(skus)

    # and two orders of those SKUs and a physical row
    orders = []
    for _ in range(2):
        rows = [line(sku, qty=data.draw(st.integers(1, 4), label="ordered")) for sku in skus]
        rows.append(line(f"p{number}", "simple", qty=3))
        orders.append(order_import(entity=order_entity(*rows), store_id=default_store.id))

    # When each is invoiced in random parts until nothing is left or the stock refuses
    invoiced_virtual = Decimal(0)
    for order in orders:
        for _ in range(3):
            rows = [row for row in OrderItem.objects.filter(order=order) if row.qty_ordered > row.qty_invoiced]
            if not rows:
                break
            request = [
                InvoiceLineRequest(
                    order_item_id=row.pk,
                    qty=Decimal(data.draw(st.integers(0, int(row.qty_ordered - row.qty_invoiced)), label="qty")),
                )
                for row in rows
            ]
            if sum(r.qty for r in request) == 0:
                continue
            note(f"invoice {[(r.order_item_id, int(r.qty)) for r in request]}")
            before = held(skus)
            try:
                invoice = invoice_order(order_id=order.pk, items=request)
            except DomainError as refused:
                # Then a refusal is the stock's, and takes nothing
                assert refused.message == NOT_ENOUGH
                assert held(skus) == before
                continue
            taken = sum(
                (row.qty for row in InvoiceItem.objects.filter(parent=invoice, order_item__is_virtual=True)), Decimal(0)
            )
            assert before - held(skus) == taken
            invoiced_virtual += taken

    # Then no source holds less than nothing, and the sources gave up exactly what was invoiced
    assert all(item.quantity >= 0 for item in SourceItem.objects.filter(sku__in=skus))
    assert total_held - held(skus) == invoiced_virtual
    # and each SKU's reservations are what is still ordered and not invoiced
    for sku in skus:
        open_qty = sum((row.qty_ordered - row.qty_invoiced for row in OrderItem.objects.filter(sku=sku)), Decimal(0))
        assert sum((r.quantity for r in Reservation.objects.filter(sku=sku)), Decimal(0)) == -open_qty
