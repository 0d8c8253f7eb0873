"""``GET /V1/invoices/{id}`` and ``/api2/invoice?id=`` write the invoice the model instances would: the lean read
(one query, rows and comments as JSON) changes no byte of the body."""

from __future__ import annotations

import datetime
import re

import pytest

from sales.api.json import _write
from sales.api.v1.representations import INVOICE_COMMENT_FIELDS, INVOICE_FIELDS, INVOICE_ITEM_FIELDS
from sales.models import Invoice, InvoiceComment
from sales.services import invoice_comment_add, invoice_order
from tests.conftest import load_seed_order
from tests.helpers import parse

pytestmark = pytest.mark.django_db


def reference_body(invoice: Invoice, extra: dict | None = None) -> str:
    """The body as the instance-based representation wrote it before the lean read: getattr over Magento's
    fields, nulls left out, flags 0/1, dates ``Y-m-d H:i:s`` UTC, through the plain writer."""

    def pick(obj, names):
        result = {}
        for name in names:
            value = getattr(obj, name)
            if isinstance(value, bool):
                value = int(value)
            elif isinstance(value, datetime.datetime):
                value = value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
            if value is not None:
                result[name] = value
        return result

    data = pick(invoice, INVOICE_FIELDS)
    data["items"] = [pick(item, INVOICE_ITEM_FIELDS) for item in invoice.items.order_by("id")]
    data["comments"] = [pick(c, INVOICE_COMMENT_FIELDS) for c in invoice.comments.order_by("created_at", "id")]
    data.update(extra or {})
    parts: list[str] = []
    _write(data, parts.append)
    return "".join(parts)


@pytest.fixture
def bundle_invoice_with_comments(import_order) -> Invoice:
    """Seed 000 (simple, downloadable, dynamic bundle with its children, configurable) invoiced whole,
    with comments that are notified or not, visible or not, and text that looks like JSON numbers."""
    order = import_order(load_seed_order("000"))
    invoice = invoice_order(order_id=order.pk)
    invoice_comment_add(
        invoice_id=invoice.pk, comment='Paid 1.50, then 2E+2 "quoted"\nÜber €', is_customer_notified=True
    )
    invoice_comment_add(invoice_id=invoice.pk, comment="second", is_visible_on_front=True)
    InvoiceComment.objects.filter(parent=invoice, comment="second").update(is_customer_notified=None)
    return Invoice.objects.get(pk=invoice.pk)


def test_the_v1_detail_is_the_instances_body_byte_for_byte(v1, bundle_invoice_with_comments):
    invoice = bundle_invoice_with_comments

    response = v1.get(f"/rest/default/V1/invoices/{invoice.pk}")

    assert response.status_code == 200, response.content
    assert response.content.decode() == reference_body(invoice)
    body = parse(response)
    assert len(body["items"]) == 9 and len(body["comments"]) == 2
    assert body["comments"][0]["is_customer_notified"] == 1 and "is_customer_notified" not in body["comments"][1]
    assert body["comments"][1]["is_visible_on_front"] == 1


def test_the_amounts_are_written_as_magento_writes_them(v1, bundle_invoice_with_comments):
    text = v1.get(f"/rest/default/V1/invoices/{bundle_invoice_with_comments.pk}").content.decode()

    assert '"grand_total":165,' in text and '"base_grand_total":165,' in text
    assert '"base_shipping_amount":5,' in text and '"subtotal":160,' in text
    assert '"total_qty":9,' in text and '"base_to_global_rate":1,' in text
    assert '"discount_amount":0,' in text
    assert '"comment":"Paid 1.50, then 2E+2 \\"quoted\\"\\nÜber €"' in text
    assert re.search(r"[:,\[]-?\d+\.\d*0[,}\]]", text) is None  # no amount with trailing zeros


def test_the_api2_lookup_is_the_v1_invoice_plus_the_orders_number(v1, bundle_invoice_with_comments):
    invoice = bundle_invoice_with_comments

    response = v1.get(f"/api2/invoice?id={invoice.pk}")

    expected = reference_body(invoice, {"order_increment_id": invoice.order.increment_id})
    assert response.content.decode() == '{"invoice":' + expected + "}"


def test_the_v1_search_list_writes_the_same_invoices(v1, bundle_invoice_with_comments):
    invoice = bundle_invoice_with_comments

    response = v1.get("/rest/default/V1/invoices?searchCriteria[pageSize]=5")

    assert response.status_code == 200, response.content
    assert response.content.decode().startswith('{"items":[' + reference_body(invoice) + "]")
