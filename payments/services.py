"""Payment operations. Amounts come in as Decimal from the sales services; nothing here rounds."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from payments.exceptions import CaptureUnavailable
from payments.methods import is_offline
from payments.models import Payment


@dataclass(frozen=True)
class InvoicePayment:
    """What an invoice pays: its grand total and shipping, in both currencies."""

    grand_total: Decimal
    base_grand_total: Decimal
    shipping_amount: Decimal
    base_shipping_amount: Decimal


@dataclass(frozen=True)
class PayResult:
    paid: bool
    online: bool
    transaction_id: str | None = None


def payment_create(
    *,
    order_id: int,
    method: str,
    additional_information: dict | None = None,
    po_number: str | None = None,
    amount_ordered: Decimal,
    base_amount_ordered: Decimal,
    shipping_amount: Decimal | None,
    base_shipping_amount: Decimal | None,
) -> Payment:
    return Payment.objects.create(
        order_id=order_id,
        method=method,
        additional_information=additional_information or {},
        po_number=po_number,
        amount_ordered=amount_ordered,
        base_amount_ordered=base_amount_ordered,
        shipping_amount=shipping_amount,
        base_shipping_amount=base_shipping_amount,
    )


def _add(current: Decimal | None, amount: Decimal | None) -> Decimal:
    return (current or Decimal(0)) + (amount or Decimal(0))


def payment_pay_invoice(*, payment: Payment, invoice: InvoicePayment, capture_online: bool) -> PayResult:
    """Record an invoice as paid: offline, or online through the method's gateway.

    Online capture needs a gateway adapter, which lands with the payments issue; until then an
    online capture of a gateway method is refused before anything is written. Offline methods
    are always paid offline (Magento: an offline method cannot capture online).
    """
    if capture_online and not is_offline(payment.method):
        raise CaptureUnavailable(
            'The "%1" payment method cannot capture online: no payment gateway is configured for it.',
            [payment.method],
        )
    payment.amount_paid = _add(payment.amount_paid, invoice.grand_total)
    payment.base_amount_paid = _add(payment.base_amount_paid, invoice.base_grand_total)
    payment.shipping_captured = _add(payment.shipping_captured, invoice.shipping_amount)
    payment.base_shipping_captured = _add(payment.base_shipping_captured, invoice.base_shipping_amount)
    payment.save(update_fields=["amount_paid", "base_amount_paid", "shipping_captured", "base_shipping_captured"])
    return PayResult(paid=True, online=False)
