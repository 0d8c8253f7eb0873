"""Inventory writes: reservations, the invoice's source deduction, source item quantities, the cleanup.

Magento's MSI rules (shared reference, section 10), each in one function:

* ``reservations_place``: a sales event holds a signed quantity per SKU on a stock (order placed: ``-qty``).
* ``source_deduct_for_invoice``: a new invoice's virtual and downloadable rows leave their sources now
  (physical rows leave at shipment), taken by the stock's source priority, then the compensating
  ``+qty`` reservation (``invoice_created``) is appended. Called inside the invoice's transaction.
* ``source_return_for_invoice``: a canceled or voided invoice gives back what it took, to the same sources;
  an item its deductions set out of stock may go back in stock, one staff set out of stock stays out.
* ``source_items_save``: set the quantity and status of SKUs per source (``POST /V1/inventory/source-items``,
  the admin, ``load_demo``), re-run when it loses a race to a concurrent write.
* ``reservations_cleanup``: delete reservation groups that add up to zero (Magento's daily cron).

Reads (the salable quantity) are in ``inventory.selectors``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import transaction
from django.db.models import F, Sum, Window
from django.db.models.fields.json import KT

from inventory.errors import InventoryInputError, InventoryValidationError, NotEnoughStock
from inventory.models import (
    DEFAULT_STOCK_ID,
    SKU_MAX_LENGTH,
    SOURCE_CODE_MAX_LENGTH,
    ZERO,
    InvoiceSource,
    Reservation,
    Source,
    SourceItem,
    SourceItemStatus,
    StockItemConfiguration,
)
from inventory.quantity import as_number, qty_fits

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger("counterfoil.inventory")

# PostgreSQL's SQLSTATEs of a lost race a re-run may win: serialization_failure, deadlock_detected.
# Magento's product types with source items (isQty="true" in product_types.xml).
SOURCE_ITEM_PRODUCT_TYPES = frozenset({"simple", "virtual", "downloadable"})


class EventType:
    """``metadata.event_type`` of a reservation (Magento's SalesEventInterface)."""

    ORDER_PLACED = "order_placed"
    ORDER_CANCELED = "order_canceled"
    ORDER_PLACE_FAILED = "order_place_failed"
    SHIPMENT_CREATED = "shipment_created"
    CREDITMEMO_CREATED = "creditmemo_created"
    INVOICE_CREATED = "invoice_created"
    # Ours: a canceled or voided invoice hands its quantities back to the order's reservation.
    INVOICE_CANCELED = "invoice_canceled"


@dataclass(frozen=True)
class SalesEvent:
    """Why a reservation was placed, and for which sales object."""

    event_type: str
    object_id: str
    object_increment_id: str
    object_type: str = "order"

    def as_metadata(self) -> dict:
        return {
            "event_type": self.event_type,
            "object_type": self.object_type,
            "object_id": str(self.object_id),
            "object_increment_id": str(self.object_increment_id),
        }


@dataclass(frozen=True)
class ItemToSell:
    """A SKU and the signed quantity a sales event reserves (negative: held for a sale)."""

    sku: str
    qty: Decimal


@dataclass(frozen=True)
class InvoicedItem:
    """An invoice row the sources give up now: a non-dummy virtual or downloadable order row."""

    sku: str
    qty: Decimal
    is_qty_decimal: bool = False
    product_type: str = "virtual"


@dataclass(frozen=True)
class SourceDeduction:
    """What one source gave up for one SKU."""

    source_code: str
    sku: str
    qty: Decimal


@dataclass(frozen=True)
class SourceItemData:
    """One entry of ``POST /V1/inventory/source-items``, as sent (validated by ``source_items_save``)."""

    sku: Any
    source_code: Any
    quantity: Any
    status: Any


@dataclass(frozen=True)
class SettledGroup:
    """Reservations of one sales object on one stock's SKU that added up to zero, deleted by the cleanup."""

    stock_id: int
    sku: str
    object_type: str | None
    object_id: str | None
    object_increment_id: str | None
    reservations: int


# -- which stock ----------------------------------------------------------------------------------


def stock_resolve(*, store_id: int) -> int:
    """The stock a store sells from. Every store sells from the Default Stock until sales channels
    (Magento's ``inventory_stock_sales_channel``) are added."""
    return DEFAULT_STOCK_ID


def stock_configurations(skus: Iterable[str]) -> dict[str, StockItemConfiguration]:
    """Each SKU's stock options; a SKU without a row gets Magento's defaults (managed, threshold 0)."""
    skus = set(skus)
    found = {config.sku: config for config in StockItemConfiguration.objects.filter(sku__in=skus)}
    return {sku: found.get(sku) or StockItemConfiguration(sku=sku) for sku in skus}


# -- reservations ---------------------------------------------------------------------------------


def reservations_place(*, stock_id: int, items: Iterable[ItemToSell], event: SalesEvent) -> list[Reservation]:
    """Append one reservation per SKU (quantities of the same SKU added up), in one INSERT."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in items:
        totals[item.sku] += item.qty
    reservations = [
        Reservation(stock_id=stock_id, sku=sku, quantity=qty, metadata=event.as_metadata())
        for sku, qty in totals.items()
        if qty != ZERO
    ]
    if reservations:
        Reservation.objects.bulk_create(reservations)
    return reservations


def reservations_place_for_order(
    *, stock_id: int, order_id: int, order_increment_id: str, rows: Iterable[tuple[str, str, Decimal]]
) -> list[Reservation]:
    """``order_placed``: ``-qty`` for every (sku, product_type, qty_ordered) row whose type has source items."""
    items = [ItemToSell(sku=sku, qty=-qty) for sku, kind, qty in rows if kind in SOURCE_ITEM_PRODUCT_TYPES]
    event = SalesEvent(EventType.ORDER_PLACED, object_id=str(order_id), object_increment_id=order_increment_id)
    return reservations_place(stock_id=stock_id, items=items, event=event)


# -- the invoice's deduction ----------------------------------------------------------------------


def invoiced_qty(qty: Decimal, *, is_qty_decimal: bool) -> Decimal:
    """Magento's castQty: whole units unless the row sells fractions (truncated, as PHP's (int)); never below 0."""
    qty = qty if is_qty_decimal else Decimal(int(qty))
    return qty if qty > ZERO else ZERO


def source_deduct_for_invoice(
    *, stock_id: int, items: Sequence[InvoicedItem], order_id: int, order_increment_id: str
) -> list[SourceDeduction]:
    """Take a new invoice's virtual and downloadable quantities out of the stock's sources, by priority.

    Runs inside the caller's transaction (the invoice's): the SKUs' source items are locked
    (``SELECT ... FOR UPDATE``, ordered by SKU and source so parallel invoices queue without
    deadlocks) and read under the lock. For each SKU whose stock is managed and that is assigned to
    a source of the stock, the enabled sources are taken in link priority, each giving what it
    holds while in stock. If they cannot cover the quantity, ``NotEnoughStock`` is raised before
    anything is written. Then the source items are updated in one statement and the compensating
    ``+qty`` reservations (``invoice_created``) appended in another.

    Deliberate differences from Magento (section 10): a shortfall refuses the invoice (Magento's
    source selection deducts what it finds and leaves the rest reserved for ever); a SKU assigned
    to no source of the stock, or with stock management off, is not deducted but still gets its
    compensating reservation, so the order's reservations always come back to zero.
    """
    requested = _invoiced_by_sku(items)
    if not requested:
        return []

    with transaction.atomic(savepoint=False):
        configurations = stock_configurations(requested)
        managed = sorted(sku for sku in requested if configurations[sku].manage_stock)
        deductions, touched = _take_by_priority(stock_id, managed, requested, configurations) if managed else ([], [])
        if touched:
            SourceItem.objects.bulk_update(touched, ["quantity", "status", "stock_status_changed_auto"])
        event = SalesEvent(EventType.INVOICE_CREATED, object_id=str(order_id), object_increment_id=order_increment_id)
        reservations_place(
            stock_id=stock_id, items=[ItemToSell(sku=sku, qty=qty) for sku, qty in requested.items()], event=event
        )
    return deductions


def invoice_source_record(*, invoice_id: int, deductions: Sequence[SourceDeduction]) -> None:
    """Keep which sources an invoice took from (called once the invoice has its id)."""
    InvoiceSource.objects.bulk_create(
        InvoiceSource(invoice_id=invoice_id, source_id=d.source_code, sku=d.sku, quantity=d.qty) for d in deductions
    )


def source_return_for_invoice(
    *, stock_id: int, invoice_id: int, items: Sequence[InvoicedItem], order_id: int, order_increment_id: str
) -> list[SourceDeduction]:
    """A canceled or voided invoice gives back what it took, to the sources it took it from, and its
    rows are reserved for the order again (``invoice_canceled``, the exact opposite of ``invoice_created``):
    the order can be invoiced again without the sources paying twice, and its salable quantity is unchanged.
    Magento keeps the deduction of a canceled invoice, so invoicing the rows again deducts them twice.
    """
    requested = _invoiced_by_sku(items)
    with transaction.atomic(savepoint=False):
        taken = list(InvoiceSource.objects.filter(invoice_id=invoice_id))
        returned: list[SourceDeduction] = []
        if taken:
            locked = {
                (item.source_id, item.sku): item
                for item in SourceItem.objects.select_for_update(of=("self",))
                .filter(sku__in={row.sku for row in taken}, source_id__in={row.source_id for row in taken})
                .order_by("sku", "source_id")  # the deduction's lock order: no deadlocks
            }
            configurations = stock_configurations({row.sku for row in taken})
            for row in taken:
                source_item = locked.get((row.source_id, row.sku))
                if source_item is None:  # the source item was removed since: nothing to give back to
                    continue
                source_item.quantity += row.quantity
                if back_in_stock(source_item, configurations[row.sku]):
                    source_item.status = SourceItemStatus.IN_STOCK
                returned.append(SourceDeduction(source_code=row.source_id, sku=row.sku, qty=row.quantity))
            SourceItem.objects.bulk_update(locked.values(), ["quantity", "status"])
            InvoiceSource.objects.filter(invoice_id=invoice_id).delete()
        event = SalesEvent(EventType.INVOICE_CANCELED, object_id=str(order_id), object_increment_id=order_increment_id)
        reservations_place(
            stock_id=stock_id, items=[ItemToSell(sku=sku, qty=-qty) for sku, qty in requested.items()], event=event
        )
    return returned


def back_in_stock(source_item: SourceItem, configuration: StockItemConfiguration) -> bool:
    """Whether quantities given back set an out-of-stock source item in stock again: Magento's
    "Set Items' Status to be In Stock When Order is Cancelled" (``can_back_in_stock``, on by default:
    above the out-of-stock threshold) for a status set automatically only. A status staff or an
    integration set (``stock_status_changed_auto`` off) stays, as Magento's automatic back-in-stock
    updates (``updateSetInStock``, ``ChangeParentStockStatus``) leave a manual out-of-stock alone."""
    return (
        source_item.status == SourceItemStatus.OUT_OF_STOCK
        and source_item.stock_status_changed_auto
        and source_item.quantity > configuration.min_qty
    )


def _invoiced_by_sku(items: Sequence[InvoicedItem]) -> dict[str, Decimal]:
    """The quantity per SKU an invoice's rows move: Magento's cast, types with source items only."""
    requested: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in items:
        qty = invoiced_qty(item.qty, is_qty_decimal=item.is_qty_decimal)
        if qty > ZERO and item.product_type in SOURCE_ITEM_PRODUCT_TYPES:
            requested[item.sku] += qty
    return requested


class _SourceInStock(TypedDict):
    """What _take_by_priority annotates a source item with: its source's link to the stock."""

    priority: int
    source_enabled: bool


def _take_by_priority(
    stock_id: int,
    skus: list[str],
    requested: Mapping[str, Decimal],
    configurations: Mapping[str, StockItemConfiguration],
) -> tuple[list[SourceDeduction], list[SourceItem]]:
    """Magento's priority source selection over locked rows; raises NotEnoughStock before any write."""
    locked = list(
        SourceItem.objects.select_for_update(of=("self",))
        .filter(sku__in=skus, source__stock_links__stock_id=stock_id)
        .annotate(priority=F("source__stock_links__priority"), source_enabled=F("source__enabled"))
        .order_by("sku", "source_id")  # one lock order for every transaction: no deadlocks
    )
    by_sku: dict[str, list[WithAnnotations[SourceItem, _SourceInStock]]] = defaultdict(list)
    for source_item in locked:
        by_sku[source_item.sku].append(source_item)

    deductions: list[SourceDeduction] = []
    touched: list[SourceItem] = []
    short: list[str] = []
    for sku in skus:
        if sku not in by_sku:
            continue  # assigned to no source of this stock: its inventory is not tracked here
        remaining = requested[sku]
        candidates = sorted(
            (item for item in by_sku[sku] if item.source_enabled and item.status == SourceItemStatus.IN_STOCK),
            key=lambda item: (item.priority, item.source_id),
        )
        for source_item in candidates:
            take = min(max(source_item.quantity, ZERO), remaining)
            if take <= ZERO:
                continue
            source_item.quantity -= take
            remaining -= take
            deductions.append(SourceDeduction(source_code=source_item.source_id, sku=sku, qty=take))
            touched.append(source_item)
            if remaining == ZERO:
                break
        if remaining > ZERO:
            short.append(sku)
    if short:
        logger.info("invoice refused: not enough stock %s on stock %s", short, stock_id)
        raise NotEnoughStock(short)

    for moved in touched:
        # Magento's getSourceStockStatus: at the threshold the item goes out of stock (never back in),
        # flagged as set automatically, so a later return may set it in stock again.
        if moved.quantity <= configurations[moved.sku].min_qty:
            moved.status = SourceItemStatus.OUT_OF_STOCK
            moved.stock_status_changed_auto = True
    return deductions, touched


# -- source items ---------------------------------------------------------------------------------


def _required_text(
    value: object, field: str, problems: list, *, max_length: int, no_whitespace: bool = False
) -> str | None:
    """Magento's NotAnEmptyString and NoWhitespaceInString checks, and the column's length."""
    if not isinstance(value, str) or not value.strip():
        problems.append(('"%field" can not be empty.', {"field": field}))
        return None
    if no_whitespace and any(char.isspace() for char in value):
        problems.append(('"%field" can not contain whitespaces.', {"field": field}))
        return None
    if len(value) > max_length:
        problems.append(('"%field" can not be longer than %max characters.', {"field": field, "max": max_length}))
        return None
    return value


def _quantity(value: object, field: str, problems: list) -> Decimal | None:
    number = as_number(value)
    if number is None:
        problems.append(('"%field" should be numeric.', {"field": field}))
        return None
    if number < ZERO:
        # Magento lets a source go negative (backorders); here a source never holds less than nothing.
        problems.append(('"%field" can not be negative.', {"field": field}))
        return None
    if not qty_fits(number):
        problems.append(('"%field" should be a quantity of at most 8 digits and 4 decimals.', {"field": field}))
        return None
    return number


def _status(value: object, field: str, problems: list) -> int | None:
    number = as_number(value)
    if number is None:
        problems.append(('"%field" should be numeric.', {"field": field}))
        return None
    if number not in (SourceItemStatus.OUT_OF_STOCK, SourceItemStatus.IN_STOCK):
        problems.append(('"%field" should a known status.', {"field": field}))  # sic: Magento's StatusValidator
        return None
    return int(number)


def source_items_validate(*, items: Sequence[SourceItemData]) -> list[SourceItem]:
    """The source items ``items`` describe, unsaved, or every problem at once (Magento's
    SourceItemsValidator: sku, source_code, quantity, status; and the source must exist).
    The last entry for the same SKU and source wins."""
    if not items:
        raise InventoryInputError("Input data is empty")
    problems: list[tuple[str, dict]] = []
    valid: dict[tuple[str, str], SourceItem] = {}
    codes: set[str] = set()
    for index, item in enumerate(items):
        path = f"sourceItems[{index}]."
        sku = _required_text(item.sku, f"{path}sku", problems, max_length=SKU_MAX_LENGTH)
        source_code = _required_text(
            item.source_code, f"{path}source_code", problems, max_length=SOURCE_CODE_MAX_LENGTH, no_whitespace=True
        )
        quantity = _quantity(item.quantity, f"{path}quantity", problems)
        status = _status(item.status, f"{path}status", problems)
        if source_code is not None:
            codes.add(source_code)
        # Each check returns None exactly when it reports a problem: all four set means this item is valid.
        if sku is not None and source_code is not None and quantity is not None and status is not None:
            valid[(source_code, sku)] = SourceItem(source_id=source_code, sku=sku, quantity=quantity, status=status)
    known = set(Source.objects.filter(source_code__in=codes).values_list("source_code", flat=True)) if codes else set()
    for code in sorted(codes - known):
        problems.append(('Source with code "%value" does not exist.', {"value": code}))
    if problems:
        raise InventoryValidationError(problems)
    return list(valid.values())


def source_items_save(*, items: Sequence[SourceItemData]) -> list[SourceItem]:
    """Set the quantity and stock status of SKUs per source (Magento's SourceItemsSave); all or nothing.

    A SKU new to a source is assigned to it (and gets default stock options), an assigned one takes
    the quantity and status given, in one upsert. Quantities are set, not added: the caller sends
    what the source holds now. The status is the caller's (``stock_status_changed_auto`` off).

    A save PostgreSQL chose as the loser of a deadlock or serialization failure is re-run by the project's
    one mechanism, ``sales.locking.retry_transient``, through ``sales.stock.source_items_save`` (the /V1 route
    and ``load_demo``); the admin's save runs inside the admin's transaction, which only it could re-run.
    """
    rows = source_items_validate(items=items)
    with transaction.atomic():
        return _source_items_upsert(rows)


def _source_items_upsert(rows: list[SourceItem]) -> list[SourceItem]:
    # Lock the rows being set, and insert the new ones, in the deduction's order (sku, source_code), so a
    # save queues behind a parallel invoice or save on the same rows instead of deadlocking with it.
    # Fresh instances each run: a rolled-back run leaves no primary key behind on them.
    ordered = [
        SourceItem(source_id=row.source_id, sku=row.sku, quantity=row.quantity, status=row.status)
        for row in sorted(rows, key=lambda row: (row.sku, row.source_id))
    ]
    list(
        SourceItem.objects.select_for_update()
        .filter(sku__in={row.sku for row in rows}, source_id__in={row.source_id for row in rows})
        .order_by("sku", "source_id")
        .values_list("pk", flat=True)
    )
    StockItemConfiguration.objects.bulk_create(
        [StockItemConfiguration(sku=sku) for sku in sorted({row.sku for row in rows})], ignore_conflicts=True
    )
    SourceItem.objects.bulk_create(
        ordered,
        update_conflicts=True,
        unique_fields=["source", "sku"],
        update_fields=["quantity", "status", "stock_status_changed_auto"],
    )
    return ordered


# -- cleanup --------------------------------------------------------------------------------------

_ZERO_TOLERANCE = Decimal("0.00005")  # SQLite adds decimals as floats; PostgreSQL is exact
_DELETE_CHUNK = 1000


def reservations_cleanup() -> list[SettledGroup]:
    """Delete every group of reservations that adds up to zero; returns what was deleted.

    A group is one sales object's reservations (``metadata.object_type`` + ``object_id``) on one
    stock's SKU: an order's ``-2`` and its invoice's ``+2``. Magento's cron groups by the sales object
    alone; grouping by stock and SKU too means a deletion never changes any salable quantity, even
    when one SKU of an order is settled and another is not.
    """
    object_type, object_id = KT("metadata__object_type"), KT("metadata__object_id")
    rows = list(
        Reservation.objects.annotate(
            object_type=object_type,
            object_id=object_id,
            increment_id=KT("metadata__object_increment_id"),  # object_increment_id is the model's property
            group_total=Window(Sum("quantity"), partition_by=[F("stock_id"), F("sku"), object_type, object_id]),
        )
        .filter(group_total__gt=-_ZERO_TOLERANCE, group_total__lt=_ZERO_TOLERANCE)
        .values_list("pk", "stock_id", "sku", "object_type", "object_id", "increment_id")
        .order_by("pk")
    )
    if not rows:
        return []
    groups: dict[tuple, list[int]] = defaultdict(list)
    increment_ids: dict[tuple, str | None] = {}
    for pk, stock_id, sku, kind, object_key, increment_id in rows:
        key = (stock_id, sku, kind, object_key)
        groups[key].append(pk)
        increment_ids.setdefault(key, increment_id)
    with transaction.atomic():
        ids = [pk for pk, *_rest in rows]
        for start in range(0, len(ids), _DELETE_CHUNK):
            Reservation.objects.filter(pk__in=ids[start : start + _DELETE_CHUNK]).delete_settled()
    settled = [
        SettledGroup(
            stock_id=key[0],
            sku=key[1],
            object_type=key[2],
            object_id=key[3],
            object_increment_id=increment_ids[key],
            reservations=len(pks),
        )
        for key, pks in groups.items()
    ]
    logger.info("deleted %d reservations in %d zero-sum groups", len(rows), len(settled))
    return settled
