"""The invoice page of Sales > Invoices: what Magento's invoice view shows, read in a fixed number of queries
(``sales.selectors.invoice_page_get``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format

from payments.methods import method_get
from sales.documents import address_lines, customer_name, invoice_totals, qty_text
from sales.items import invoice_rows_parent_first
from sales.models import Invoice, InvoiceItem
from sales.money import as_decimal, format_price
from sales.services.invoice_email import INVOICE_NEW, INVOICE_UPDATE
from sales.totals import row_total_after_discount

MEDIUM_DATETIME = "M j, Y, g:i:s A"  # Magento's medium date with time: Aug 21, 2017, 10:30:55 PM
EMAIL_KINDS = {INVOICE_NEW: "Invoice", INVOICE_UPDATE: "Invoice Update"}


@dataclass(frozen=True)
class ItemRow:
    """A row of the Items Invoiced table; amounts are blank on the unpriced side of a composite line."""

    name: str
    sku: str
    qty: str
    price: str = ""
    subtotal: str = ""
    tax_amount: str = ""
    discount_amount: str = ""
    row_total: str = ""
    is_child: bool = False


def invoice_header(invoice: Invoice) -> str:
    """Magento's ``Invoice #%1 | %2 | %4 (%3)``."""
    sent = "The invoice email was sent." if invoice.email_sent == 1 else "The invoice email wasn't sent."
    created = date_format(timezone.localtime(invoice.created_at), MEDIUM_DATETIME)
    return f"Invoice #{invoice.increment_id} | {invoice.state_label} | {created} ({sent})"


def item_rows(invoice: Invoice, currency: str) -> list[ItemRow]:
    """Each top-level row followed by its children (bundle options, a configurable's simple product)."""
    rows = invoice_rows_parent_first(invoice.items.all())
    return [item_row(row, currency, is_child=is_child) for row, is_child in rows]


def item_row(row: InvoiceItem, currency: str, *, is_child: bool) -> ItemRow:
    qty = qty_text(row.qty)
    if row.row_total is None:  # a dummy row: the money sits on the other side of its composite line
        return ItemRow(name=row.name or "", sku=row.sku or "", qty=qty, is_child=is_child)
    return ItemRow(
        name=row.name or "",
        sku=row.sku or "",
        qty=qty,
        price=format_price(as_decimal(row.price), currency),
        subtotal=format_price(row.row_total, currency),
        tax_amount=format_price(as_decimal(row.tax_amount), currency),
        discount_amount=format_price(as_decimal(row.discount_amount), currency),
        row_total=format_price(row_total_after_discount(row), currency),
        is_child=is_child,
    )


def invoice_page_context(invoice: Invoice) -> dict:
    """What the page template shows, amounts already formatted in the order's currency."""
    order = invoice.order
    currency = order.order_currency_code
    base_currency = invoice.base_currency_code or order.base_currency_code
    payment = getattr(order, "payment", None)
    return {
        "invoice_header": invoice_header(invoice),
        "medium_datetime": MEDIUM_DATETIME,
        "order": order,
        "order_status": order.get_status_display(),
        "purchased_from": order.store.name or order.store_name,
        "customer_name": customer_name(order),
        "billing_address": address_lines(order.billing_address),
        "shipping_address": [] if order.is_virtual else address_lines(order.shipping_address),
        "payment_method": method_get(payment.method).title if payment else "",
        "shipping_charges": format_price(as_decimal(order.shipping_amount), currency),
        "item_rows": item_rows(invoice, currency),
        "invoice_totals": invoice_totals(invoice, order),
        "base_grand_total": (
            format_price(as_decimal(invoice.base_grand_total), base_currency) if base_currency != currency else ""
        ),
        "comments": invoice.comments.all(),
        "emails": [(EMAIL_KINDS.get(email.kind, email.kind), email) for email in invoice.emails.all()],
    }
