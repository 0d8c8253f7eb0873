"""One invoice reads the same on the admin's invoice page, in its PDF and in its e-mail
(``sales.documents``): the same totals and the same address lines, each laid out its own way."""

import copy
from decimal import Decimal
from types import SimpleNamespace

import pytest

from sales.admin.invoice_page import invoice_page_context
from sales.documents import address_lines, invoice_totals
from sales.models import InvoiceItem
from sales.pdf import invoices_pdf
from sales.selectors import invoice_page_get
from sales.services import invoice_order
from sales.services.invoice_email import invoice_email_context
from tests.conftest import load_seed_order
from tests.sales.test_pdf import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(import_order):
    """Seed 001 (20 % off, $300 shipping) with a coupon description, a company and a VAT number."""
    payload = copy.deepcopy(load_seed_order("001"))
    payload["entity"]["discount_description"] = "SPRING20"
    payload["entity"]["billing_address"].update(company="Cost Holdings", vat_id="US123")
    return invoice_order(order_id=import_order(payload).pk)


def test_the_page_and_the_email_show_the_totals_block_and_the_pdf_pdf_xmls_order(invoice):
    page = invoice_page_context(invoice_page_get(invoice_id=invoice.pk))["invoice_totals"]
    rows = list(InvoiceItem.objects.filter(parent=invoice).select_related("order_item"))
    email = invoice_email_context(invoice, invoice.order, rows)["totals"]
    pdf = text_of(invoices_pdf([invoice]))

    expected = [
        ("Subtotal", "$2,022.00"),
        ("Discount (SPRING20)", "-$404.40"),
        ("Shipping & Handling", "$300.00"),
        ("Tax", "$0.00"),
        ("Grand Total", "$1,917.60"),
    ]
    assert [(total.label, total.amount) for total in page] == expected
    assert [(total.label, total.amount) for total in email] == expected
    in_pdf = [
        "Subtotal: $2,022.00",
        "Discount (SPRING20): -$404.40",
        "Tax: $0.00",
        "Shipping & Handling: $300.00",
        "Grand Total: $1,917.60",
    ]
    positions = [pdf.find(line) for line in in_pdf]
    assert -1 not in positions and positions == sorted(positions)


def test_a_zero_discount_and_zero_shipping_are_left_out_and_the_grand_total_stays():
    order = SimpleNamespace(order_currency_code="EUR", discount_description="")
    invoice = SimpleNamespace(
        subtotal=Decimal("10.0000"),
        discount_amount=Decimal("0.0000"),
        shipping_amount=Decimal("0.0000"),
        tax_amount=Decimal("0.0000"),
        grand_total=Decimal("10.0000"),
        discount_description=None,
    )

    for pdf in (False, True):
        totals = invoice_totals(invoice, order, pdf=pdf)
        assert [total.label for total in totals] == ["Subtotal", "Tax", "Grand Total"]
        assert totals[-1].is_grand_total and not totals[0].is_grand_total


def test_addresses_read_name_first_on_pages_and_mails_and_company_first_in_the_pdf(invoice):
    billing = invoice.order.billing_address
    rows = list(InvoiceItem.objects.filter(parent=invoice).select_related("order_item"))

    page = invoice_page_context(invoice_page_get(invoice_id=invoice.pk))["billing_address"]
    email = invoice_email_context(invoice, invoice.order, rows)["billing_address"]

    assert page == email == address_lines(billing)
    assert page[:2] == ["Roni Cost", "Cost Holdings"] and page[-1] == "VAT: US123"
    assert page[-2].startswith("T: ")
    assert address_lines(billing, company_first=True)[:2] == ["Cost Holdings", "Roni Cost"]
