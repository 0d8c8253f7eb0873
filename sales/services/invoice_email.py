"""Invoice e-mails: what the customer reads, handed to the notifications outbox.

The mail shows the invoice's own rows and totals, never the order's (Magento #28295 printed
order amounts on partial invoices), and the comment only when it was meant for the customer.
"""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal
from typing import Any

from django.db import transaction

from notifications.models import EmailOutbox
from notifications.services import email_queue
from payments.methods import method_get
from sales.documents import address_lines, invoice_totals, qty_text
from sales.errors import NoSuchEntityError
from sales.locking import retry_transient
from sales.models import Invoice, InvoiceComment, InvoiceItem, Order, Store
from sales.money import format_price

logger = logging.getLogger("counterfoil.sales")

INVOICE_NEW = "invoice_new"
INVOICE_UPDATE = "invoice_update"
SUBJECTS = {
    INVOICE_NEW: "Invoice for your {store} order",
    INVOICE_UPDATE: "Update to your {store} invoice",
}


def invoice_email_context(invoice: Invoice, order: Order, rows: list[InvoiceItem], *, comment: str = "") -> dict:
    """Plain data for the templates; amounts already formatted in the order's currency."""
    currency = order.order_currency_code
    store = Store.objects.filter(pk=order.store_id).values("name", "frontend_name").first()
    store_name = (store["frontend_name"] or store["name"] or "") if store else ""
    payment = getattr(order, "payment", None)

    def price(amount: Decimal | None) -> str:
        return "" if amount is None else format_price(amount, currency)

    lines = [
        {
            "name": row.name,
            "sku": row.sku,
            "qty": qty_text(row.qty),
            "price": price(row.price) if row.row_total is not None else "",
            "row_total": price(row.row_total),
            "is_child": row.order_item.parent_item_id is not None,
        }
        for row in rows
    ]
    return {
        "store_name": store_name,
        # The greeting: the customer's name, or for a guest the billing name (Magento's guest template).
        "customer_name": " ".join(p for p in (order.customer_firstname, order.customer_lastname) if p)
        or (order.billing_address.name if order.billing_address else ""),
        "invoice_increment_id": invoice.increment_id,
        "order_increment_id": order.increment_id,
        "billing_address": address_lines(order.billing_address),
        "shipping_address": [] if order.is_virtual else address_lines(order.shipping_address),
        "is_virtual": order.is_virtual,
        "payment_method": method_get(payment.method).title if payment else "",
        "shipping_description": order.shipping_description or "",
        "lines": lines,
        "totals": invoice_totals(invoice, order),
        "comment": comment or "",
    }


def invoice_email_queue(
    *,
    invoice: Invoice,
    order: Order,
    rows: list[InvoiceItem],
    kind: str = INVOICE_NEW,
    comment: str = "",
    key: str | None = None,
) -> EmailOutbox:
    """Queue the invoice e-mail in the caller's transaction; it is sent after commit."""
    context = invoice_email_context(invoice, order, rows, comment=comment)
    assert order.customer_email is not None  # a stored order has one: parse_order requires it
    return email_queue(
        key=key,
        kind=kind,
        template=kind,
        context=context,
        recipients=[order.customer_email],
        subject=SUBJECTS[kind].format(store=context["store_name"]),
        invoice_id=invoice.pk,
        store_id=order.store_id,
    )


@retry_transient()
def invoice_email_send(*, invoice_id: int, key: str | None = None, comment: str | None = None) -> Invoice:
    """Send (again) an invoice's e-mail: Magento's ``/V1/invoices/{id}/emails``, /api2's resend, the admin.

    ``send_email`` = 1 and ``email_sent`` back to null until the worker has sent it. The same
    ``key`` (an Idempotency-Key) queues one mail however often it is asked.
    """
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).filter(pk=invoice_id).first()
        if invoice is None:
            raise NoSuchEntityError(entity="invoice")
        order = Order.objects.select_related("billing_address", "shipping_address", "payment").get(pk=invoice.order_id)
        rows = list(InvoiceItem.objects.filter(parent=invoice).select_related("order_item").order_by("id"))
        # A key the outbox already holds is a repeat of a request already done: nothing changes.
        queued_key = f"invoice_email:{invoice.pk}:{hashlib.sha256(key.encode()).hexdigest()}" if key else None
        if queued_key and EmailOutbox.objects.filter(key=queued_key).exists():
            return invoice
        if comment:
            InvoiceComment.objects.create(parent=invoice, comment=comment, is_customer_notified=True)
        invoice_email_queue(invoice=invoice, order=order, rows=rows, comment=comment or "", key=queued_key)
        invoice.send_email = 1
        invoice.email_sent = None
        invoice.save(update_fields=["send_email", "email_sent", "updated_at"])
    return invoice


def invoice_comment_email_queue(*, comment: InvoiceComment) -> None:
    """A comment added with notify goes to the customer as an invoice update (never failing the comment)."""
    invoice = comment.parent
    order = Order.objects.select_related("billing_address", "shipping_address", "payment").get(pk=invoice.order_id)
    rows = list(InvoiceItem.objects.filter(parent=invoice).select_related("order_item").order_by("id"))
    invoice_email_queue_safely(invoice=invoice, order=order, rows=rows, kind=INVOICE_UPDATE, comment=comment.comment)


def invoice_email_queue_safely(**kwargs: Any) -> None:
    """Queue without ever failing the caller: a failure to e-mail never fails the invoice."""
    try:
        with transaction.atomic():  # a savepoint: a failure here leaves the invoice's transaction usable
            invoice_email_queue(**kwargs)
    except Exception:  # noqa: BLE001 - logged; staff can resend from the admin
        logger.exception("could not queue the e-mail of invoice %s", kwargs["invoice"].pk)
