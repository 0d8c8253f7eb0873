"""The rules of an order's rows: which row carries the money, what is left to invoice or ship.

Magento's composite lines are a parent row with children. ``product_options.product_calculations``
says who is priced: ``0`` the children (dynamic bundle), anything else the parent (configurable,
fixed bundle). The other side is a *dummy* row: it is invoiced for its quantity but carries no
money, and the collectors skip it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from sales.models import CALCULATE_CHILD, SHIPMENT_SEPARATELY, InvoiceItem, OrderItem
from sales.money import QTY_PRECISION, ZERO


def _option(item: OrderItem, key: str):
    value = (item.product_options or {}).get(key)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class ItemTree:
    """An order's rows with their parent/child links, loaded once and read in memory."""

    def __init__(self, items: Iterable[OrderItem]):
        self.items: list[OrderItem] = sorted(items, key=lambda item: item.pk)
        self.by_id: dict[int, OrderItem] = {item.pk: item for item in self.items}
        self._children: dict[int, list[OrderItem]] = defaultdict(list)
        for item in self.items:
            if item.parent_item_id is not None:
                self._children[item.parent_item_id].append(item)

    def parent(self, item: OrderItem) -> OrderItem | None:
        return self.by_id.get(item.parent_item_id) if item.parent_item_id is not None else None

    def children(self, item: OrderItem) -> list[OrderItem]:
        return self._children.get(item.pk, [])

    def has_children(self, item: OrderItem) -> bool:
        return bool(self._children.get(item.pk))

    def _line_head(self, item: OrderItem) -> OrderItem:
        return self.parent(item) or item

    # -- invoicing ---------------------------------------------------------------------------

    def children_calculated(self, item: OrderItem) -> bool:
        return _option(self._line_head(item), "product_calculations") == CALCULATE_CHILD

    def is_dummy(self, item: OrderItem) -> bool:
        """A row invoiced for its quantity only: the side of a composite line without the price."""
        if self.has_children(item):
            return self.children_calculated(item)
        if self.parent(item) is not None:
            return not self.children_calculated(item)
        return False

    def qty_to_invoice(self, item: OrderItem) -> Decimal:
        if self.is_dummy(item):
            return ZERO
        return max(item.qty_ordered - item.qty_invoiced - item.qty_canceled, ZERO)

    def can_invoice_any(self) -> bool:
        return any(self.qty_to_invoice(item) > 0 and not item.locked_do_invoice for item in self.items)

    def takes_the_rest(self, item: OrderItem, qty: Decimal) -> bool:
        """An invoice of ``qty`` takes all the money left on this priced row, each remainder whole.

        The money left (``row_total - row_invoiced``, tax and discount alike) is that of every unit not
        invoiced, canceled ones included, and a share of it is prorated over ``qty_ordered - qty_invoiced``.
        Magento's Invoice Item ``isLast`` compares ``qty`` with ``qty_to_invoice``, which leaves canceled
        units out, and so bills them with the row's last units; here only an invoice of every unit whose
        money is left takes the rest, and canceled units are never billed.
        """
        return not self.is_dummy(item) and qty == item.qty_ordered - item.qty_invoiced

    def takes_every_rest(self, quantities: dict[int, Decimal]) -> bool:
        """The order's last invoice, which bills the order's remainders whole: it takes the rest of every priced
        row (a row it leaves out takes 0, the rest only of a row already invoiced in full), so never while a
        row has canceled units left."""
        return all(
            self.takes_the_rest(item, quantities.get(item.pk, ZERO))
            for item in self.items
            if not self.is_dummy(item) and not item.locked_do_invoice
        )

    def ratio(self, child: OrderItem) -> Decimal:
        """Units of the child in one unit of its parent (a bundle selection's qty, 1 for a configurable)."""
        parent = self.parent(child)
        assert parent is not None  # asked of a child row only
        return child.qty_ordered / parent.qty_ordered

    # -- shipping (for the order state after invoicing) ------------------------------------------

    def ships_separately(self, item: OrderItem) -> bool:
        return _option(self._line_head(item), "shipment_type") == SHIPMENT_SEPARATELY

    def is_dummy_for_shipment(self, item: OrderItem) -> bool:
        if self.has_children(item):
            return self.ships_separately(item)
        if self.parent(item) is not None:
            return not self.ships_separately(item)
        return False

    def qty_to_ship(self, item: OrderItem) -> Decimal:
        if self.is_dummy_for_shipment(item):
            return ZERO
        return max(item.qty_ordered - max(item.qty_shipped, item.qty_refunded) - item.qty_canceled, ZERO)

    def can_ship_any(self) -> bool:
        return any(
            not item.is_virtual and not item.locked_do_ship and self.qty_to_ship(item) > 0 for item in self.items
        )


def _uninvoiced(item: OrderItem) -> Decimal:
    return max(item.qty_ordered - item.qty_invoiced - item.qty_canceled, ZERO)


def _whole_unless_decimal(qty: Decimal, item: OrderItem, rounding=ROUND_HALF_UP) -> Decimal:
    step = QTY_PRECISION if item.is_qty_decimal else Decimal("1")
    return qty.quantize(step, rounding=rounding)


def invoice_quantities(tree: ItemTree, requested: dict[int, Decimal]) -> dict[int, Decimal]:
    """The quantity of every row an invoice takes, children derived from parents by ratio.

    ``requested`` maps order item ids to quantities; empty means "everything still to invoice".
    Money-carrying rows take what was asked (a configurable or fixed bundle may be named by its
    parent or by a child; a dynamic bundle's children by themselves or through their parent).
    Dummy rows follow by ratio, and the row that finishes its line takes the exact remainder,
    so a line never ends over- or under-invoiced (unlike Magento's full-qty dummies, #5076).
    Rows that come to zero are left out.
    """
    qty: dict[int, Decimal] = {}

    for item in tree.items:
        if tree.is_dummy(item) or item.locked_do_invoice:
            continue
        if not requested:
            qty[item.pk] = tree.qty_to_invoice(item)
            continue
        if item.pk in requested:
            qty[item.pk] = requested[item.pk]
        elif tree.has_children(item):
            # A priced parent named through one of its children: the child's qty by ratio.
            named = [child for child in tree.children(item) if child.pk in requested]
            if named:
                child = named[0]
                qty[item.pk] = _whole_unless_decimal(requested[child.pk] / tree.ratio(child), item)
        elif (parent := tree.parent(item)) is not None and parent.pk in requested:
            # A priced child (dynamic bundle) named through its parent.
            parent_qty = requested[parent.pk]
            if parent_qty >= _uninvoiced(parent):
                qty[item.pk] = tree.qty_to_invoice(item)
            else:
                qty[item.pk] = min(
                    _whole_unless_decimal(parent_qty * tree.ratio(item), item), tree.qty_to_invoice(item)
                )

    for item in tree.items:
        if not tree.is_dummy(item) or item.locked_do_invoice:
            continue
        parent = tree.parent(item)
        if parent is not None:
            # Dummy child of a priced parent: follows the parent by ratio; the last unit takes the rest.
            parent_qty = qty.get(parent.pk, ZERO)
            if parent_qty <= 0:
                continue
            if parent_qty >= _uninvoiced(parent):
                qty[item.pk] = _uninvoiced(item)
            else:
                qty[item.pk] = min(_whole_unless_decimal(parent_qty * tree.ratio(item), item), _uninvoiced(item))
        else:
            # Dummy parent of priced children: invoiced as far as its furthest child has gone.
            children = tree.children(item)
            if not any(qty.get(child.pk, ZERO) > 0 for child in children):
                continue
            progress = max((child.qty_invoiced + qty.get(child.pk, ZERO)) / tree.ratio(child) for child in children)
            progress = _whole_unless_decimal(progress, item, rounding=ROUND_CEILING)
            invoiced_after = min(progress, item.qty_ordered - item.qty_canceled)
            qty[item.pk] = max(invoiced_after - item.qty_invoiced, ZERO)

    return {item.pk: qty[item.pk] for item in tree.items if qty.get(item.pk, ZERO) > 0}


def invoice_rows_parent_first(rows: Iterable[InvoiceItem]) -> list[tuple[InvoiceItem, bool]]:
    """(row, is_child): each top-level row followed by its children (bundle options, a
    configurable's simple product), as Magento lists an invoice's rows on its page and PDF.
    The rows' order items must be loaded."""
    rows = list(rows)
    invoiced_lines = {row.order_item_id for row in rows}
    children: dict[int, list[InvoiceItem]] = defaultdict(list)
    top_level = []
    for row in rows:
        parent_id = row.order_item.parent_item_id
        if parent_id is not None and parent_id in invoiced_lines:
            children[parent_id].append(row)
        else:
            top_level.append(row)
    ordered = []
    for row in top_level:
        ordered.append((row, False))
        ordered.extend((child, True) for child in children.get(row.order_item_id, ()))
    return ordered
