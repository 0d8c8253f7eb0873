"""Where sales meet the inventory: which invoice rows move stock, and the sales-side wording of a refusal.

Magento's VirtualSourceDeductionProcessor: a new invoice's non-dummy virtual and downloadable rows
leave their sources in the invoice's transaction (physical rows leave at shipment). Canceling or
voiding the invoice gives them back.

``inventory_errors_as_domain_errors`` is the one mapping of the inventory's refusals to the sales
domain errors, for the invoice services here and for the /V1 inventory routes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from inventory import services as inventory_services
from inventory.errors import InventoryError, InventoryNoSuchEntity, InventoryValidationError
from inventory.services import (
    InvoicedItem,
    SourceDeduction,
    invoice_source_record,
    source_deduct_for_invoice,
    source_return_for_invoice,
    stock_resolve,
)
from sales.errors import DomainError, InputError, NoSuchEntityError
from sales.items import ItemTree
from sales.locking import retry_transient
from sales.models import Invoice, InvoiceItem, Order, OrderItem
from sales.totals import InvoiceItemDraft


@contextmanager
def inventory_errors_as_domain_errors() -> Iterator[None]:
    """The inventory's refusals as the sales domain errors the doors render, with Magento's templates:
    no such source/stock/product 404, validation 400 (every problem), others 400."""
    try:
        yield
    except InventoryNoSuchEntity as missing:
        raise NoSuchEntityError(missing.template, missing.parameters, code=missing.code) from missing
    except InventoryValidationError as invalid:
        problems = [InputError(template, parameters) for template, parameters in invalid.errors]
        raise InputError(invalid.template, errors=problems, code=invalid.code) from invalid
    except InventoryError as refused:
        raise DomainError(refused.template, refused.parameters, code=refused.code) from refused


@retry_transient()
def source_items_save(*, items: list[inventory_services.SourceItemData]) -> list:
    """The inventory's ``source_items_save``, re-run when PostgreSQL made it the loser of a deadlock or a
    serialization failure (then 409, ``ConflictError``), as every sales write is: for the callers that own no
    transaction, the /V1 route and ``load_demo`` (the inventory may not import ``sales.locking``)."""
    return inventory_services.source_items_save(items=items)


def invoiced_virtual_items(priced_rows: Iterable[InvoiceItem]) -> list[InvoicedItem]:
    """Of an invoice's rows that are not dummies, those whose quantities leave the sources at invoice time (their
    order items must be loaded)."""
    return [
        InvoicedItem(
            sku=row.order_item.sku,
            qty=row.qty,
            is_qty_decimal=row.order_item.is_qty_decimal,
            product_type=row.order_item.product_type,
        )
        for row in priced_rows
        if row.order_item.is_virtual
    ]


def stock_deduct_for_invoice(drafted_rows: Iterable[InvoiceItemDraft], order: Order) -> list[SourceDeduction]:
    """Take a new invoice's virtual rows (a draft's, which know whether they are dummies) out of the
    sources; not enough stock refuses the invoice."""
    items = invoiced_virtual_items(drafted.row for drafted in drafted_rows if not drafted.is_dummy)
    if not items:
        return []
    with inventory_errors_as_domain_errors():
        return source_deduct_for_invoice(
            stock_id=stock_resolve(store_id=order.store_id),
            items=items,
            order_id=order.pk,
            order_increment_id=order.increment_id,
        )


def stock_record_for_invoice(invoice: Invoice, deductions: list[SourceDeduction]) -> None:
    if deductions:
        invoice_source_record(invoice_id=invoice.pk, deductions=deductions)


def stock_return_for_invoice(invoice: Invoice, rows: Iterable[InvoiceItem], order: Order) -> None:
    """A canceled or voided invoice's virtual rows go back to the sources they left."""
    rows = list(rows)
    if not any(row.order_item.is_virtual for row in rows):
        return
    tree = ItemTree(OrderItem.objects.filter(order=order))  # the dummy rule needs the whole line
    items = invoiced_virtual_items(row for row in rows if not tree.is_dummy(tree.by_id[row.order_item_id]))
    if items:
        source_return_for_invoice(
            stock_id=stock_resolve(store_id=order.store_id),
            invoice_id=invoice.pk,
            items=items,
            order_id=order.pk,
            order_increment_id=order.increment_id,
        )
