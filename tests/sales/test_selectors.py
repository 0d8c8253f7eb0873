"""The reads in ``sales.selectors``: amounts never through a Python float, the id list as the invoice read's one
slot, and the admin invoice page read in a fixed number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from sales import selectors
from sales.models import Invoice, InvoiceItem, OrderItem
from sales.selectors import InvoiceFields, invoice_page_get, invoices_with_rows
from sales.services import InvoiceCommentRequest, invoice_order
from tests.factories import OrderFactory, numbered_lines
from tests.helpers import V1, parse

pytestmark = pytest.mark.django_db

AMOUNTS = InvoiceFields(
    invoice=("entity_id", "grand_total", "subtotal", "base_grand_total"),
    item=("entity_id", "price", "row_total"),
    comment=("entity_id",),
)
# 0.1 + 0.2 is 0.30000000000000004 in floats; 12345678901.2345 has 15 significant digits, all a SQLite REAL keeps,
# and Decimal(12345678901.2345) is 12345678901.234500885009765625.
EXACT_ON_BOTH = {"grand_total": "0.3", "subtotal": "12345678901.2345", "price": "0.1", "row_total": "0.2"}
# 20 digits, the column's width (max_digits=20): PostgreSQL keeps them, a float keeps 16 or 17.
TWENTY_DIGITS = "1234567890123456.1234"


@pytest.fixture
def order(db):
    return OrderFactory(lines=numbered_lines(1))


def invoice_with_amounts(order, amounts: dict[str, str]) -> Invoice:
    invoice = Invoice.objects.create(
        order=order,
        store_id=order.store_id,
        increment_id="EXACT-1",
        state=1,
        created_at=timezone.now(),
        **{name: Decimal(amounts[name]) for name in ("grand_total", "subtotal", "base_grand_total") if name in amounts},
    )
    InvoiceItem.objects.create(
        parent=invoice,
        order_item=OrderItem.objects.filter(order=order).first(),
        qty=Decimal(1),
        **{name: Decimal(amounts[name]) for name in ("price", "row_total") if name in amounts},
    )
    return invoice


def floats_in(values) -> list:
    return [value for value in values if isinstance(value, float)]


def as_read(rows, fields: InvoiceFields) -> dict[str, Decimal]:
    """Each amount read, by name; an amount is a Decimal or its text."""
    read = dict(zip(fields.invoice, rows.invoice, strict=True))
    read.update(zip(fields.item, rows.items[0], strict=True))
    return {
        name: Decimal(read[name])
        for name in ("grand_total", "subtotal", "base_grand_total", "price", "row_total")
        if read.get(name) is not None
    }


def test_amounts_are_read_exactly_and_never_as_a_float(order):
    invoice = invoice_with_amounts(order, EXACT_ON_BOTH)

    [rows] = invoices_with_rows(invoice_ids=[invoice.pk], fields=AMOUNTS)

    assert floats_in(rows.invoice) == []
    assert floats_in(rows.items[0]) == []
    assert {name: str(amount) for name, amount in as_read(rows, AMOUNTS).items()} == EXACT_ON_BOTH


def test_the_invoice_json_writes_amounts_as_stored(v1, order):
    invoice = invoice_with_amounts(order, EXACT_ON_BOTH)

    text = v1.get(f"/rest/default/V1/invoices/{invoice.pk}").content.decode()

    for name, amount in EXACT_ON_BOTH.items():
        assert f'"{name}":{amount},' in text or f'"{name}":{amount}}}' in text


@pytest.mark.postgres
def test_a_twenty_digit_amount_is_read_to_its_last_digit(v1, order):
    invoice = invoice_with_amounts(order, {"grand_total": TWENTY_DIGITS, "row_total": TWENTY_DIGITS})

    [rows] = invoices_with_rows(invoice_ids=[invoice.pk], fields=AMOUNTS)
    body = parse(v1.get(f"{V1}/invoices/{invoice.pk}"))

    assert str(as_read(rows, AMOUNTS)["grand_total"]) == str(as_read(rows, AMOUNTS)["row_total"]) == TWENTY_DIGITS
    assert body["grand_total"] == body["items"][0]["row_total"] == Decimal(TWENTY_DIGITS)


def test_the_id_list_is_the_invoice_reads_only_slot():
    sql, _ = selectors._invoice_rows_sql(AMOUNTS, True, connection.vendor)

    # A %s anywhere else in the text would have been filled with the id list's placeholders too.
    assert sql.count("{invoice_ids}") == 1
    assert "%s" not in sql


def test_the_invoice_page_read_loads_everything_the_page_shows_in_five_queries(order, django_assert_num_queries):
    made = invoice_order(order_id=order.pk, notify=True, comment=InvoiceCommentRequest(comment="noted"))

    # The invoice with its order, store, addresses and payment; its rows; comments; e-mails; their attempts.
    with django_assert_num_queries(5):
        invoice = invoice_page_get(invoice_id=made.pk)

    with django_assert_num_queries(0):
        assert invoice.order.store.code == "default"
        assert invoice.order.billing_address is not None and invoice.order.payment.method
        assert [row.order_item.sku for row in invoice.items.all()] == ["LINE-1"]
        assert [comment.comment for comment in invoice.comments.all()] == ["noted"]
        assert [list(email.attempt_log.all()) for email in invoice.emails.all()] == [[]]


def test_the_invoice_page_read_of_an_unknown_invoice_is_none(db):
    assert invoice_page_get(invoice_id=2**40) is None
