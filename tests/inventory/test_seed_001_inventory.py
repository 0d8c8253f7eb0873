"""Seed 001's verify step, through the real /V1 routes: after the invoice, Magento adjusted Quantity per
Source and Salable Quantity of the virtual product ``vp1`` to 9998.

The order is seed 001's (20 + 40 physical bags and a non-physical row, -404.40 discount, 300.00
shipping) with its non-physical row being ``vp1`` x 2, as in the Inventory Management tutorial.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Reservation
from tests.helpers import parse
from tests.inventory.conftest import (
    add_source,
    import_order_v1,
    invoice_v1,
    quantity_per_source,
    salable_qty,
    seed_001_with_vp1,
    set_source_items,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(v1, default_stock):
    """10,000 vp1 in the Default Source, and the two bags the order also holds."""
    set_source_items(v1, ("vp1", "default", 10000), ("24-WB03", "default", 100), ("24-WB01", "default", 100))
    return v1


def test_seed_001_verify_step_vp1_reads_9998_for_quantity_per_source_and_salable_quantity(stocked):
    v1 = stocked
    # given vp1 with 10,000 in its source, nothing sold yet
    assert quantity_per_source(v1, "vp1") == {"default": Decimal(10000)}
    assert salable_qty(v1, "vp1") == Decimal(10000)

    # when the order of 2 x vp1 is imported
    order = import_order_v1(v1, seed_001_with_vp1())

    # then the salable quantity drops to 9998, and the source still holds 10,000
    assert salable_qty(v1, "vp1") == Decimal(9998)
    assert quantity_per_source(v1, "vp1") == {"default": Decimal(10000)}

    # when the order is invoiced as the tutorial does
    invoiced = invoice_v1(v1, order["entity_id"], {"capture": True, "notify": True})
    assert invoiced.status_code == 200, invoiced.content
    invoice = parse(v1.get(f"/rest/default/V1/invoices/{parse(invoiced)}"))
    assert invoice["grand_total"] == Decimal("1917.6")  # the seed's invoice: the stock rules change no money

    # then Quantity per Source is 9998 and Salable Quantity is unchanged at 9998
    assert quantity_per_source(v1, "vp1") == {"default": Decimal(9998)}
    assert salable_qty(v1, "vp1") == Decimal(9998)


def test_the_invoice_appends_the_compensating_reservation_with_magentos_metadata(stocked):
    v1 = stocked
    order = import_order_v1(v1, seed_001_with_vp1())
    assert invoice_v1(v1, order["entity_id"]).status_code == 200

    reservations = list(Reservation.objects.filter(sku="vp1").order_by("reservation_id"))
    assert [(r.stock_id, r.quantity) for r in reservations] == [(1, Decimal(-2)), (1, Decimal(2))]
    assert [r.metadata for r in reservations] == [
        {
            "event_type": "order_placed",
            "object_type": "order",
            "object_id": str(order["entity_id"]),
            "object_increment_id": order["increment_id"],
        },
        {
            "event_type": "invoice_created",
            "object_type": "order",
            "object_id": str(order["entity_id"]),
            "object_increment_id": order["increment_id"],
        },
    ]


def test_physical_rows_are_left_for_shipment_their_sources_untouched_at_invoice(stocked):
    v1 = stocked
    order = import_order_v1(v1, seed_001_with_vp1())
    assert invoice_v1(v1, order["entity_id"]).status_code == 200

    # the bags leave their source at shipment: still 100 each, their order reservations still held
    assert quantity_per_source(v1, "24-WB03") == {"default": Decimal(100)}
    assert quantity_per_source(v1, "24-WB01") == {"default": Decimal(100)}
    assert salable_qty(v1, "24-WB03") == Decimal(80)
    assert salable_qty(v1, "24-WB01") == Decimal(60)
    assert not Reservation.objects.filter(sku__in=["24-WB03", "24-WB01"], quantity__gt=0).exists()


def test_with_two_sources_the_deduction_follows_their_priority(v1, default_stock):
    # given vp1 in two sources: 1 unit in the Default Source (priority 2), 5 in a warehouse of priority 1
    default_stock.source_links.filter(source_id="default").update(priority=2)
    add_source("east_warehouse", priority=1)
    set_source_items(v1, ("vp1", "default", 1), ("vp1", "east_warehouse", 5))
    assert salable_qty(v1, "vp1") == Decimal(6)

    # when an order of 2 and then an order of 4 are invoiced
    first = import_order_v1(v1, seed_001_with_vp1())
    assert invoice_v1(v1, first["entity_id"]).status_code == 200

    # then the first takes both from the warehouse, which comes first
    assert quantity_per_source(v1, "vp1") == {"default": Decimal(1), "east_warehouse": Decimal(3)}

    second = import_order_v1(v1, seed_001_with_vp1(qty=4, price="5.50"))
    assert salable_qty(v1, "vp1") == Decimal(0)
    assert invoice_v1(v1, second["entity_id"]).status_code == 200

    # and the second empties the warehouse (3) before taking the rest (1) from the Default Source
    assert quantity_per_source(v1, "vp1") == {"default": Decimal(0), "east_warehouse": Decimal(0)}
    assert salable_qty(v1, "vp1") == Decimal(0)
