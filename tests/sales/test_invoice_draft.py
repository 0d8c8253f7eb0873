"""The invoice being built keeps what the collectors need to know of each row beside the row, in its draft
(``InvoiceItemDraft``), never as attributes stuck on the model instances."""

from __future__ import annotations

import pytest

from sales.services import InvoiceLineRequest, invoice_preview
from tests.sales.test_invoice_rules import D, dynamic_bundle, item

pytestmark = pytest.mark.django_db

DRAFT_FACTS = {"is_dummy", "is_last", "has_children"}


def test_each_rows_place_on_the_order_is_in_its_draft_not_on_the_model_row(import_order):
    # a dynamic bundle: the parent is a dummy with children, the children carry the money
    order = import_order(dynamic_bundle())
    lines = [InvoiceLineRequest(order_item_id=item(order, "DYN").pk, qty=D(1))]  # one of two bundles

    draft = invoice_preview(order_id=order.pk, items=lines)

    facts = {drafted.row.sku: (drafted.is_dummy, drafted.has_children, drafted.is_last) for drafted in draft.items}
    assert facts == {"DYN": (True, True, False), "DYN-A": (False, False, False), "DYN-B": (False, False, False)}
    assert draft.is_last is False
    assert [row.sku for row in draft.rows] == ["DYN", "DYN-A", "DYN-B"]
    assert [sorted(DRAFT_FACTS & vars(instance).keys()) for instance in [*draft.rows, draft.invoice]] == [[]] * 4


def test_the_last_invoice_of_a_line_is_marked_on_the_draft(import_order):
    order = import_order(dynamic_bundle())

    draft = invoice_preview(order_id=order.pk)  # everything left

    assert draft.is_last is True
    assert {drafted.row.sku: drafted.is_last for drafted in draft.items} == {"DYN": False, "DYN-A": True, "DYN-B": True}
