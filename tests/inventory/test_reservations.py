"""Section 10.1, 10.3 and 10.4: reservations placed by orders, append-only, the zero-sum cleanup, the salable
quantity with its out-of-stock threshold."""

from __future__ import annotations

import importlib
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from inventory.errors import InventoryNoSuchEntity
from inventory.models import AppendOnlyError, Reservation, SourceItemStatus, StockItemConfiguration
from inventory.selectors import salable_qty_get
from inventory.services import (
    EventType,
    ItemToSell,
    SalesEvent,
    SourceItemData,
    reservations_cleanup,
    reservations_place,
    source_items_save,
)
from inventory.tasks import reservations_cleanup as reservations_cleanup_task
from sales.services import invoice_order
from tests.conftest import load_seed_order
from tests.inventory.conftest import add_source, line, order_entity

pytestmark = pytest.mark.django_db


def stock(*entries: tuple) -> None:
    source_items_save(
        items=[
            SourceItemData(sku=sku, source_code=code, quantity=Decimal(qty), status=rest[0] if rest else 1)
            for sku, code, qty, *rest in entries
        ]
    )


def reserved(sku: str) -> list[Decimal]:
    return [r.quantity for r in Reservation.objects.filter(sku=sku).order_by("reservation_id")]


def event(object_id: int, event_type: str = EventType.ORDER_PLACED) -> SalesEvent:
    return SalesEvent(event_type, object_id=str(object_id), object_increment_id=f"{object_id:09d}")


# -- placing -------------------------------------------------------------------------------------------------


def test_importing_an_order_reserves_minus_the_ordered_qty_of_simple_virtual_and_downloadable_rows(import_order):
    # seed 000: a simple, a downloadable, a dynamic bundle of 4 simples, a configurable with its simple child
    order = import_order(load_seed_order("000"))

    placed = {r.sku: r.quantity for r in Reservation.objects.all()}
    assert placed == {
        "WS12-M-Orange": -1,
        "240-LV08": -1,
        "24-WG082-blue": -1,
        "24-WG084": -1,
        "24-WG086": -1,
        "24-WG088": -1,
        "MH01-S-Gray": -1,
    }  # bundle and configurable parents hold none
    assert {r.stock_id for r in Reservation.objects.all()} == {1}
    metadata = {
        "event_type": "order_placed",
        "object_type": "order",
        "object_id": str(order.pk),
        "object_increment_id": order.increment_id,
    }
    assert all(r.metadata == metadata for r in Reservation.objects.all())


def test_rows_of_one_sku_make_one_reservation_of_their_sum(import_order):
    import_order(order_entity(line("vp1", qty=2), line("vp1", qty=3, price="4")))
    assert reserved("vp1") == [Decimal(-5)]


def test_an_order_import_failing_after_its_rows_are_saved_leaves_no_reservation(import_order, monkeypatch):
    # the payment is recorded after the order, its rows and its reservations are written
    def payment_fails(**kwargs):
        raise RuntimeError("payment store down")

    monkeypatch.setattr(importlib.import_module("sales.services.order_import"), "payment_create", payment_fails)
    with pytest.raises(RuntimeError):
        import_order(order_entity(line("vp1", qty=2)))
    assert not Reservation.objects.exists()


def test_reservations_are_append_only():
    (reservation,) = reservations_place(stock_id=1, items=[ItemToSell("vp1", Decimal(-1))], event=event(1))

    reservation.quantity = Decimal(5)
    with pytest.raises(AppendOnlyError):
        reservation.save()
    with pytest.raises(AppendOnlyError):
        reservation.delete()
    with pytest.raises(AppendOnlyError):
        Reservation.objects.filter(sku="vp1").update(quantity=0)
    with pytest.raises(AppendOnlyError):
        Reservation.objects.filter(sku="vp1").delete()
    assert reserved("vp1") == [Decimal(-1)]


# -- the cleanup -------------------------------------------------------------------------------------------------


def test_cleanup_deletes_the_groups_that_sum_to_zero_and_nothing_else(default_stock):
    # given order 1 settled for vp1 (-2, +2) but not for vp2 (-1), and order 2 partly invoiced (-3, +1)
    reservations_place(
        stock_id=1, items=[ItemToSell("vp1", Decimal(-2)), ItemToSell("vp2", Decimal(-1))], event=event(1)
    )
    reservations_place(stock_id=1, items=[ItemToSell("vp1", Decimal(2))], event=event(1, EventType.INVOICE_CREATED))
    reservations_place(stock_id=1, items=[ItemToSell("vp1", Decimal(-3))], event=event(2))
    reservations_place(stock_id=1, items=[ItemToSell("vp1", Decimal(1))], event=event(2, EventType.INVOICE_CREATED))
    # and an order 3 whose reservations cancel out only across stocks (never one group)
    reservations_place(stock_id=1, items=[ItemToSell("vp3", Decimal(-4))], event=event(3))
    reservations_place(stock_id=2, items=[ItemToSell("vp3", Decimal(4))], event=event(3, EventType.INVOICE_CREATED))
    stock(("vp1", "default", 10))
    salable_before = salable_qty_get(sku="vp1", stock_id=1)

    # when the cleanup runs
    settled = reservations_cleanup()

    # then only order 1's vp1 pair is gone, and no salable quantity changed
    assert [
        (g.stock_id, g.sku, g.object_type, g.object_id, g.object_increment_id, g.reservations) for g in settled
    ] == [(1, "vp1", "order", "1", "000000001", 2)]
    assert reserved("vp1") == [Decimal(-3), Decimal(1)]
    assert reserved("vp2") == [Decimal(-1)]
    assert reserved("vp3") == [Decimal(-4), Decimal(4)]
    assert salable_qty_get(sku="vp1", stock_id=1) == salable_before == Decimal(8)
    assert reservations_cleanup() == []


def test_cleanup_after_an_order_is_fully_invoiced_leaves_no_reservation_of_it(default_stock, import_order):
    stock(("vp1", "default", 10))
    order = import_order(order_entity(line("vp1", qty=2)))
    invoice_order(order_id=order.pk)

    assert sum(group.reservations for group in reservations_cleanup()) == 2
    assert not Reservation.objects.exists()
    assert salable_qty_get(sku="vp1", stock_id=1) == Decimal(8)


def test_the_cleanup_command_prints_what_it_deleted():
    reservations_place(stock_id=1, items=[ItemToSell("vp1", Decimal(-2))], event=event(42))
    reservations_place(stock_id=1, items=[ItemToSell("vp1", Decimal(2))], event=event(42, EventType.INVOICE_CREATED))
    out = StringIO()

    call_command("inventory_cleanup_reservations", stdout=out)

    assert out.getvalue().splitlines() == [
        "stock 1 sku vp1: 2 reservations of order 000000042",
        "Deleted 2 reservations in 1 zero-sum groups.",
    ]
    assert not Reservation.objects.exists()


def test_the_cleanup_task_runs_daily_at_midnight_on_celery_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["inventory-cleanup-reservations"]
    assert entry["task"] == "inventory.tasks.reservations_cleanup"
    assert (entry["schedule"].minute, entry["schedule"].hour) == ({0}, {0})

    reservations_place(stock_id=1, items=[ItemToSell("vp1", Decimal(-2))], event=event(1))
    reservations_place(stock_id=1, items=[ItemToSell("vp1", Decimal(2))], event=event(1, EventType.INVOICE_CREATED))
    assert reservations_cleanup_task.apply().get() == 2


# -- salable quantity --------------------------------------------------------------------------------------------


def test_salable_qty_is_in_stock_quantity_plus_reservations_minus_the_out_of_stock_threshold(default_stock):
    # given 10 + 5 in two enabled sources, 7 in a disabled one, 4 out of stock, threshold 3, 2 reserved
    add_source("second", priority=2)
    add_source("closed", priority=3, enabled=False)
    add_source("broken", priority=4)
    stock(
        ("vp1", "default", 10),
        ("vp1", "second", 5),
        ("vp1", "closed", 7),
        ("vp1", "broken", 4, SourceItemStatus.OUT_OF_STOCK),
    )
    StockItemConfiguration.objects.filter(sku="vp1").update(min_qty=Decimal(3))
    reservations_place(stock_id=1, items=[ItemToSell("vp1", Decimal(-2))], event=event(1))

    # then 10 + 5 - 2 - 3
    assert salable_qty_get(sku="vp1", stock_id=1) == Decimal(10)


def test_salable_qty_is_zero_at_or_below_the_threshold_and_without_in_stock_sources(default_stock):
    stock(("low", "default", 3), ("gone", "default", 8, SourceItemStatus.OUT_OF_STOCK))
    StockItemConfiguration.objects.filter(sku="low").update(min_qty=Decimal(3))

    assert salable_qty_get(sku="low", stock_id=1) == Decimal(0)
    assert salable_qty_get(sku="gone", stock_id=1) == Decimal(0)


def test_salable_qty_goes_negative_when_more_is_ordered_than_held(default_stock, import_order):
    stock(("vp1", "default", 1))
    import_order(order_entity(line("vp1", qty=3)))  # an imported order already happened: not refused
    assert salable_qty_get(sku="vp1", stock_id=1) == Decimal(-2)


def test_salable_qty_of_a_sku_known_only_by_its_orders_is_zero(default_stock, import_order):
    import_order(order_entity(line("never-stocked", qty=3)))
    assert salable_qty_get(sku="never-stocked", stock_id=1) == Decimal(0)


def test_salable_qty_of_an_unknown_stock_or_product_is_magentos_no_such_entity(default_stock):
    stock(("vp1", "default", 1))
    with pytest.raises(InventoryNoSuchEntity) as stock_missing:
        salable_qty_get(sku="vp1", stock_id=99)
    with pytest.raises(InventoryNoSuchEntity) as product_missing:
        salable_qty_get(sku="nobody", stock_id=1)

    assert (stock_missing.value.template, stock_missing.value.parameters) == (
        'Stock with id "%value" does not exist.',
        {"value": 99},
    )
    assert product_missing.value.template == (
        "The product that was requested doesn't exist. Verify the product and try again."
    )


def test_salable_qty_of_a_sku_whose_stock_is_not_managed_is_still_magentos_formula(default_stock, import_order):
    # Magento's GetProductSalableQty does not look at manage_stock (its admin grid shows no number instead)
    stock(("free", "default", 1))
    StockItemConfiguration.objects.filter(sku="free").update(manage_stock=False, min_qty=Decimal(0))
    import_order(order_entity(line("free", qty=5)))

    assert salable_qty_get(sku="free", stock_id=1) == Decimal(-4)
