"""After an invoice exists: capture it later, void its online capture, or cancel it while Pending.

Each runs in one transaction with the order row locked first (as invoice_order does, so the
two never deadlock), then the invoice. Magento's REST capture and void return true and save
nothing (#31497); these save everything or nothing.

Deliberate difference: Magento's void leaves a paid invoice's totals registered on the order
(its cancel() is a no-op for paid invoices). Here a void gives back what the invoice took: the
invoice is Canceled, and the order's invoiced and paid totals and its rows' quantities revert.
"""

from __future__ import annotations

from django.db import transaction

from payments.exceptions import PaymentException, PaymentGatewayFailure
from payments.services import payment_void_invoice
from sales.errors import DomainError, ErrorCode, NoSuchEntityError, PaymentError, PaymentGatewayFailed
from sales.grid import invoice_grid_refresh
from sales.locking import conflicts_as_domain_errors, lock_order, retry_transient
from sales.models import Invoice, InvoiceItem, InvoiceState, Order, OrderState, OrderStatusHistory
from sales.money import format_price
from sales.order_state import apply_state
from sales.registration import REGISTERED_ORDER_FIELDS, pay_order, register_invoice, registered_items_save
from sales.services.invoice_payment import (
    CaptureCase,
    history,
    invoice_payment_amounts,
    order_payment,
    settle_invoice_payment,
    with_transaction,
)
from sales.stock import stock_return_for_invoice

INVOICE_SETTLED_FIELDS = ["state", "transaction_id", "can_void_flag", "updated_at"]


def can_capture(invoice: Invoice, order: Order) -> bool:
    """Magento's canCapture: a Pending invoice, the order not held for payment review."""
    return invoice.state == InvoiceState.OPEN and order.state != OrderState.PAYMENT_REVIEW


def can_void(invoice: Invoice) -> bool:
    """A Paid invoice captured online (offline payments have can_void_flag 0)."""
    return invoice.state == InvoiceState.PAID and invoice.can_void_flag != 0 and bool(invoice.transaction_id)


def can_cancel(invoice: Invoice, order: Order) -> bool:
    """A Pending invoice whose money no gateway may still capture."""
    return can_capture(invoice, order) and not invoice.transaction_id


def _lock(invoice_id: int) -> tuple[Invoice, Order]:
    order_id = Invoice.objects.filter(pk=invoice_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NoSuchEntityError(entity="invoice")
    order = lock_order(order_id)
    invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice_id)
    assert order is not None  # its invoice is there, so it is (the foreign key)
    return invoice, order


def _save(
    invoice: Invoice, order: Order, histories: list[OrderStatusHistory], rows: list[InvoiceItem] | None = None
) -> None:
    invoice.save(update_fields=INVOICE_SETTLED_FIELDS)
    if rows is not None:
        registered_items_save([row.order_item for row in rows])  # one UPDATE, as registering writes them
    order.save(update_fields=[*REGISTERED_ORDER_FIELDS, "state", "status", "updated_at"])
    if histories:
        OrderStatusHistory.objects.bulk_create(histories)
    invoice_grid_refresh([invoice.pk])


def _unregister(invoice: Invoice, order: Order) -> list[InvoiceItem]:
    rows = list(InvoiceItem.objects.filter(parent=invoice).select_related("order_item"))
    register_invoice(invoice, rows, order, sign=-1)
    stock_return_for_invoice(invoice, rows, order)
    invoice.state = InvoiceState.CANCELED
    invoice.can_void_flag = 0
    if order.state not in (OrderState.CANCELED, OrderState.HOLDED):
        apply_state(order, OrderState.PROCESSING)  # as Magento: the order has something to invoice again
    return rows


@retry_transient()
def invoice_capture(*, invoice_id: int) -> Invoice:
    """Capture a Pending invoice: online at a gateway method's gateway, offline otherwise."""
    with transaction.atomic(), conflicts_as_domain_errors():
        invoice, order = _lock(invoice_id)
        if invoice.state == InvoiceState.PAID:
            raise PaymentError(
                'The transaction "%1" cannot be captured yet.',
                [invoice.transaction_id or ""],
                code=ErrorCode.INVOICE_ALREADY_PAID,
            )
        if not can_capture(invoice, order):
            raise PaymentError("The capture action is not available.", code=ErrorCode.CAPTURE_UNAVAILABLE)
        comments = settle_invoice_payment(invoice=invoice, order=order, capture_case=CaptureCase.ONLINE)
        if order.state == OrderState.NEW:
            apply_state(order, OrderState.PROCESSING)
        _save(invoice, order, [history(order, comment) for comment in comments])
    return invoice


@retry_transient()
def invoice_void(*, invoice_id: int) -> Invoice:
    """Void a Paid invoice's online capture: the money goes back and the invoice is Canceled."""
    with transaction.atomic(), conflicts_as_domain_errors():
        invoice, order = _lock(invoice_id)
        if not can_void(invoice):
            raise PaymentError("The void action is not available.", code=ErrorCode.VOID_UNAVAILABLE)
        try:
            result = payment_void_invoice(
                payment=order_payment(order),
                invoice=invoice_payment_amounts(invoice),
                capture_txn_id=invoice.transaction_id,
                order_reference=order.increment_id,
                currency=order.base_currency_code,
            )
        except PaymentGatewayFailure as failure:
            raise PaymentGatewayFailed() from failure
        except PaymentException as refused:
            raise PaymentError(refused.template, refused.parameters, code=refused.code) from refused
        pay_order(invoice, order, sign=-1)
        rows = _unregister(invoice, order)
        amount = format_price(invoice.base_grand_total, order.base_currency_code)
        message = with_transaction(f"Voided authorization. Amount: {amount}.", result.transaction_id)
        _save(invoice, order, [history(order, message)], rows)
    return invoice


@retry_transient()
def invoice_cancel(*, invoice_id: int) -> Invoice:
    """Cancel a Pending invoice: the exact reversal of its registration (nothing was paid)."""
    with transaction.atomic(), conflicts_as_domain_errors():
        invoice, order = _lock(invoice_id)
        if invoice.state != InvoiceState.OPEN:
            raise DomainError(
                "Only a Pending invoice can be canceled; invoice #%1 is %2.",
                [invoice.increment_id, invoice.state_label],
                code=ErrorCode.INVOICE_NOT_CANCELABLE,
            )
        if not can_cancel(invoice, order):
            # The gateway may still capture this money: canceling would let the order be charged twice.
            raise PaymentError("The cancel action is not available.", code=ErrorCode.CANCEL_UNAVAILABLE)
        rows = _unregister(invoice, order)
        _save(invoice, order, [], rows)
    return invoice
