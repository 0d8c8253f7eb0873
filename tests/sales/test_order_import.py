from decimal import Decimal

import pytest

from sales.models import OrderItem
from tests.conftest import load_seed_order

pytestmark = pytest.mark.django_db


def test_total_qty_ordered_counts_the_top_level_lines_when_not_given(import_order):
    order = import_order(load_seed_order("000"))  # tee, download, bundle (4 children), hoodie (1 child)
    assert order.total_qty_ordered == Decimal(4)
    assert order.total_item_count == 4


def test_total_qty_ordered_is_kept_when_given(import_order):
    order = import_order(load_seed_order("001"), total_qty_ordered=Decimal(61))
    assert order.total_qty_ordered == Decimal(61)


def test_order_rows_keep_the_payload_order_with_children_after_their_parent(import_order):
    order = import_order(load_seed_order("000"))
    rows = list(OrderItem.objects.filter(order=order).order_by("pk"))
    assert [row.sku for row in rows][2:7] == [
        "24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086",
        "24-WG082-blue",
        "24-WG084",
        "24-WG086",
        "24-WG088",
    ]
    assert all(child.parent_item_id == rows[2].pk for child in rows[3:7])


def test_an_order_of_only_virtual_items_is_virtual_and_needs_no_shipping_address(import_order):
    entity = load_seed_order("000")["entity"]
    entity["items"] = [entity["items"][1]]  # the downloadable alone
    for name in ("subtotal", "base_subtotal", "subtotal_incl_tax", "base_subtotal_incl_tax"):
        entity[name] = Decimal(18)
    for name in ("shipping_amount", "base_shipping_amount", "shipping_incl_tax", "base_shipping_incl_tax"):
        entity[name] = Decimal(0)
    entity["grand_total"] = entity["base_grand_total"] = Decimal(18)
    del entity["extension_attributes"]
    order = import_order({"entity": entity})
    assert order.is_virtual
    assert order.shipping_address is None
