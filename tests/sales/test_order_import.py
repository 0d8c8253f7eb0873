from decimal import Decimal

import pytest

from sales.models import OrderItem
from tests.conftest import load_seed_order
from tests.factories import OrderEntityFactory, line

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
    # seed 000's downloadable alone, 18.00, no shipping: the entity carries no shipping assignment at all
    entity = OrderEntityFactory(virtual=True, lines=[line("240-LV08", 1, "18.00", product_type="downloadable")])
    assert "extension_attributes" not in entity and entity["grand_total"] == Decimal(18)
    order = import_order({"entity": entity})
    assert order.is_virtual
    assert order.shipping_address is None
