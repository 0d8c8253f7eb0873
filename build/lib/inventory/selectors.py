"""Inventory reads: the salable quantity (Magento's GetProductSalableQty) and the per-SKU summaries of
Catalog > Products' "Quantity per Source" and "Salable Quantity" columns, in a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, Sum

from inventory.errors import InventoryNoSuchEntity
from inventory.models import (
    ZERO,
    Reservation,
    Source,
    SourceItem,
    SourceItemStatus,
    Stock,
    StockItemConfiguration,
    StockSourceLink,
)


def salable_qty(
    *,
    source_items: Iterable[SourceItem],
    enabled_source_codes: set[str],
    reservations: Decimal,
    configuration: StockItemConfiguration,
) -> Decimal:
    """Section 10.4: ``index quantity + reservations - min_qty``, or 0 without a salable index row.

    The stock's index row of a SKU exists when the SKU is assigned to an enabled source of the stock;
    its quantity counts the in-stock source items only. The row is salable when one of them is in
    stock and, for a managed SKU, the quantity is above the out-of-stock threshold (Magento's
    IsStockItemSalableCondition).
    """
    assigned = [item for item in source_items if item.source_id in enabled_source_codes]
    if not assigned:
        return ZERO
    in_stock = [item for item in assigned if item.status == SourceItemStatus.IN_STOCK]
    quantity = sum((item.quantity for item in in_stock), ZERO)
    min_qty = configuration.min_qty
    is_salable = bool(in_stock) and (not configuration.manage_stock or quantity - min_qty > ZERO)
    if not is_salable:
        return ZERO
    return quantity + reservations - min_qty


def salable_qty_get(*, sku: str, stock_id: int) -> Decimal:
    """``GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}``: what can still be sold.

    An unknown stock is Magento's 404; so is a SKU the inventory has never heard of (no source item,
    no stock options, no reservation), Magento's "product that was requested doesn't exist".
    """
    if not Stock.objects.filter(pk=stock_id).exists():
        raise InventoryNoSuchEntity.stock(stock_id)
    source_items = list(SourceItem.objects.filter(sku=sku))
    configuration = StockItemConfiguration.objects.filter(sku=sku).first()
    reservations = Reservation.objects.filter(stock_id=stock_id, sku=sku).aggregate(total=Sum("quantity"))["total"]
    if not source_items and configuration is None and reservations is None:
        raise InventoryNoSuchEntity.product()
    enabled = set(
        StockSourceLink.objects.filter(stock_id=stock_id, source__enabled=True).values_list("source_id", flat=True)
    )
    return salable_qty(
        source_items=source_items,
        enabled_source_codes=enabled,
        reservations=reservations or ZERO,
        configuration=configuration or StockItemConfiguration(sku=sku),
    )


# -- per-SKU summaries (the admin's Products page) -------------------------------------------------


@dataclass(frozen=True)
class StockSalable:
    stock_id: int
    stock_name: str
    salable_qty: Decimal | None  # None: the SKU's stock is not managed (Magento shows no number)


@dataclass
class SkuInventory:
    sku: str
    source_items: list[SourceItem] = field(default_factory=list)  # Quantity per Source, in source order
    stocks: list[StockSalable] = field(default_factory=list)  # Salable Quantity, per assigned stock


def sku_inventories(configurations: Sequence[StockItemConfiguration]) -> dict[str, SkuInventory]:
    """Quantity per Source and Salable Quantity per stock for these SKUs, in three queries whatever
    their number: the stock-source links, the SKUs' source items, their reservation sums per stock.

    A SKU's stocks are those linked to a source that holds it (Magento's GetAssignedStockIdsBySku).
    """
    skus = [configuration.sku for configuration in configurations]
    links = list(StockSourceLink.objects.select_related("stock", "source").order_by("stock_id", "priority"))
    items_by_sku: dict[str, list[SourceItem]] = defaultdict(list)
    for item in SourceItem.objects.filter(sku__in=skus).select_related("source").order_by("sku", "source_id"):
        items_by_sku[item.sku].append(item)
    reserved: Mapping[tuple[int, str], Decimal] = {
        (row["stock_id"], row["sku"]): row["total"]
        for row in Reservation.objects.filter(sku__in=skus)
        .values("stock_id", "sku")
        .annotate(total=Sum("quantity"))
        .order_by()
    }

    stocks: dict[int, Stock] = {}
    linked_sources: dict[int, set[str]] = defaultdict(set)
    enabled_sources: dict[int, set[str]] = defaultdict(set)
    for link in links:
        stocks[link.stock_id] = link.stock
        linked_sources[link.stock_id].add(link.source_id)
        if link.source.enabled:
            enabled_sources[link.stock_id].add(link.source_id)

    summaries = {}
    for configuration in configurations:
        items = items_by_sku.get(configuration.sku, [])
        held_by = {item.source_id for item in items}
        summary = SkuInventory(sku=configuration.sku, source_items=items)
        for stock_id, stock in stocks.items():
            if not held_by & linked_sources[stock_id]:
                continue
            quantity = None
            if configuration.manage_stock:
                quantity = salable_qty(
                    source_items=items,
                    enabled_source_codes=enabled_sources[stock_id],
                    reservations=reserved.get((stock_id, configuration.sku)) or ZERO,
                    configuration=configuration,
                )
            summary.stocks.append(StockSalable(stock_id=stock_id, stock_name=stock.name, salable_qty=quantity))
        summaries[configuration.sku] = summary
    return summaries


# -- the /V1 lists ----------------------------------------------------------------------------------


def sources() -> QuerySet[Source]:
    return Source.objects.all()


def source_items() -> QuerySet[SourceItem]:
    return SourceItem.objects.all()


def stocks() -> QuerySet[Stock]:
    return Stock.objects.all()


def stock_source_links() -> QuerySet[StockSourceLink]:
    return StockSourceLink.objects.all()
