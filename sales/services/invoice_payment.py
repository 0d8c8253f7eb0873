"""How an invoice settles its payment, the one place every door goes through.

- ``ONLINE``: a gateway method captures at its gateway (a capture transaction under the
  authorization, and the history comment ``Captured amount of $X online.``); an offline
  method is paid offline. ``/V1`` ``capture: true`` means this.
- ``OFFLINE``: the money is recorded as received. ``/V1`` ``capture: false`` means this,
  as in Magento's API.
- ``NOT_CAPTURE``: the invoice stays Pending (state 1), payable later.

A gateway that holds the capture for review leaves the invoice Pending and puts the order in
``payment_review``. A gateway that declines or does not answer raises, and the caller's
transaction rolls back: nothing is written.
"""

from __future__ import annotations

import enum
import logging

from payments.exceptions import PaymentException, PaymentGatewayFailure
from payments.models import Payment
from payments.services import InvoicePayment, payment_pay_invoice
from sales.errors import CouldNotInvoiceError, PaymentError, PaymentGatewayFailed
from sales.models import Invoice, InvoiceState, Order, OrderState, OrderStatusHistory
from sales.money import as_decimal, format_price
from sales.order_state import apply_state
from sales.registration import pay_order

logger = logging.getLogger("counterfoil.sales")


class CaptureCase(enum.StrEnum):
    """Magento's request_capture_case."""

    ONLINE = "online"
    OFFLINE = "offline"
    NOT_CAPTURE = "not_capture"


def invoice_payment_amounts(invoice: Invoice) -> InvoicePayment:
    return InvoicePayment(
        grand_total=invoice.grand_total,
        base_grand_total=invoice.base_grand_total,
        shipping_amount=as_decimal(invoice.shipping_amount),
        base_shipping_amount=as_decimal(invoice.base_shipping_amount),
    )


def order_payment(order: Order) -> Payment:
    payment = Payment.objects.filter(order_id=order.pk).first()
    if payment is None:
        raise CouldNotInvoiceError()
    return payment


def history(order: Order, comment: str) -> OrderStatusHistory:
    return OrderStatusHistory(
        order=order, comment=comment, status=order.status, is_customer_notified=False, entity_name="invoice"
    )


def with_transaction(message: str, transaction_id: str | None) -> str:
    return f'{message} Transaction ID: "{transaction_id}"' if transaction_id else message


def settle_invoice_payment(*, invoice: Invoice, order: Order, capture_case: CaptureCase) -> list[str]:
    """Pay (or not) an invoice whose totals are known; returns the history comments to save."""
    if capture_case == CaptureCase.NOT_CAPTURE:
        invoice.state = InvoiceState.OPEN
        return []
    payment = order_payment(order)
    try:
        result = payment_pay_invoice(
            payment=payment,
            invoice=invoice_payment_amounts(invoice),
            capture_online=capture_case == CaptureCase.ONLINE,
            order_reference=order.increment_id,
            currency=order.base_currency_code,
        )
    except PaymentGatewayFailure as failure:
        logger.warning(
            "invoice of order #%s rolled back: the gateway could not %s (%s) %s",
            order.increment_id,
            failure.operation,
            failure.reason,
            failure.details,
        )
        raise PaymentGatewayFailed() from failure
    except PaymentException as refused:
        raise PaymentError(refused.template, refused.parameters, code=refused.code) from refused

    invoice.transaction_id = result.transaction_id
    amount = format_price(invoice.base_grand_total, order.base_currency_code)
    if result.in_review:
        invoice.state = InvoiceState.OPEN
        apply_state(order, OrderState.PAYMENT_REVIEW)
        message = f"An amount of {amount} will be captured after being approved at the payment gateway."
        return [with_transaction(message, result.transaction_id)]

    invoice.state = InvoiceState.PAID
    # An offline payment can never be voided; an online capture stays voidable.
    invoice.can_void_flag = None if result.online else 0
    pay_order(invoice, order)
    if result.online:
        return [with_transaction(f"Captured amount of {amount} online.", result.transaction_id)]
    return []
