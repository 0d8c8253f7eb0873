"""PDF invoices: Magento's printout (reference 9.3), with fonts that print every customer's name.

Magento draws its PDFs with the PDF standard fonts, which have no Cyrillic, Arabic or CJK glyphs,
so such names print as blanks or garbage (Magento #12323). Here fpdf2 embeds subsets of the fonts
vendored in ``sales/fonts`` (see its README): Noto Sans for Latin, Greek and Cyrillic, Noto Sans
Arabic, shaped right to left by HarfBuzz, and Droid Sans Fallback for Chinese, Japanese and Korean.
A character the first font lacks is taken from the next that has it.

One PDF holds any number of invoices, each starting on a new page, and is read with the same
queries whatever their number: the ids (when given a queryset), the invoices with their order,
addresses and payment, and their rows.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.dateformat import format as date_format
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, TableCellFillMode, TextEmphasis, XPos, YPos
from fpdf.fonts import FontFace

from payments.methods import method_get
from sales.documents import address_lines, invoice_totals, qty_text
from sales.items import invoice_rows_parent_first
from sales.models import Invoice, InvoiceItem, Order
from sales.money import Amount, format_price

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILES = (
    # (family, style, file): the main family first, then the fallbacks in the order they are tried.
    ("noto", "", "NotoSans-Regular.ttf"),
    ("noto", "B", "NotoSans-Bold.ttf"),
    ("noto-arabic", "", "NotoSansArabic-Regular.ttf"),
    ("droid-cjk", "", "DroidSansFallback-CJK.ttf"),
)
FONT = "noto"
FALLBACK_FONTS = ("noto-arabic", "droid-cjk")

# A4 in millimetres, with Magento's column set.
MARGIN = 15
BOTTOM_MARGIN = 18
BODY_PT = 9
LINE = 4.6
GREY_FILL = (230, 230, 230)
BOX_FILL = (242, 242, 242)
RULE = (160, 160, 160)
MUTED = (110, 110, 110)
COLUMNS = ("Products", "SKU", "Price", "Qty", "Tax", "Subtotal")
COLUMN_WIDTHS = (62, 38, 22, 14, 20, 24)  # 180 mm: the page less its margins
COLUMN_ALIGN = ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")
CHILD_INDENT = 5


def pdf_filename(now: datetime.datetime) -> str:
    """Magento's download name: ``invoice2024-05-01_13-45-07.pdf`` (in the current time zone)."""
    if timezone.is_aware(now):
        now = timezone.localtime(now)
    return f"invoice{now:%Y-%m-%d_%H-%M-%S}.pdf"


def invoices_pdf(invoices: Iterable[Invoice]) -> bytes:
    """One PDF of the given invoices, in the order given, each starting on a new page."""
    document = _InvoiceDocument()
    for invoice in _load(invoices):
        _draw_invoice(document, invoice)
    if document.page_no() == 0:
        document.add_page()  # a valid, empty document rather than a broken one
    return bytes(document.output())


# -- reading -----------------------------------------------------------------------------------------


def _load(invoices: Iterable[Invoice]) -> list[Invoice]:
    """The invoices again, with everything the printout reads, in a fixed number of queries."""
    if isinstance(invoices, QuerySet):
        ids = list(invoices.values_list("pk", flat=True))
    else:
        ids = [invoice.pk for invoice in invoices]
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    rows = InvoiceItem.objects.select_related("order_item").order_by("id")
    loaded = (
        Invoice.objects.filter(pk__in=ids)
        .select_related("store", "order__billing_address", "order__shipping_address", "order__payment")
        .prefetch_related(Prefetch("items", queryset=rows))
    )
    by_id = {invoice.pk: invoice for invoice in loaded}
    return [by_id[pk] for pk in ids if pk in by_id]


def _store_lines(invoice: Invoice) -> tuple[str, list[str]]:
    """The store's name and its address (Magento's ``sales/identity/address``).

    The address comes from ``settings.SALES_IDENTITY_ADDRESS``: one multi-line string, or a dict
    of them by store code with ``"*"`` for the rest. Without it only the name is printed.
    """
    store = invoice.store
    name = store.frontend_name or store.name or invoice.order.store_name or ""
    configured = settings.SALES_IDENTITY_ADDRESS
    if isinstance(configured, dict):
        configured = configured.get(store.code, configured.get("*", ""))
    return name, [line.strip() for line in str(configured or "").splitlines() if line.strip()]


def _order_date(order: Order) -> str:
    """Magento's medium date in the store's time zone: ``Aug 21, 2017``."""
    return date_format(timezone.localtime(order.created_at), "M j, Y")


# -- drawing -----------------------------------------------------------------------------------------


class _InvoiceDocument(FPDF):
    """A4 portrait in millimetres; pages after an invoice's first carry a reminder of whose they are."""

    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=BOTTOM_MARGIN)
        for family, style, filename in FONT_FILES:
            self.add_font(family, style, str(FONTS_DIR / filename))
        self.set_fallback_fonts(list(FALLBACK_FONTS), exact_match=False)
        self.set_text_shaping(True)
        self.set_creator("Counterfoil")
        self.set_title("Invoices")
        self.invoice: Invoice | None = None
        self.invoice_page = 0  # the current page's number within its invoice
        self.page_numbers: dict[int, int] = {}  # document page -> page within its invoice, for the footer

    def start_invoice(self, invoice: Invoice) -> None:
        self.invoice = invoice
        self.invoice_page = 0
        self.add_page()

    # fpdf2 (2.8.9) sets a page's font lazily, with the first text drawn after set_font() or
    # add_page(). When that text starts with a fallback glyph (an Arabic or CJK name), the font is
    # set inside a saved graphics state that is closed right after, and the text that follows
    # prints with no font or the wrong one (py-pdf/fpdf2#1772, not fully fixed by its 2.8.8 patch).
    # Setting the font on the page at once avoids it; tests/sales/test_pdf.py checks the lines after
    # such a name.
    def set_font(self, family: str | None = None, style: str | TextEmphasis = "", size: float = 0) -> None:
        super().set_font(family, style, size)
        self._set_font_now()

    def set_font_size(self, size: float) -> None:
        super().set_font_size(size)
        self._set_font_now()

    def add_page(self, *args: Any, **kwargs: Any) -> None:
        super().add_page(*args, **kwargs)
        self._set_font_now()

    def _set_font_now(self) -> None:
        if self.page and self.current_font is not None and not self.current_font_is_set_on_page:
            self._out(self._set_font_for_page(self.current_font, self.font_size_pt))

    def header(self) -> None:
        if self.invoice is None:
            return
        self.invoice_page += 1
        self.page_numbers[self.page] = self.invoice_page
        if self.invoice_page == 1:
            return  # an invoice's first page has the full heading, drawn by _draw_invoice
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        text = f"Invoice # {self.invoice.increment_id} - Order # {self.invoice.order.increment_id} (continued)"
        self.cell(0, LINE, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        number = self.page_numbers.get(self.page)
        if number is None:
            return
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, LINE, f"Page {number}", align="R")
        self.set_text_color(0)

    def body_font(self, style: str = "", size: float = BODY_PT) -> None:
        self.set_font(FONT, style, size)


def _draw_invoice(pdf: _InvoiceDocument, invoice: Invoice) -> None:
    order = invoice.order
    pdf.start_invoice(invoice)
    _draw_store(pdf, invoice)
    _draw_heading_box(pdf, invoice, order)
    left_width = right_width = (pdf.epw - 6) / 2
    if order.is_virtual:
        _draw_columns(pdf, [("Sold to:", address_lines(order.billing_address, company_first=True))], left_width)
        _draw_columns(pdf, [("Payment Method:", _payment_lines(order))], left_width)
    else:
        _draw_columns(
            pdf,
            [
                ("Sold to:", address_lines(order.billing_address, company_first=True)),
                ("Ship to:", address_lines(order.shipping_address, company_first=True)),
            ],
            left_width,
            right_width,
        )
        charges = format_price(order.shipping_amount or 0, order.order_currency_code)
        shipping = [order.shipping_description or "", f"(Total Shipping Charges {charges})"]
        _draw_columns(
            pdf, [("Payment Method:", _payment_lines(order)), ("Shipping Method:", shipping)], left_width, right_width
        )
    _draw_rows(pdf, invoice)
    _draw_totals(pdf, invoice)


def _payment_lines(order: Order) -> list[str]:
    """The method's title, and the PO number of a purchase order (Magento's payment info block)."""
    payment = getattr(order, "payment", None)  # selected with the order; None when it has none
    if payment is None:
        return []
    lines = [method_get(payment.method).title]
    if payment.po_number:
        lines.append(f"Purchase Order Number: {payment.po_number}")
    return lines


def _draw_store(pdf: _InvoiceDocument, invoice: Invoice) -> None:
    name, address = _store_lines(invoice)
    pdf.body_font("B", 14)
    pdf.multi_cell(0, 7, name, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.body_font("", BODY_PT)
    for line in address:
        pdf.multi_cell(0, LINE, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _draw_heading_box(pdf: _InvoiceDocument, invoice: Invoice, order: Order) -> None:
    """Magento's grey box: the document number, then the order's number and date."""
    top = pdf.get_y()
    height = 8 + 2 * LINE + 4
    pdf.set_fill_color(*BOX_FILL)
    pdf.set_draw_color(*RULE)
    pdf.rect(pdf.l_margin, top, pdf.epw, height, style="DF")
    pdf.set_xy(pdf.l_margin + 3, top + 2)
    pdf.body_font("B", 13)
    pdf.cell(0, 7, f"Invoice # {invoice.increment_id}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.body_font()
    pdf.set_x(pdf.l_margin + 3)
    pdf.cell(0, LINE, f"Order # {order.increment_id}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + 3)
    pdf.cell(0, LINE, f"Order Date: {_order_date(order)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(top + height + 4)


def _draw_columns(pdf: _InvoiceDocument, blocks: Sequence[tuple[str, list[str]]], *widths: float) -> None:
    """Side-by-side blocks, each a grey title bar over its lines; the next part starts below the longest."""
    top = pdf.get_y()
    bottom = top
    x = pdf.l_margin
    gap = pdf.epw - sum(widths) if len(widths) > 1 else 0
    for (title, lines), width in zip(blocks, widths, strict=True):
        pdf.set_xy(x, top)
        pdf.body_font("B")
        pdf.set_fill_color(*GREY_FILL)
        pdf.cell(width, LINE + 1.4, f" {title}", fill=True, new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.ln(1)
        pdf.body_font()
        for line in lines:
            pdf.set_x(x + 1.5)
            pdf.multi_cell(width - 3, LINE, line, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
        bottom = max(bottom, pdf.get_y())
        x += width + gap
    pdf.set_xy(pdf.l_margin, bottom + 4)


def _draw_rows(pdf: _InvoiceDocument, invoice: Invoice) -> None:
    """The rows table; fpdf2 moves a row that does not fit to a new page and repeats the heading there."""
    currency = invoice.order.order_currency_code

    def money(amount: Amount) -> str:
        return format_price(amount, currency) if amount is not None else ""

    pdf.body_font()
    pdf.set_draw_color(*RULE)
    pdf.set_fill_color(255)
    pdf.set_line_width(0.2)
    with pdf.table(
        col_widths=COLUMN_WIDTHS,
        width=pdf.epw,
        text_align=COLUMN_ALIGN,
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=FontFace(emphasis="BOLD", fill_color=GREY_FILL),
        cell_fill_mode=TableCellFillMode.NONE,
        line_height=LINE,
        padding=(1.6, 1.5, 1.6, 1.5),
        repeat_headings=1,
    ) as table:
        table.row(COLUMNS)
        for row, is_child in invoice_rows_parent_first(invoice.items.all()):
            priced = row.row_total is not None  # a dummy row of a composite line carries no money
            cells = table.row()
            indent = (1.6, 1.5, 1.6, 1.5 + CHILD_INDENT) if is_child else None
            cells.cell(row.name or "", padding=indent)
            cells.cell(row.sku or "")
            cells.cell(money(row.price) if priced else "")
            cells.cell(qty_text(row.qty))
            cells.cell(money(row.tax_amount) if priced else "")
            cells.cell(money(row.row_total))


def _draw_totals(pdf: _InvoiceDocument, invoice: Invoice) -> None:
    """Right-aligned totals under the table; they move to a new page together if they do not fit."""
    # Magento's PDF labels end with a colon.
    totals = [(f"{label}:", amount, grand) for label, amount, grand in invoice_totals(invoice, invoice.order, pdf=True)]
    height = 3 + LINE * 1.3 * len(totals)
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(3)
    amount_width = 32
    label_width = 70
    x = pdf.l_margin + pdf.epw - amount_width - label_width
    for label, amount, grand in totals:
        pdf.body_font("B" if grand else "", 10 if grand else BODY_PT)
        pdf.set_x(x)
        pdf.cell(label_width, LINE * 1.3, label, align="R")
        pdf.cell(amount_width, LINE * 1.3, amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
