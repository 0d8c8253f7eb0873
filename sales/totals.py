"""The invoice total collectors, in Magento's order: subtotal, discount, shipping, tax, cost, grand.

Pure functions over unsaved model instances: no database. Every amount is computed twice, in the
order currency and in the base currency, each with its own delta rounder. "Remaining" values are
the order's and order items' state before this invoice registers.

Deliberate differences from Magento 2.4 (reference section 4), each for invoices that add up:
- "Has shipping / a discount already been billed?" is read from the order's ``*_invoiced``
  totals, which canceling an invoice reverts; Magento scans the order's invoices and forgets to
  skip canceled ones for the shipping discount (#36792).
- Shipping's discount tax compensation is billed with the shipping and kept in the invoice's
  shipping field; Magento never records it as invoiced and so can bill it twice.
- A row's discount share is kept within the row's billed amount (``_within_billed_row``), so a
  fully discounted row never leaves an invoice at -0.01.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sales.models import Invoice, InvoiceItem, Order
from sales.money import ZERO, DeltaRounder, as_decimal, is_zero

CURRENCIES = (("", "regular"), ("base_", "base"))  # (field prefix, rounder key)


@dataclass
class InvoiceItemDraft:
    """A row being invoiced: the unsaved InvoiceItem, and what its order row's place on the order tells the
    collectors (worked out once, from the order's rows, when the draft is made)."""

    row: InvoiceItem
    is_dummy: bool  # its money sits on its line's other side: it bills no amount of its own
    has_children: bool  # a composite parent: its cost is its children's
    is_last: bool  # it takes every uninvoiced unit of its order row (none canceled): remainders whole, no share


@dataclass
class InvoiceDraft:
    """An invoice being built: the header, its rows, and the per-invoice rounders."""

    invoice: Invoice
    items: list[InvoiceItemDraft]
    order: Order
    is_last: bool  # the order's last invoice: every priced row with money left is taken whole
    rounder: DeltaRounder = field(default_factory=DeltaRounder)

    @property
    def rows(self) -> list[InvoiceItem]:
        return [item.row for item in self.items]

    @property
    def priced_items(self) -> list[InvoiceItemDraft]:
        return [item for item in self.items if not item.is_dummy]


def _get(obj, name: str):
    return as_decimal(getattr(obj, name))


def _remaining_qty(row: InvoiceItem):
    item = row.order_item
    return item.qty_ordered - item.qty_invoiced


def _share(draft: InvoiceDraft, drafted: InvoiceItemDraft, amount, key: str, *, negative: bool = False):
    """The row's share of an order item's remaining amount: all of it on its last invoice."""
    if drafted.is_last:
        return amount
    row = drafted.row
    return draft.rounder.round(amount * row.qty / _remaining_qty(row), key, negative=negative)


def shipping_already_billed(order: Order) -> bool:
    return not is_zero(order.shipping_invoiced)


def collect_subtotal(draft: InvoiceDraft) -> None:
    order, invoice = draft.order, draft.invoice
    for prefix, key in CURRENCIES:
        rows_total = ZERO
        incl_tax_total = ZERO
        for drafted in draft.priced_items:
            row, item = drafted.row, drafted.row.order_item
            remaining = _get(item, f"{prefix}row_total") - _get(item, f"{prefix}row_invoiced")
            row_total = _share(draft, drafted, remaining, key)
            setattr(row, f"{prefix}row_total", row_total)
            rows_total += row_total
            if not is_zero(item.row_total_incl_tax) and not is_zero(item.base_row_total_incl_tax):
                # Magento splits the incl-tax row over the full ordered qty, never a remainder.
                incl_key = "including" if key == "regular" else "including_base"
                row_incl = draft.rounder.round(
                    _get(item, f"{prefix}row_total_incl_tax") * row.qty / item.qty_ordered, incl_key
                )
                setattr(row, f"{prefix}row_total_incl_tax", row_incl)
                incl_tax_total += row_incl
        allowed = _get(order, f"{prefix}subtotal") - _get(order, f"{prefix}subtotal_invoiced")
        subtotal = allowed if draft.is_last else min(allowed, rows_total)
        setattr(invoice, f"{prefix}subtotal", subtotal)
        setattr(invoice, f"{prefix}subtotal_incl_tax", incl_tax_total)
        setattr(invoice, f"{prefix}grand_total", subtotal)


def collect_discount(draft: InvoiceDraft) -> None:
    order, invoice = draft.order, draft.invoice
    # The shipping discount goes with the first invoice that carries a discount.
    add_shipping_discount = is_zero(order.discount_invoiced)
    for prefix, key in CURRENCIES:
        total = _get(order, f"{prefix}shipping_discount_amount") if add_shipping_discount else ZERO
        for drafted in draft.priced_items:
            row, item = drafted.row, drafted.row.order_item
            if is_zero(item.discount_amount) or is_zero(item.qty_ordered):
                continue
            remaining = _get(item, f"{prefix}discount_amount") - _get(item, f"{prefix}discount_invoiced")
            discount = _share(draft, drafted, remaining, key, negative=True)
            if not drafted.is_last and _get(item, f"{prefix}discount_amount") <= _get(item, f"{prefix}row_total"):
                discount = _within_billed_row(draft, row, prefix, discount, remaining)
            setattr(row, f"{prefix}discount_amount", discount)
            total += discount
        setattr(invoice, f"{prefix}discount_amount", -total)
        grand = _get(invoice, f"{prefix}grand_total") - total
        setattr(invoice, f"{prefix}grand_total", ZERO if is_zero(grand) else grand)


def _within_billed_row(draft: InvoiceDraft, row: InvoiceItem, prefix: str, discount, remaining_discount):
    """Keep a row's discount between what leaves the rest payable and what this invoice bills.

    Row totals and discounts round apart, so a 100 % discount could otherwise take 1.10 of a
    row billed 1.09 and leave the row's last invoice at -0.01 (Magento does). Clamped, the row's
    invoiced discount never passes its invoiced amount, and the last invoice's remainders agree.
    """
    item = row.order_item
    billed = _get(row, f"{prefix}row_total")
    remaining_row = _get(item, f"{prefix}row_total") - _get(item, f"{prefix}row_invoiced")
    at_least = remaining_discount - (remaining_row - billed)
    return min(max(discount, at_least), billed)


def collect_shipping(draft: InvoiceDraft) -> None:
    """All of the shipping goes on the first invoice that is not canceled."""
    order, invoice = draft.order, draft.invoice
    if is_zero(order.shipping_amount) or shipping_already_billed(order):
        return
    for prefix, _key in CURRENCIES:
        setattr(invoice, f"{prefix}shipping_amount", _get(order, f"{prefix}shipping_amount"))
        setattr(invoice, f"{prefix}shipping_incl_tax", getattr(order, f"{prefix}shipping_incl_tax"))
        grand = _get(invoice, f"{prefix}grand_total") + _get(order, f"{prefix}shipping_amount")
        setattr(invoice, f"{prefix}grand_total", grand)


def collect_tax(draft: InvoiceDraft) -> None:
    order, invoice = draft.order, draft.invoice
    includes_shipping = not shipping_already_billed(order)
    item_tax = {"": ZERO, "base_": ZERO}
    item_compensation = {"": ZERO, "base_": ZERO}
    # Rows are the outer loop: the regular and base rounders each see the rows in order, the
    # tax then the compensation of each row, as Magento's collector calls them.
    for drafted in draft.priced_items:
        row, item = drafted.row, drafted.row.order_item
        for prefix, key in CURRENCIES:
            tax = _get(item, f"{prefix}tax_amount") - _get(item, f"{prefix}tax_invoiced")
            compensation = _get(item, f"{prefix}discount_tax_compensation_amount") - _get(
                item, f"{prefix}discount_tax_compensation_invoiced"
            )
            if (not is_zero(item.tax_amount) or not is_zero(item.discount_tax_compensation_amount)) and not is_zero(
                item.qty_ordered
            ):
                tax = _share(draft, drafted, tax, key)
                compensation = _share(draft, drafted, compensation, key)
            else:
                tax = compensation = ZERO
            setattr(row, f"{prefix}tax_amount", tax)
            setattr(row, f"{prefix}discount_tax_compensation_amount", compensation)
            item_tax[prefix] += tax
            item_compensation[prefix] += compensation

    for prefix, _key in CURRENCIES:
        shipping_tax = shipping_compensation = ZERO
        if includes_shipping:
            shipping_tax = _get(order, f"{prefix}shipping_tax_amount")
            compensation_field = (
                "shipping_discount_tax_compensation_amount"
                if prefix == ""
                else "base_shipping_discount_tax_compensation_amnt"
            )
            shipping_compensation = _get(order, compensation_field)
            setattr(invoice, f"{prefix}shipping_tax_amount", getattr(order, f"{prefix}shipping_tax_amount"))
            setattr(invoice, compensation_field, getattr(order, compensation_field))

        allowed_tax = _get(order, f"{prefix}tax_amount") - _get(order, f"{prefix}tax_invoiced")
        allowed_compensation = _get(order, f"{prefix}discount_tax_compensation_amount") - _get(
            order, f"{prefix}discount_tax_compensation_invoiced"
        )
        if draft.is_last:
            tax, compensation = allowed_tax, allowed_compensation
        else:
            tax = min(allowed_tax, item_tax[prefix] + shipping_tax)
            compensation = min(allowed_compensation, item_compensation[prefix])
        setattr(invoice, f"{prefix}tax_amount", tax)
        setattr(invoice, f"{prefix}discount_tax_compensation_amount", compensation)
        grand = _get(invoice, f"{prefix}grand_total") + tax + compensation + shipping_compensation
        setattr(invoice, f"{prefix}grand_total", grand)


def collect_cost(draft: InvoiceDraft) -> None:
    """Cost of goods in base currency, from the rows that are not composite parents."""
    cost = ZERO
    for drafted in draft.items:
        row = drafted.row
        if drafted.has_children or row.order_item.base_cost is None:
            continue
        cost += row.order_item.base_cost * row.qty
    draft.invoice.base_cost = cost


def collect_grand(draft: InvoiceDraft) -> None:
    """Each collector has added its part; the grand total is settled."""


COLLECTORS = (collect_subtotal, collect_discount, collect_shipping, collect_tax, collect_cost, collect_grand)


def collect_totals(draft: InvoiceDraft) -> None:
    for collector in COLLECTORS:
        collector(draft)


def row_total_after_discount(row: InvoiceItem):
    """Magento's "Row Total" column of an invoice row: its subtotal plus tax (and the discount's tax
    compensation), less its discount. None for a dummy row, whose money sits on its line's other side."""
    if row.row_total is None:
        return None
    return (
        as_decimal(row.row_total)
        + as_decimal(row.tax_amount)
        + as_decimal(row.discount_tax_compensation_amount)
        - as_decimal(row.discount_amount)
    )
