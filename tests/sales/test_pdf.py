"""PDF invoices (reference 9.3): Magento's layout, read back with pypdf, in any script.

Magento #12323: its PDFs print Cyrillic, Arabic and CJK names as blanks. Here each name must both
print, from an embedded font that has its glyphs, and extract. pypdf reads text without honouring
the graphics state a viewer keeps, so the names are also read with PDFium (Chrome's PDF engine),
which sees what a viewer shows.
"""

from __future__ import annotations

import datetime
import io
import re

import pypdfium2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from sales.models import Invoice
from sales.pdf import COLUMN_WIDTHS, MARGIN, invoices_pdf, pdf_filename
from sales.services import invoice_order
from tests.conftest import load_seed_order
from tests.factories import ADDRESS, InvoiceFactory, line

pytestmark = pytest.mark.django_db

MM = 72 / 25.4  # PDF points per millimetre


# -- helpers ---------------------------------------------------------------------------------------


def read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in read(pdf).pages]


def text_of(pdf: bytes) -> str:
    return "\n".join(page_texts(pdf))


def viewer_text(pdf: bytes) -> str:
    """The text as PDFium reads it: with the fonts a viewer would draw it in."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range().replace("\r\n", "\n") for page in document)
    finally:
        document.close()


def chunks(page) -> list[tuple[float, float, str]]:
    """(x in mm from the left edge, y in points from the bottom, text) of every piece of text drawn."""
    found = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            found.append((tm[4] / MM, tm[5], text.strip()))

    page.extract_text(visitor_text=visit)
    return found


def column_text(page, column: int) -> list[str]:
    """The text of one column of the rows table, top to bottom, from its heading to the totals."""
    drawn = chunks(page)
    top = max(y for _x, y, text in drawn if text == "Products")  # the table's heading row
    bottom = max((y for _x, y, text in drawn if text == "Subtotal:"), default=0)  # the totals, if here
    left = MARGIN + sum(COLUMN_WIDTHS[:column])
    right = left + COLUMN_WIDTHS[column]
    cells = sorted((-y, x, text) for x, y, text in drawn if left <= x < right and bottom < y < top)
    return [text for _y, _x, text in cells]


def embedded_fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in read(pdf).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def invoiced(import_order, payload: dict, **overrides) -> Invoice:
    order = import_order(payload, **overrides)
    return invoice_order(order_id=order.pk)


def seed(name: str) -> dict:
    return load_seed_order(name)


def lines_of_one_dollar(count: int) -> list[dict]:
    """``count`` simple rows LINE-001 ... of one unit at 1.00 each."""
    return [line(f"LINE-{number:03d}", 1, "1.00") for number in range(1, count + 1)]


# -- one invoice -------------------------------------------------------------------------------------


def test_seed_000_invoice_prints_magentos_blocks_rows_and_totals(import_order):
    # Given seed 000 (a simple, a downloadable, a bundle of four and a configurable) invoiced whole
    invoice = invoiced(import_order, seed("000"))
    # When its PDF is made
    pdf = invoices_pdf([invoice])
    text = text_of(pdf)
    # Then it carries the document number, the order's number and date, and both addresses
    assert f"Invoice # {invoice.increment_id}" in text
    assert "Order # 000000003" in text
    assert "Order Date: Aug 21, 2017" in text
    assert "Sold to:" in text and "Ship to:" in text
    assert "Roni Cost" in text and "6146 Honey Bluff Parkway" in text and "Calder, Michigan, 49628-7978" in text
    # And the payment method's title, and the shipping method with the order's shipping charges
    assert "Payment Method:" in text and "Check / Money order" in text
    assert "Shipping Method:" in text and "Flat Rate - Fixed" in text
    assert "(Total Shipping Charges $5.00)" in text
    # And the rows table has Magento's columns and every SKU (the bundle's long one wraps in its cell)
    assert re.search(r"Products\s+SKU\s+Price\s+Qty\s+Tax\s+Subtotal", text)
    skus = column_text(read(pdf).pages[0], 1)
    joined = "".join(skus)
    for sku in [row["sku"] for row in seed("000")["entity"]["items"]]:
        assert sku in skus or sku in joined
    # And the totals in pdf.xml's order, in the order's currency, with no discount line for no discount
    labels = ["Subtotal: $160.00", "Tax: $0.00", "Shipping & Handling: $5.00", "Grand Total: $165.00"]
    positions = [text.find(label) for label in labels]
    assert -1 not in positions and positions == sorted(positions)
    assert "Discount" not in text


def test_child_rows_are_drawn_under_their_parent_and_indented(import_order):
    # Given seed 000's invoice, with a bundle (four children) and a configurable (one child)
    pdf = invoices_pdf([invoiced(import_order, seed("000"))])
    page = read(pdf).pages[0]
    names = {text: x for x, _y, text in chunks(page) if x < MARGIN + COLUMN_WIDTHS[0]}
    # When the Products column is read top to bottom
    column = column_text(page, 0)
    # Then each child follows its parent
    bundle = column.index("Sprite Yoga Companion Kit")
    assert column[bundle + 1 : bundle + 5] == [
        "Sprite Stasis Ball 65 cm",
        "Sprite Foam Yoga Brick",
        "Sprite Yoga Strap 8 foot",
        "Sprite Foam Roller",
    ]
    assert column[column.index("Chaz Kangeroo Hoodie") + 1] == "Chaz Kangeroo Hoodie-S-Gray"
    # And is indented from the parent's edge
    assert names["Sprite Foam Roller"] > names["Sprite Yoga Companion Kit"] + 3
    assert names["Chaz Kangeroo Hoodie-S-Gray"] > names["Chaz Kangeroo Hoodie"] + 3


def test_a_discount_is_printed_between_subtotal_and_tax():
    # Given seed 001's order (a 20% discount and 300.00 shipping) paid by bank transfer, invoiced whole
    invoice = InvoiceFactory(order__seed_001=True, order__payment_method="banktransfer")
    # When its PDF is read
    text = text_of(invoices_pdf([invoice]))
    # Then the totals are Subtotal, Discount, Tax, Shipping & Handling, Grand Total
    labels = [
        "Subtotal: $2,022.00",
        "Discount: -$404.40",
        "Tax: $0.00",
        "Shipping & Handling: $300.00",
        "Grand Total: $1,917.60",
    ]
    positions = [text.find(label) for label in labels]
    assert -1 not in positions and positions == sorted(positions)
    assert "Bank Transfer Payment" in text


def test_a_virtual_order_has_no_ship_to_nor_shipping_method():
    # Given a virtual order's invoice: one downloadable at 18.00, no shipping address, no shipping
    invoice = InvoiceFactory(
        order__virtual=True, order__lines=[line("240-LV08", 1, "18.00", product_type="downloadable")]
    )
    # When its PDF is read
    text = text_of(invoices_pdf([invoice]))
    # Then it has the billing address and payment method only
    assert "Sold to:" in text and "Payment Method:" in text
    assert "Ship to:" not in text
    assert "Shipping Method:" not in text and "Total Shipping Charges" not in text
    assert "Shipping & Handling" not in text
    assert "Grand Total: $18.00" in text


# -- names in any script (Magento #12323) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("firstname", "lastname", "font"),
    [
        ("Иван", "Петров", "NotoSans"),
        ("محمد", "العلي", "NotoSansArabic"),
        ("山田", "太郎", "DroidSansFallback"),
    ],
    ids=["cyrillic", "arabic", "cjk"],
)
def test_names_in_any_script_print_and_extract(firstname, lastname, font):
    # Given an order billed to a name in Cyrillic, Arabic or CJK letters (at the factories' London address)
    invoice = InvoiceFactory(order__billing_address=ADDRESS | {"firstname": firstname, "lastname": lastname})
    # When its PDF is made
    pdf = invoices_pdf([invoice])
    # Then the name's glyphs come from an embedded font that has them
    assert font in embedded_fonts(pdf)
    # And the name extracts, every letter (a glyph no font has is dropped, and would fail this);
    # Arabic is shaped right to left, so pypdf may give its words in either order
    text = text_of(pdf)
    for word in (firstname, lastname):
        assert word in text or word[::-1] in text
    # And a viewer shows the name, then the address lines in the main font (fpdf2 drew the text
    # after a name that starts with a fallback glyph in the wrong font: see _InvoiceDocument)
    shown = viewer_text(pdf)
    assert f"Sold to:\n{firstname} {lastname}\n12 Analytical Row\nLondon, EC1A 1AA\nGB\n" in shown
    assert "Ship to:\nAda Lovelace\n12 Analytical Row\n" in shown


# -- several invoices, several pages -----------------------------------------------------------------


def test_each_invoice_starts_a_new_page_in_the_order_given():
    # Given two invoices of two orders
    first = InvoiceFactory(order__bundle=True)
    second = InvoiceFactory(order__seed_001=True)
    # When one PDF is made of both, the second first
    pages = page_texts(invoices_pdf([second, first]))
    # Then each invoice has its own first page, in that order
    assert len(pages) >= 2
    starts = [index for index, text in enumerate(pages) if "Sold to:" in text]
    assert len(starts) == 2
    assert f"Invoice # {second.increment_id}" in pages[starts[0]]
    assert f"Invoice # {first.increment_id}" in pages[starts[1]]
    assert f"Order # {second.order.increment_id}" in pages[starts[0]]
    assert f"Order # {first.order.increment_id}" in pages[starts[1]]
    assert f"Invoice # {first.increment_id}" not in pages[starts[0]]


def test_a_queryset_prints_like_a_list():
    first = InvoiceFactory(order__bundle=True)
    second = InvoiceFactory(order__seed_001=True)
    queryset = Invoice.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk")
    assert page_texts(invoices_pdf(queryset)) == page_texts(invoices_pdf([first, second]))


def test_120_rows_flow_onto_new_pages_with_the_table_heading_repeated():
    # Given an invoice of 120 lines of 1.00, with 5.00 shipping
    invoice = InvoiceFactory(order__lines=lines_of_one_dollar(120), order__increment_id="000000120")
    # When its PDF is made
    pdf = invoices_pdf([invoice])
    pages = page_texts(pdf)
    # Then the rows take several pages, each with the table's heading
    assert len(pages) >= 3
    for text in pages:
        assert re.search(r"Products\s+SKU\s+Price\s+Qty\s+Tax\s+Subtotal", text)
    # And the pages after the first say whose they are, and are numbered within the invoice
    for number, text in enumerate(pages[1:], start=2):
        assert f"Invoice # {invoice.increment_id} - Order # 000000120 (continued)" in text
        assert f"Page {number}" in text
    # And every row is printed once, in order, and the totals come once, at the end
    skus = [sku for page in read(pdf).pages for sku in column_text(page, 1)]
    assert skus == [f"LINE-{number:03d}" for number in range(1, 121)]
    assert [text.count("Grand Total: $125.00") for text in pages] == [0] * (len(pages) - 1) + [1]


def test_no_invoices_give_an_empty_but_valid_pdf():
    assert len(read(invoices_pdf([])).pages) == 1


# -- queries -----------------------------------------------------------------------------------------


def test_the_query_count_does_not_grow_with_the_number_of_invoices():
    # Given ten invoices of ten orders, each a bundle with its children
    invoices = [InvoiceFactory(order__bundle=True) for _ in range(10)]
    ids = [invoice.pk for invoice in invoices]

    def queries(argument) -> int:
        with CaptureQueriesContext(connection) as captured:
            invoices_pdf(argument)
        return len(captured.captured_queries)

    # When one and then all ten are printed, from a queryset and from instances at hand
    one, ten = queries(Invoice.objects.filter(pk=ids[0])), queries(Invoice.objects.filter(pk__in=ids))
    one_listed, ten_listed = queries(invoices[:1]), queries(invoices)
    # Then the same few queries read them: the ids (for a queryset), the invoices with their order,
    # addresses and payment, and their rows
    assert one == ten == 3
    assert one_listed == ten_listed == 2


# -- download name -----------------------------------------------------------------------------------


def test_pdf_filename_is_magentos():
    assert pdf_filename(datetime.datetime(2024, 5, 1, 13, 45, 7)) == "invoice2024-05-01_13-45-07.pdf"
    aware = datetime.datetime(2024, 5, 1, 13, 45, 7, tzinfo=datetime.UTC)
    assert pdf_filename(aware) == "invoice2024-05-01_13-45-07.pdf"  # tests run in UTC
