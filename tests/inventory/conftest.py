"""Fixtures of the inventory tests: the Default Source and Stock, orders of chosen lines, /V1 helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Source, SourceItem, Stock, StockSourceLink
from tests.factories import OrderEntityFactory, seed_001_lines
from tests.factories import line as factory_line
from tests.helpers import V1, parse, post_json

NOT_ENOUGH = "Not all of your products are available in the requested quantity."


@pytest.fixture
def default_stock(db):
    """Migration 0002's Default Source and Default Stock (id 1), linked; made again after a flush."""
    source, _ = Source.objects.get_or_create(
        source_code="default",
        defaults={"name": "Default Source", "description": "Default Source", "latitude": 0, "longitude": 0},
    )
    stock, _ = Stock.objects.get_or_create(stock_id=1, defaults={"name": "Default Stock"})
    StockSourceLink.objects.get_or_create(stock=stock, source=source, defaults={"priority": 1})
    return stock


def add_source(code: str, *, stock_id: int = 1, priority: int, enabled: bool = True) -> Source:
    source = Source.objects.create(source_code=code, name=code.replace("_", " ").title(), enabled=enabled)
    StockSourceLink.objects.create(stock_id=stock_id, source=source, priority=priority)
    return source


def line(sku: str, product_type: str = "virtual", qty=1, price="10", **extra) -> dict:
    """An order row without discount or tax (``dummy=True``: no money in the header totals)."""
    price = Decimal(price)
    fields = {"original_price": price, "price_incl_tax": price, "row_total_incl_tax": price * Decimal(qty)}
    return factory_line(sku, qty, price, product_type=product_type, tax=0, discount=0, **{**fields, **extra})


def order_entity(*lines: dict, **header) -> dict:
    """An order of these rows, no shipping charged; the factory sums the totals from the priced rows."""
    return OrderEntityFactory(lines=list(lines), shipping=0, **header)


def seed_001_with_vp1(qty=2, price="11.00") -> dict:
    """Seed 001's order (20 backpacks 24-WB03, 40 yoga bags 24-WB01, one downloadable) with the downloadable
    row replaced by the tutorial's virtual product ``vp1``: by default 2 units at 11.00, so every total stays the
    seed's (any ``qty`` x ``price`` of 22.00 keeps them too)."""
    backpacks, bags, _downloadable = seed_001_lines()
    vp1 = factory_line("vp1", qty, price, product_type="virtual", name="Virtual Product 1")
    return OrderEntityFactory(seed_001=True, lines=[backpacks, bags, vp1])


# -- /V1 ----------------------------------------------------------------------------------------------------


def set_source_items(v1, *entries: tuple) -> None:
    """``POST /V1/inventory/source-items`` with (sku, source_code, quantity[, status]) entries."""
    items = [
        {"sku": sku, "source_code": code, "quantity": qty, "status": rest[0] if rest else 1}
        for sku, code, qty, *rest in entries
    ]
    response = post_json(v1, f"{V1}/inventory/source-items", {"sourceItems": items})
    assert response.status_code == 200, response.content
    assert parse(response) == []


def salable_qty(v1, sku: str, stock_id: int = 1) -> Decimal:
    response = v1.get(f"{V1}/inventory/get-product-salable-quantity/{sku}/{stock_id}")
    assert response.status_code == 200, response.content
    return parse(response)


def quantity_per_source(v1, sku: str) -> dict[str, Decimal]:
    """``GET /V1/inventory/source-items`` filtered on the SKU: {source_code: quantity}."""
    response = v1.get(
        f"{V1}/inventory/source-items",
        {
            "searchCriteria[filter_groups][0][filters][0][field]": "sku",
            "searchCriteria[filter_groups][0][filters][0][value]": sku,
        },
    )
    assert response.status_code == 200, response.content
    return {item["source_code"]: item["quantity"] for item in parse(response)["items"]}


def import_order_v1(v1, entity: dict) -> dict:
    response = post_json(v1, f"{V1}/orders", {"entity": entity})
    assert response.status_code == 200, response.content
    return parse(response)


def invoice_v1(v1, order_id: int, body: dict | None = None):
    return post_json(v1, f"{V1}/order/{order_id}/invoice", body if body is not None else {"capture": True})


def source_quantity(sku: str, source_code: str = "default") -> Decimal:
    return SourceItem.objects.get(sku=sku, source_id=source_code).quantity
