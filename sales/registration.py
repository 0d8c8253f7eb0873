"""What an invoice adds to its order and order rows when it registers, and takes back when canceled.

One table of columns drives both directions, so a cancellation is the exact inverse of the
registration it undoes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sales.models import Invoice, InvoiceItem, Order
from sales.money import as_decimal

ITEM_REGISTER = {  # order item column += invoice row column
    "row_invoiced": "row_total",
    "base_row_invoiced": "base_row_total",
    "tax_invoiced": "tax_amount",
    "base_tax_invoiced": "base_tax_amount",
    "discount_invoiced": "discount_amount",
    "base_discount_invoiced": "base_discount_amount",
    "discount_tax_compensation_invoiced": "discount_tax_compensation_amount",
    "base_discount_tax_compensation_invoiced": "base_discount_tax_compensation_amount",
}
ORDER_REGISTER = {  # order column += invoice column
    "total_invoiced": "grand_total",
    "base_total_invoiced": "base_grand_total",
    "subtotal_invoiced": "subtotal",
    "base_subtotal_invoiced": "base_subtotal",
    "tax_invoiced": "tax_amount",
    "base_tax_invoiced": "base_tax_amount",
    "discount_tax_compensation_invoiced": "discount_tax_compensation_amount",
    "base_discount_tax_compensation_invoiced": "base_discount_tax_compensation_amount",
    "shipping_invoiced": "shipping_amount",
    "base_shipping_invoiced": "base_shipping_amount",
    "discount_invoiced": "discount_amount",  # accumulates the negative invoice discounts
    "base_discount_invoiced": "base_discount_amount",
    "base_total_invoiced_cost": "base_cost",
}
ORDER_PAID = {"total_paid": "grand_total", "base_total_paid": "base_grand_total"}

REGISTERED_ITEM_FIELDS = ["qty_invoiced", *ITEM_REGISTER]
REGISTERED_ORDER_FIELDS = [*ORDER_REGISTER, *ORDER_PAID]


def _apply(target, source, columns: dict[str, str], sign: int) -> None:
    for target_field, source_field in columns.items():
        amount = getattr(source, source_field)
        if amount is not None:
            setattr(target, target_field, as_decimal(getattr(target, target_field)) + sign * amount)


def register_invoice(invoice: Invoice, rows: Iterable[InvoiceItem], order: Order, *, sign: int = 1) -> None:
    """Add (or, with ``sign=-1``, take back) an invoice on its order rows and order, in memory."""
    for row in rows:
        item = row.order_item
        item.qty_invoiced += sign * row.qty
        _apply(item, row, ITEM_REGISTER, sign)
    _apply(order, invoice, ORDER_REGISTER, sign)


def pay_order(invoice: Invoice, order: Order, *, sign: int = 1) -> None:
    """The order's paid totals take (or give back) the invoice's grand total."""
    _apply(order, invoice, ORDER_PAID, sign)
