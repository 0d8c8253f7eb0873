"""On PostgreSQL the database writes the invoice documents of the hot reads (``invoice_documents``); elsewhere, and
for every other answer, Python writes them (``Shape``). The two writers must give the same text, byte for byte:
flags 0/1, dates ``Y-m-d H:i:s`` UTC, amounts without trailing zeros, nulls left out, keys in Magento's order."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest

from sales import selectors
from sales.api.json import dumps
from sales.api.v1.representations import INVOICE_READ_FIELDS, invoice_dict, invoice_documents
from sales.demo.generator import demo_order_entity
from sales.models import Invoice, InvoiceComment
from sales.services import InvoiceCommentRequest, invoice_order, order_import

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Text a JSON writer must escape, or must not: quotes, backslash, controls, a DEL, non-ASCII, a slash.
AWKWARD_TEXT = 'say "hi" \\ tab\there\nline\x01\x1f\x7f é € 𝄞 </script>'


def python_written(invoice_ids, *, order_number_key=None) -> str:
    found = selectors.invoices_with_rows(
        invoice_ids=invoice_ids, fields=INVOICE_READ_FIELDS, order_number=order_number_key is not None
    )
    documents = [invoice_dict(rows) for rows in found]
    if order_number_key:
        for document, rows in zip(documents, found, strict=True):
            document[order_number_key] = rows.order_increment_id
    return dumps(documents)


@pytest.fixture
def invoices(default_store):
    """Invoices of every line kind the demo draws (bundles, configurables, discounts, tax, two currencies)."""
    rng = random.Random(20261205)
    made = []
    for _ in range(25):
        order = order_import(entity=demo_order_entity(rng), store_id=default_store.pk)
        made.append(invoice_order(order_id=order.pk).pk)
    return made


def test_the_database_writes_an_invoice_document_byte_for_byte_as_python_does(invoices):
    assert dumps(invoice_documents(invoices)) == python_written(invoices)


def test_the_api2_document_carries_the_orders_number_last_as_python_writes_it(invoices):
    key = "order_increment_id"

    written = dumps(invoice_documents(invoices[:1], order_number_key=key))

    assert dumps(invoice_documents(invoices, order_number_key=key)) == python_written(invoices, order_number_key=key)
    order_number = Invoice.objects.values_list("order__increment_id", flat=True).get(pk=invoices[0])
    assert written.endswith(f',"{key}":"{order_number}"}}]')


def test_comments_with_awkward_text_are_escaped_as_python_escapes_them(default_store):
    order = order_import(entity=demo_order_entity(random.Random(7)), store_id=default_store.pk)
    invoice = invoice_order(
        order_id=order.pk, comment=InvoiceCommentRequest(comment=AWKWARD_TEXT, is_visible_on_front=True)
    )
    # A second comment: empty text, is_customer_notified NULL (left out) and False (written 0).
    InvoiceComment.objects.create(parent_id=invoice.pk, comment="", is_customer_notified=None)
    InvoiceComment.objects.create(parent_id=invoice.pk, comment="x", is_customer_notified=False)

    assert dumps(invoice_documents([invoice.pk])) == python_written([invoice.pk])


def test_amounts_with_trailing_zeros_many_digits_or_none_are_written_alike(default_store):
    order = order_import(entity=demo_order_entity(random.Random(11)), store_id=default_store.pk)
    invoice = invoice_order(order_id=order.pk)
    Invoice.objects.filter(pk=invoice.pk).update(
        grand_total=Decimal("123456789012.3400"),
        base_grand_total=Decimal("0.0000"),
        discount_amount=Decimal("-0.0000"),
        subtotal=Decimal("100.0000"),
        transaction_id=None,
        discount_description=None,
    )

    written = dumps(invoice_documents([invoice.pk]))

    assert written == python_written([invoice.pk])
    assert '"grand_total":123456789012.34,' in written and '"subtotal":100,' in written
    assert '"transaction_id"' not in written  # a null is left out


def test_unknown_ids_are_left_out_and_the_order_asked_for_is_kept(invoices):
    asked = [invoices[3], 2**62, invoices[0], invoices[3]]

    documents = invoice_documents(asked)

    assert [document["entity_id"] for document in json.loads(dumps(documents))] == [
        invoices[3],
        invoices[0],
        invoices[3],
    ]
