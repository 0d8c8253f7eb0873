"""invoice_order: Magento's InvoiceOrder, in one locked transaction.

Lock the order row, re-read its rows under the lock, work out what the invoice takes, validate
with Magento's messages, collect the totals, register the invoice into the order and its rows,
pay, resolve the order's state, and write everything. A failure anywhere writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.utils import timezone

from inventory.quantity import qty_fits
from sales.errors import (
    INVALID_QTY,
    INVOICE_REFUSALS,
    ConflictError,
    CouldNotInvoiceError,
    DocumentValidationError,
    DomainError,
    ErrorCode,
    NoSuchEntityError,
)
from sales.grid import invoice_grid_write
from sales.items import ItemTree, invoice_quantities
from sales.locking import conflicts_as_domain_errors, is_conflict, lock_order, retry_transient
from sales.models import Invoice, InvoiceComment, InvoiceItem, Order, OrderItem, OrderStatusHistory, SalesSequence
from sales.money import ZERO
from sales.numbering import next_increment_id
from sales.order_state import STATES_THAT_REFUSE_INVOICES, apply_state, state_after_invoice
from sales.registration import REGISTERED_ORDER_FIELDS, register_invoice, registered_items_save
from sales.services.invoice_email import invoice_email_queue_safely
from sales.services.invoice_payment import CaptureCase, history, settle_invoice_payment
from sales.stock import stock_deduct_for_invoice, stock_record_for_invoice
from sales.totals import InvoiceDraft, InvoiceItemDraft, collect_totals


@dataclass(frozen=True)
class InvoiceLineRequest:
    """A row to invoice, named by its order item id or by its SKU."""

    order_item_id: int | None
    qty: Decimal
    sku: str | None = None


@dataclass(frozen=True)
class InvoiceCommentRequest:
    comment: str
    is_visible_on_front: bool = False


logger = logging.getLogger("counterfoil.sales")

# Read in the order's lock query: the grid row and the e-mail then need no query of their own. Only what
# never changes under an invoice is read from them (names, address lines, the payment's method): they are not
# locked, so a lock that waited may hand back the payment's amounts as they were before the wait.
ORDER_RELATIONS_IN_HAND = ("billing_address", "shipping_address", "payment")


@retry_transient()
def invoice_order(
    *,
    order_id: int,
    capture_case: CaptureCase = CaptureCase.OFFLINE,
    items: Sequence[InvoiceLineRequest] = (),
    notify: bool = False,
    append_comment: bool = False,
    comment: InvoiceCommentRequest | None = None,
    comment_in_order_history: bool = False,
) -> Invoice:
    """Create, register and pay an invoice for an order; returns the saved invoice.

    ``comment_in_order_history`` also keeps the comment in the order's history (/api2's
    accounting trail).
    """
    with transaction.atomic(), conflicts_as_domain_errors():
        order = lock_order(order_id, related=ORDER_RELATIONS_IN_HAND)
        if order is None:
            raise NoSuchEntityError(entity="order")
        tree = ItemTree(OrderItem.objects.filter(order=order))
        draft = _collected_draft(order, tree, items)
        register_invoice(draft.invoice, draft.rows, order)
        with could_not_invoice_on_failure(order):
            deductions = stock_deduct_for_invoice(draft.items, order)  # before paying: a refusal moves no money
            comments = settle_invoice_payment(invoice=draft.invoice, order=order, capture_case=capture_case)
            apply_state(order, state_after_invoice(order, tree))  # after paying: paid orders can be refunded
            invoice = _save(draft, order, comments, notify=notify)
            stock_record_for_invoice(invoice, deductions)
            if comment is not None:
                _comment(
                    invoice, order, comment, notified=append_comment and notify, in_history=comment_in_order_history
                )
        if notify:
            mailed_comment = comment.comment if comment is not None and append_comment else ""
            invoice_email_queue_safely(invoice=invoice, order=order, rows=draft.rows, comment=mailed_comment)
    return invoice


def invoice_preview(*, order_id: int, items: Sequence[InvoiceLineRequest] = ()) -> InvoiceDraft:
    """The invoice ``invoice_order`` would create for these lines, totals collected, with nothing
    locked, numbered or written: the New Invoice page's "Update Qty's". Refused as it would be."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NoSuchEntityError(entity="order")
    return _collected_draft(order, ItemTree(OrderItem.objects.filter(order=order)), items)


def _collected_draft(order: Order, tree: ItemTree, items: Sequence[InvoiceLineRequest]) -> InvoiceDraft:
    """The requested lines checked, the draft's rows and Magento's validation, then its totals."""
    requested = {}
    for line in items:  # the last of duplicates wins
        requested[_resolve_line(tree, line)] = line.qty
    unknown = [item_id for item_id in requested if item_id not in tree.by_id]
    known = {item_id: qty for item_id, qty in requested.items() if item_id in tree.by_id}
    _check_quantities(tree, known)

    draft = _draft(order, tree, invoice_quantities(tree, known))
    _validate(draft, tree, has_unknown_items=bool(unknown))
    collect_totals(draft)
    return draft


def _comment(
    invoice: Invoice, order: Order, comment: InvoiceCommentRequest, *, notified: bool, in_history: bool
) -> None:
    """The invoice's comment; ``in_history`` also keeps it in the order's history."""
    InvoiceComment.objects.create(
        parent=invoice,
        comment=comment.comment,
        is_visible_on_front=comment.is_visible_on_front,
        is_customer_notified=notified,
    )
    if in_history:
        OrderStatusHistory.objects.create(
            order=order,
            comment=comment.comment,
            status=order.status,
            is_customer_notified=False,
            is_visible_on_front=comment.is_visible_on_front,
            entity_name="invoice",
        )


def _save(draft: InvoiceDraft, order: Order, comments: list[str], *, notify: bool) -> Invoice:
    invoice = draft.invoice
    invoice.send_email = 1 if notify else None  # the e-mail worker sets email_sent when it is sent
    invoice.increment_id = next_increment_id(entity_type=SalesSequence.EntityType.INVOICE, store_id=order.store_id)
    # The invoice's addresses are the order's (same ids), loaded with the lock: the grid reads them from here.
    invoice.billing_address, invoice.shipping_address = order.billing_address, order.shipping_address
    invoice.save(force_insert=True)
    rows = draft.rows
    for row in rows:
        row.parent = invoice
    InvoiceItem.objects.bulk_create(rows)  # one INSERT for all rows
    registered_items_save([row.order_item for row in rows])  # one UPDATE for all order rows
    order.save(update_fields=[*REGISTERED_ORDER_FIELDS, "state", "status", "updated_at"])
    if comments:
        OrderStatusHistory.objects.bulk_create([history(order, comment) for comment in comments])
    invoice_grid_write(invoice)  # from the objects in hand: the row a refresh would read back
    return invoice


@contextmanager
def could_not_invoice_on_failure(order: Order) -> Iterator[None]:
    """Magento's step 7: a failure while paying or saving is logged and answered as
    ``Could not save an invoice, see error log for details`` (400), never as a crash.

    That is the invoice's failure: the payment or the stock refused it, or the database refused its data (a
    constraint, a value out of range). A database that failed (connection lost, statement timeout, a statement
    the server refused) is not the client's doing: it goes to the door, which answers 503 or 500."""
    try:
        yield
    except DomainError:
        raise
    except DatabaseError as error:
        if is_conflict(error):
            raise ConflictError() from error
        if not isinstance(error, IntegrityError | DataError):
            raise
        logger.exception("could not save an invoice of order #%s", order.increment_id)
        raise CouldNotInvoiceError() from error
    except Exception as error:
        logger.exception("could not save an invoice of order #%s", order.increment_id)
        raise CouldNotInvoiceError() from error


def _resolve_line(tree: ItemTree, line: InvoiceLineRequest) -> int | tuple[str, str | None]:
    """A line named by SKU is the order's row with that SKU that still has quantity to invoice."""
    if line.order_item_id is not None:
        return line.order_item_id
    for item in tree.items:
        if item.sku == line.sku and tree.qty_to_invoice(item) > 0:
            return item.pk
    return ("sku", line.sku)  # names nothing on the order


def _check_quantities(tree: ItemTree, requested: dict[int, Decimal]) -> None:
    """A negative quantity, or a fraction of an item sold in whole units, is refused outright.

    Magento silently turns these into 0 or truncates them (#38580); a client that sent 1.5 of a
    whole-unit item has a bug worth hearing about. So is a quantity no qty column can hold
    (more than 4 decimals, or 1e30), which would otherwise fail deep in the arithmetic.
    """
    for item_id, qty in requested.items():
        item = tree.by_id[item_id]
        if not qty_fits(qty) or qty < 0 or (not item.is_qty_decimal and qty != qty.to_integral_value()):
            raise DomainError(INVALID_QTY, [item.name or item.sku], code=ErrorCode.INVALID_QTY)


def _draft(order: Order, tree: ItemTree, quantities: dict[int, Decimal]) -> InvoiceDraft:
    invoice = Invoice(
        order=order,
        store_id=order.store_id,
        customer_id=order.customer_id,
        billing_address_id=order.billing_address_id,
        shipping_address_id=order.shipping_address_id,
        global_currency_code=order.global_currency_code,
        base_currency_code=order.base_currency_code,
        store_currency_code=order.store_currency_code,
        order_currency_code=order.order_currency_code,
        store_to_base_rate=order.store_to_base_rate,
        store_to_order_rate=order.store_to_order_rate,
        base_to_global_rate=order.base_to_global_rate,
        base_to_order_rate=order.base_to_order_rate,
        discount_description=order.discount_description,
        created_at=timezone.now(),
    )
    drafted_rows = []
    for item_id, qty in quantities.items():
        item = tree.by_id[item_id]
        row = InvoiceItem(
            order_item=item,
            product_id=item.product_id,
            sku=item.sku,
            name=item.name,
            description=item.description,
            qty=qty,
            price=item.price,
            base_price=item.base_price,
            price_incl_tax=item.price_incl_tax,
            base_price_incl_tax=item.base_price_incl_tax,
            base_cost=item.base_cost,
        )
        is_dummy = tree.is_dummy(item)
        drafted_rows.append(
            InvoiceItemDraft(
                row=row,
                is_dummy=is_dummy,
                has_children=tree.has_children(item),
                is_last=tree.takes_the_rest(item, qty),
            )
        )
    invoice.total_qty = sum((drafted.row.qty for drafted in drafted_rows), ZERO)
    return InvoiceDraft(invoice=invoice, items=drafted_rows, order=order, is_last=tree.takes_every_rest(quantities))


def _validate(draft: InvoiceDraft, tree: ItemTree, *, has_unknown_items: bool) -> None:
    """Magento's invoice and order validators, every message collected into one 400."""
    order = draft.order
    reasons: list[ErrorCode] = []
    messages: list[str] = []

    def fail(reason: ErrorCode, *parameters: object) -> None:
        reasons.append(reason)
        messages.append(DomainError(INVOICE_REFUSALS[reason], list(parameters)).message)

    for drafted in draft.priced_items:
        if drafted.row.qty > tree.qty_to_invoice(drafted.row.order_item):
            fail(ErrorCode.QTY_OVER_UNINVOICED, drafted.row.order_item.sku)
    if has_unknown_items:
        fail(ErrorCode.NOT_PART_OF_ORDER)
    elif draft.invoice.total_qty <= 0:
        fail(ErrorCode.WITHOUT_PRODUCTS)
    if order.state in STATES_THAT_REFUSE_INVOICES:
        fail(ErrorCode.ORDER_STATUS_REFUSES, order.status)
    elif not tree.can_invoice_any():
        fail(ErrorCode.NOTHING_TO_INVOICE)
    if messages:
        raise DocumentValidationError(messages, reasons=reasons)
