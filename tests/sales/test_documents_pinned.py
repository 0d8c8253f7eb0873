"""What an invoice shows (``sales.documents``), pinned where the mutation run (``make mutate``) found it loose:
Magento's customer name, its address templates' lines, and the totals block's labels. Orders come from
``tests/factories.py`` through the import service; invoices through ``invoice_order``.
"""

from __future__ import annotations

import pytest

from sales.documents import address_lines, customer_name, invoice_totals, qty_text
from tests.factories import ADDRESS, InvoiceFactory, OrderFactory, line

pytestmark = pytest.mark.django_db

FULL_ADDRESS = {
    "prefix": "Dr.",
    "firstname": "Ada",
    "middlename": "King",
    "lastname": "Lovelace",
    "suffix": "Jr.",
    "company": "Analytical Engines",
    "street": ["12 Analytical Row", "Floor 2"],
    "city": "London",
    "region": "Greater London",
    "postcode": "EC1A 1AA",
    "country_id": "GB",
    "telephone": "020 7946 0000",
    "vat_id": "GB123456789",
}


def test_the_customer_name_is_the_customers_names_or_guest_without_a_first_name():
    # Order::getCustomerName: the customer's names when there is a first name, else "Guest"
    named = OrderFactory(customer_firstname="Ada", customer_middlename="King", customer_lastname="Lovelace")
    assert customer_name(named) == "Ada King Lovelace"
    unnamed = OrderFactory(customer_firstname=None, customer_lastname="Lovelace")
    assert customer_name(unnamed) == "Guest"


def test_an_address_reads_name_company_street_city_region_postcode_country_phone_and_vat():
    order = OrderFactory(billing_address=dict(FULL_ADDRESS))
    # The html address template: the full name, the company, each street line, "city, region, postcode"
    assert address_lines(order.billing_address) == [
        "Dr. Ada King Lovelace Jr.",
        "Analytical Engines",
        "12 Analytical Row",
        "Floor 2",
        "London, Greater London, EC1A 1AA",
        "GB",
        "T: 020 7946 0000",
        "VAT: GB123456789",
    ]
    # The PDF template puts the company first
    assert address_lines(order.billing_address, company_first=True)[:3] == [
        "Analytical Engines",
        "Dr. Ada King Lovelace Jr.",
        "12 Analytical Row",
    ]


def test_an_address_leaves_out_the_parts_it_does_not_have():
    # Given an address with no company, region, phone or VAT number
    bare = {key: ADDRESS[key] for key in ("firstname", "lastname", "street", "city", "postcode", "country_id")}
    order = OrderFactory(billing_address=bare)
    assert address_lines(order.billing_address) == ["Ada Lovelace", "12 Analytical Row", "London, EC1A 1AA", "GB"]
    # And an order without a shipping address has no lines for it
    assert address_lines(None) == []


def test_the_discount_total_is_labelled_with_the_invoices_description_else_its_orders_else_plain():
    # Given an invoice of a discounted order whose coupon reads SPRING20 (the invoice copies it)
    invoice = InvoiceFactory(order__discounted=True, order__discount_description="SPRING20")
    order = invoice.order

    def discount_label() -> str:
        return [total.label for total in invoice_totals(invoice, order) if total.label.startswith("Discount")][0]

    assert discount_label() == "Discount (SPRING20)"
    # The invoice's own description comes first
    invoice.discount_description = "Staff 10 %"
    assert discount_label() == "Discount (Staff 10 %)"
    # An invoice stored without one reads its order's
    invoice.discount_description = None
    assert discount_label() == "Discount (SPRING20)"
    # And with neither, the line is plain "Discount"
    order.discount_description = None
    assert discount_label() == "Discount"
    assert [total.amount for total in invoice_totals(invoice, order)][:2] == ["$68.00", "-$13.60"]


def test_the_totals_block_shows_the_invoices_own_amounts_in_the_order_currency():
    # Given a EUR order (on a USD base) of 2 x 34.00 taxed 8.25 %, with 5.00 shipping taxed 0.41
    invoice = InvoiceFactory(order__taxed=True, order__base_factor="1.25")
    # Then the page reads Subtotal, Shipping & Handling, Tax (rows 5.61 + shipping 0.41), Grand Total in euros
    assert [tuple(total) for total in invoice_totals(invoice, invoice.order)] == [
        ("Subtotal", "€68.00", False),
        ("Shipping & Handling", "€5.00", False),
        ("Tax", "€6.02", False),
        ("Grand Total", "€79.02", True),
    ]
    # And the PDF puts Tax before Shipping & Handling (pdf.xml's sort order)
    assert [total.label for total in invoice_totals(invoice, invoice.order, pdf=True)] == [
        "Subtotal",
        "Tax",
        "Shipping & Handling",
        "Grand Total",
    ]


def test_a_quantity_reads_without_the_columns_trailing_zeros():
    # Given an invoice of 2 units and a decimal quantity (the columns hold 4 decimals: 2.0000, 1.5000)
    invoice = InvoiceFactory(order__lines=[line("A", 2, "10.00"), line("W", "1.5", "4.00", is_qty_decimal=True)])
    qty = {row.sku: qty_text(row.qty) for row in invoice.items.all()}
    assert qty == {"A": "2", "W": "1.5"}
