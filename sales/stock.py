"""Where invoices meet the inventory: which rows move stock, and the sales-side wording of a refusal.

Magento's VirtualSourceDeductionProcessor: a new invoice's non-dummy virtual and downloadable rows
leave their sources in the invoice's transaction (physical rows leave at shipment). Canceling or
voiding the invoice gives them back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from inventory.errors import NotEnoughStock
from inventory.services import (
    InvoicedItem,
    SourceDeduction,
    invoice_source_record,
    source_deduct_for_invoice,
    source_return_for_invoice,
    stock_resolve,
)
from sales.errors import DomainError
from sales.items import ItemTree
from sales.models import Invoice, InvoiceItem, Order, OrderItem


def invoiced_virtual_items(rows: Iterable[InvoiceItem], is_dummy: Callable[[InvoiceItem], bool]) -> list[InvoicedItem]:
    """The rows whose quantities leave the sources at invoice time (their order items must be loaded)."""
    return [
        InvoicedItem(sku=row.order_item.sku, qty=row.qty, is_qty_decimal=row.order_item.is_qty_decimal,
                     product_type=row.order_item.product_type)
        for row in rows
        if row.order_item.is_virtual and not is_dummy(row)
    ]  # fmt: skip


def stock_deduct_for_invoice(rows: Iterable[InvoiceItem], order: Order) -> list[SourceDeduction]:
    """Take a new invoice's virtual rows (a draft's, which know whether they are dummies) out of the
    sources; not enough stock refuses the invoice."""
    items = invoiced_virtual_items(rows, lambda row: row.is_dummy)
    if not items:
        return []
    try:
        return source_deduct_for_invoice(
            stock_id=stock_resolve(store_id=order.store_id), items=items, order_id=order.pk,
            order_increment_id=order.increment_id,
        )  # fmt: skip
    except NotEnoughStock as refusal:
        raise DomainError(refusal.template, code=refusal.code) from refusal


def stock_record_for_invoice(invoice: Invoice, deductions: list[SourceDeduction]) -> None:
    if deductions:
        invoice_source_record(invoice_id=invoice.pk, deductions=deductions)


def stock_return_for_invoice(invoice: Invoice, rows: Iterable[InvoiceItem], order: Order) -> None:
    """A canceled or voided invoice's virtual rows go back to the sources they left."""
    rows = list(rows)
    if not any(row.order_item.is_virtual for row in rows):
        return
    tree = ItemTree(OrderItem.objects.filter(order=order))  # the dummy rule needs the whole line
    items = invoiced_virtual_items(rows, lambda row: tree.is_dummy(tree.by_id[row.order_item_id]))
    if items:
        source_return_for_invoice(
            stock_id=stock_resolve(store_id=order.store_id), invoice_id=invoice.pk, items=items, order_id=order.pk,
            order_increment_id=order.increment_id,
        )  # fmt: skip
