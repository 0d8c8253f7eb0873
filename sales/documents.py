"""What an invoice shows, however it is shown: the admin's invoice and order pages, the PDF, the e-mail.

Magento draws these from shared blocks (the address renderer, the totals block, pdf.xml's totals), so
the same invoice reads the same everywhere; each view only lays the pieces out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from sales.models import Invoice, Order, OrderAddress
from sales.money import Amount, as_decimal, decimal_text, format_price, is_zero


def qty_text(qty: Decimal | None) -> str:
    """``2``, ``1.5``: a quantity without the column's trailing zeros."""
    return decimal_text(as_decimal(qty))


def person_name(address: OrderAddress) -> str:
    parts = (address.prefix, address.firstname, address.middlename, address.lastname, address.suffix)
    return " ".join(part for part in parts if part)


def customer_name(order: Order) -> str:
    """The admin's Customer Name: "Guest" for an order without a customer name (Magento's getCustomerName)."""
    parts = (order.customer_firstname, order.customer_middlename, order.customer_lastname)
    return " ".join(part for part in parts if part) if order.customer_firstname else "Guest"


def address_lines(address: OrderAddress | None, *, company_first: bool = False) -> list[str]:
    """Magento's address templates: the html one (name, company, ...) and, with ``company_first``, the
    PDF one (company, name, ...); then street, city line, country, phone, VAT number."""
    if address is None:
        return []
    head = [address.company, person_name(address)] if company_first else [person_name(address), address.company]
    city_line = ", ".join(part for part in (address.city, address.region, address.postcode) if part)
    lines = [
        *head,
        *address.street_lines,
        city_line,
        address.country_id,
        f"T: {address.telephone}" if address.telephone else None,
        f"VAT: {address.vat_id}" if address.vat_id else None,
    ]
    return [line for line in lines if line]


class Total(NamedTuple):
    """One line of a totals block; templates unpack it as (label, amount, is_grand_total)."""

    label: str
    amount: str
    is_grand_total: bool = False


def invoice_totals(invoice: Invoice, order: Order, *, pdf: bool = False) -> list[Total]:
    """The invoice's totals in the order's currency; a zero discount and unbilled shipping are left out.

    Pages and e-mails follow the totals block (Subtotal, Discount, Shipping & Handling, Tax, Grand
    Total); the PDF follows pdf.xml's sort order, where Tax (300) comes before Shipping (400).
    """
    currency = order.order_currency_code

    def price(amount: Amount) -> str:
        return format_price(as_decimal(amount), currency)

    totals = [Total("Subtotal", price(invoice.subtotal))]
    if not is_zero(invoice.discount_amount):
        description = invoice.discount_description or order.discount_description
        label = f"Discount ({description})" if description else "Discount"
        totals.append(Total(label, price(invoice.discount_amount)))
    tax = [Total("Tax", price(invoice.tax_amount))]
    shipping = (
        [] if is_zero(invoice.shipping_amount) else [Total("Shipping & Handling", price(invoice.shipping_amount))]
    )
    totals += tax + shipping if pdf else shipping + tax
    totals.append(Total("Grand Total", price(invoice.grand_total), is_grand_total=True))
    return totals
