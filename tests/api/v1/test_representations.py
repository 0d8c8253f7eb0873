"""Magento's JSON is written by one rule whatever the read: the lean selector rows and the ORM's instances give
the same text for the same invoice (flags 0/1, dates ``Y-m-d H:i:s`` UTC, amounts without trailing zeros)."""

from __future__ import annotations

import pytest

from sales import selectors
from sales.api.json import dumps
from sales.api.v1.representations import INVOICE, INVOICE_COMMENT, INVOICE_ITEM, INVOICE_READ_FIELDS, invoice_dict
from sales.models import Invoice
from sales.services import InvoiceCommentRequest, invoice_order
from tests.factories import OrderFactory, numbered_lines

pytestmark = pytest.mark.django_db


def test_an_invoice_read_as_rows_or_as_instances_is_written_alike(db):
    order = OrderFactory(lines=numbered_lines(2))
    made = invoice_order(order_id=order.pk, comment=InvoiceCommentRequest(comment="noted", is_visible_on_front=True))
    invoice = Invoice.objects.get(pk=made.pk)

    (rows,) = selectors.invoices_with_rows(invoice_ids=[invoice.pk], fields=INVOICE_READ_FIELDS)
    from_rows = invoice_dict(rows)
    from_instances = INVOICE.from_instance(invoice)
    from_instances["items"] = [INVOICE_ITEM.from_instance(row) for row in invoice.items.order_by("id")]
    from_instances["comments"] = [INVOICE_COMMENT.from_instance(comment) for comment in invoice.comments.all()]

    assert dumps(from_rows) == dumps(from_instances)
    assert from_rows["comments"][0]["is_visible_on_front"] == 1  # a flag, 0/1
    assert len(from_rows["created_at"]) == len("2026-01-01 09:30:00")
