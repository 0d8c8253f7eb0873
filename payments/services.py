"""Payment operations: what an order's payment records, and what its gateway is asked to do.

The sales services decide *when* (an invoice is paid, captured later, voided) and write the
sales side; these functions move the money and record it on the Payment and its
Transactions. Amounts arrive as Decimal; nothing here rounds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from payments.exceptions import (
    CaptureUnavailable,
    GatewayError,
    PaymentGatewayFailure,
    VoidUnavailable,
)
from payments.gateways import GatewayAnswer, GatewayRequest, Outcome, gateway_for, has_gateway, idempotency_key
from payments.methods import is_offline
from payments.models import Payment, Transaction

logger = logging.getLogger("counterfoil.payments")
ZERO = Decimal(0)


@dataclass(frozen=True)
class InvoicePayment:
    """What an invoice pays: its grand total and shipping, in both currencies."""

    grand_total: Decimal
    base_grand_total: Decimal
    shipping_amount: Decimal
    base_shipping_amount: Decimal


@dataclass(frozen=True)
class PayResult:
    paid: bool  # False while the gateway reviews the capture
    online: bool
    transaction_id: str | None = None
    in_review: bool = False
    amount: Decimal | None = None  # base amount moved at the gateway


def _add(current: Decimal | None, amount: Decimal | None) -> Decimal:
    return (current or ZERO) + (amount or ZERO)


def is_gateway_method(method: str) -> bool:
    return not is_offline(method) and has_gateway(method)


def _call(operation: str, payment: Payment, request: GatewayRequest) -> GatewayAnswer:
    gateway = gateway_for(payment.method)
    try:
        return getattr(gateway, operation)(request)
    except GatewayError as failure:
        logger.warning(
            "payment gateway %s failed to %s %s %s for order %s (key %s): %s %s",
            payment.method,
            operation,
            request.amount,
            request.currency,
            request.order_reference,
            request.idempotency_key,
            failure,
            failure.details,
        )
        raise PaymentGatewayFailure(failure, operation=operation) from failure


def payment_create(
    *,
    order_id: int,
    order_reference: str,
    method: str,
    currency: str,
    additional_information: dict | list | None = None,
    po_number: str | None = None,
    amount_ordered: Decimal,
    base_amount_ordered: Decimal,
    shipping_amount: Decimal | None,
    base_shipping_amount: Decimal | None,
) -> tuple[Payment, Transaction | None]:
    """The order's payment; a gateway method also records its authorization."""
    payment = Payment.objects.create(
        order_id=order_id,
        method=method,
        additional_information=additional_information or {},
        po_number=po_number,
        amount_ordered=amount_ordered,
        base_amount_ordered=base_amount_ordered,
        shipping_amount=shipping_amount,
        base_shipping_amount=base_shipping_amount,
    )
    if not is_gateway_method(method):
        return payment, None
    request = GatewayRequest(
        amount=base_amount_ordered,
        currency=currency,
        idempotency_key=idempotency_key("authorize", order_id, base_amount_ordered),
        order_reference=order_reference,
        additional_information=_information(payment),
    )
    answer = _call("authorize", payment, request)
    authorization = Transaction.objects.create(
        payment=payment,
        order_id=order_id,
        txn_id=answer.transaction_id,
        txn_type=Transaction.Type.AUTHORIZATION,
        is_closed=False,
        amount=base_amount_ordered,
        idempotency_key=request.idempotency_key,
        details=answer.details,
    )
    payment.amount_authorized = amount_ordered
    payment.base_amount_authorized = base_amount_ordered
    payment.last_trans_id = answer.transaction_id
    payment.save(update_fields=["amount_authorized", "base_amount_authorized", "last_trans_id"])
    return payment, authorization


def _information(payment: Payment) -> dict:
    info = payment.additional_information
    return info if isinstance(info, dict) else {}


def _open_authorization(payment: Payment) -> Transaction | None:
    return (
        Transaction.objects.filter(payment=payment, txn_type=Transaction.Type.AUTHORIZATION, is_closed=False)
        .order_by("-id")
        .first()
    )


def payment_pay_invoice(
    *, payment: Payment, invoice: InvoicePayment, capture_online: bool, order_reference: str, currency: str
) -> PayResult:
    """Pay an invoice: offline, or by an online capture at the method's gateway.

    Offline methods, and ``capture_online=False``, record the money as received. An online
    capture is keyed by the payment, how many captures it already has and the amount, so a
    retry of the same invoice after a rolled-back save is recognised by the gateway.
    """
    if not capture_online or is_offline(payment.method):
        _record_paid(payment, invoice)
        payment.save(update_fields=PAID_FIELDS)
        return PayResult(paid=True, online=False)
    if not has_gateway(payment.method):
        raise CaptureUnavailable(
            'The "%1" payment method cannot capture online: no payment gateway is configured for it.',
            [payment.method],
        )

    authorization = _open_authorization(payment)
    captures = Transaction.objects.filter(payment=payment, txn_type=Transaction.Type.CAPTURE).count()
    request = GatewayRequest(
        amount=invoice.base_grand_total,
        currency=currency,
        idempotency_key=idempotency_key("capture", payment.pk, captures, invoice.base_grand_total),
        order_reference=order_reference,
        parent_transaction_id=authorization.txn_id if authorization else None,
        additional_information=_information(payment),
    )
    answer = _call("capture", payment, request)
    in_review = answer.outcome == Outcome.REVIEW
    Transaction.objects.create(
        payment=payment,
        order_id=payment.order_id,
        parent=authorization,
        txn_id=answer.transaction_id,
        txn_type=Transaction.Type.CAPTURE,
        is_closed=not in_review,
        amount=invoice.base_grand_total,
        idempotency_key=request.idempotency_key,
        details=answer.details,
    )
    payment.last_trans_id = answer.transaction_id
    fields = ["last_trans_id"]
    if not in_review:
        _record_paid(payment, invoice)
        payment.base_amount_paid_online = _add(payment.base_amount_paid_online, invoice.base_grand_total)
        fields += [*PAID_FIELDS, "base_amount_paid_online"]
        if authorization is not None and (payment.base_amount_paid or ZERO) >= (payment.base_amount_authorized or ZERO):
            authorization.is_closed = True  # everything authorized has been captured
            authorization.save(update_fields=["is_closed"])
    payment.save(update_fields=fields)
    return PayResult(
        paid=not in_review,
        online=True,
        transaction_id=answer.transaction_id,
        in_review=in_review,
        amount=invoice.base_grand_total,
    )


PAID_FIELDS = ["amount_paid", "base_amount_paid", "shipping_captured", "base_shipping_captured"]


def _record_paid(payment: Payment, invoice: InvoicePayment, sign: int = 1) -> None:
    payment.amount_paid = _add(payment.amount_paid, sign * invoice.grand_total)
    payment.base_amount_paid = _add(payment.base_amount_paid, sign * invoice.base_grand_total)
    payment.shipping_captured = _add(payment.shipping_captured, sign * invoice.shipping_amount)
    payment.base_shipping_captured = _add(payment.base_shipping_captured, sign * invoice.base_shipping_amount)


def payment_void_invoice(
    *, payment: Payment, invoice: InvoicePayment, capture_txn_id: str | None, order_reference: str, currency: str
) -> PayResult:
    """Void an invoice's online capture at the gateway and take its money off the payment."""
    capture = (
        Transaction.objects.filter(payment=payment, txn_type=Transaction.Type.CAPTURE, txn_id=capture_txn_id).first()
        if capture_txn_id
        else None
    )
    if capture is None or not is_gateway_method(payment.method):
        raise VoidUnavailable("The void action is not available.")
    request = GatewayRequest(
        amount=invoice.base_grand_total,
        currency=currency,
        idempotency_key=idempotency_key("void", payment.pk, capture.txn_id),
        order_reference=order_reference,
        parent_transaction_id=capture.txn_id,
        additional_information=_information(payment),
    )
    answer = _call("void", payment, request)
    Transaction.objects.create(
        payment=payment,
        order_id=payment.order_id,
        parent=capture,
        txn_id=answer.transaction_id,
        txn_type=Transaction.Type.VOID,
        is_closed=True,
        amount=invoice.base_grand_total,
        idempotency_key=request.idempotency_key,
        details=answer.details,
    )
    Transaction.objects.filter(pk=capture.pk).update(is_closed=True)
    _record_paid(payment, invoice, sign=-1)
    payment.base_amount_paid_online = _add(payment.base_amount_paid_online, -invoice.base_grand_total)
    payment.amount_canceled = _add(payment.amount_canceled, invoice.grand_total)
    payment.base_amount_canceled = _add(payment.base_amount_canceled, invoice.base_grand_total)
    payment.last_trans_id = answer.transaction_id
    payment.save(
        update_fields=[
            *PAID_FIELDS,
            "base_amount_paid_online",
            "amount_canceled",
            "base_amount_canceled",
            "last_trans_id",
        ]
    )
    return PayResult(paid=False, online=True, transaction_id=answer.transaction_id, amount=invoice.base_grand_total)
