"""notifications names no other app's model: what a sent mail marks on its invoice is the subscription of the app
that keeps the mark (sales, from ``SalesConfig.ready()``), written with the outbox's own "sent" bookkeeping."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils import timezone

import notifications
from notifications import sent
from notifications.models import EmailOutbox
from sales.models import Invoice
from sales.services import invoice_comment_add, invoice_order
from tests.notifications.test_sent_bookkeeping import IN_A_TRANSACTION, ONE_STATEMENT, claimed


def test_notifications_reaches_no_model_of_another_app_by_name():
    found = []
    for source in Path(notifications.__file__).parent.rglob("*.py"):
        if "migrations" in source.parts:
            continue  # a migration's foreign key names its target, as the model's own declaration does
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "get_model":
                found.append(f"{source.name}:{node.lineno} get_model")
            if isinstance(node, ast.ImportFrom | ast.Import):
                modules = [node.module] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
                found += [f"{source.name}:{node.lineno} {name}" for name in modules if name.split(".")[0] == "sales"]
    assert found == []


def test_sales_subscribes_its_invoices_email_sent_to_the_new_invoice_mail_only():
    assert sent.invoice_columns_when_sent("invoice_new", 7) == {"email_sent": 1}
    assert sent.invoice_columns_when_sent("invoice_update", 7) == {}
    assert sent.invoice_columns_when_sent("invoice_new", None) == {}


@pytest.mark.django_db
@pytest.mark.parametrize("record_sent", [ONE_STATEMENT, IN_A_TRANSACTION])
def test_the_bookkeeping_writes_what_was_subscribed_for_the_mails_kind(seed_order, record_sent, monkeypatch):
    monkeypatch.setattr(sent, "_invoice_columns", {})  # a subscriber for the update mail, and none for the new one
    sent.on_email_sent("invoice_update", set_on_invoice={"email_sent": 2})
    invoice = invoice_order(order_id=seed_order().pk)
    invoice_comment_add(invoice_id=invoice.pk, comment="Your parcel left today", is_customer_notified=True)
    email = claimed(EmailOutbox.objects.get(invoice=invoice, kind="invoice_update"))

    assert record_sent(email, timezone.now(), timezone.now()) is True

    assert Invoice.objects.get(pk=invoice.pk).email_sent == 2
