"""Sales > Invoices grid: the e-mail filter agrees with the E-mail column, and the mass actions that
run inside the request refuse a selection too large for it."""

import random

import pytest

from notifications.models import EmailOutbox
from sales.admin import invoice_grid
from sales.demo.generator import demo_order_entity
from sales.services import invoice_comment_add, invoice_email_send, invoice_order, order_import
from tests.factories import staff_client

pytestmark = pytest.mark.django_db

GRID = "/admin/sales/invoice/"


@pytest.fixture
def manager(client, db):
    return staff_client(client, "Sales manager")


@pytest.fixture
def invoices(default_store):
    rng = random.Random(11)
    orders = [order_import(entity=demo_order_entity(rng), store_id=default_store.pk) for _ in range(3)]
    return [invoice_order(order_id=order.pk) for order in orders]


def listed(response) -> list[str]:
    return [row.increment_id for row in response.context["cl"].result_list]


def fail_newest_email(invoice) -> None:
    newest = EmailOutbox.objects.filter(invoice_id=invoice.pk).order_by("-pk").first()
    EmailOutbox.objects.filter(pk=newest.pk).update(
        status=EmailOutbox.Status.FAILED, attempts=1, last_error="550 refused"
    )


def test_the_failed_filter_lists_invoices_whose_newest_email_failed_as_the_column_shows(manager, invoices):
    failed_for_good, resent_after_failing, never_failed = invoices
    for invoice in (failed_for_good, resent_after_failing, never_failed):
        invoice_email_send(invoice_id=invoice.pk)
    fail_newest_email(failed_for_good)
    fail_newest_email(resent_after_failing)
    invoice_email_send(invoice_id=resent_after_failing.pk)  # staff resent it: the newest e-mail is on its way

    response = manager.get(GRID, {"email": "failed"})

    assert listed(response) == [failed_for_good.increment_id]
    columns = {
        row.increment_id: invoice_grid.InvoiceGridAdmin.email_status(None, row)
        for row in manager.get(GRID).context["cl"].result_list
    }
    assert columns[failed_for_good.increment_id] == "Failed (1 attempt)"
    assert columns[resent_after_failing.increment_id] == "Pending (0 attempts)"


def test_an_invoice_update_mail_after_a_failed_invoice_mail_leaves_the_invoice_failed(manager, invoices):
    invoice = invoices[0]
    invoice_email_send(invoice_id=invoice.pk)
    fail_newest_email(invoice)
    invoice_comment_add(invoice_id=invoice.pk, comment="We shipped it today.", is_customer_notified=True)
    update = EmailOutbox.objects.filter(invoice_id=invoice.pk).order_by("-pk").first()
    EmailOutbox.objects.filter(pk=update.pk).update(status=EmailOutbox.Status.SENT, attempts=1)
    assert update.kind == "invoice_update"

    failed = listed(manager.get(GRID, {"email": "failed"}))
    waiting = listed(manager.get(GRID, {"email": "waiting"}))
    column = {
        row.increment_id: invoice_grid.InvoiceGridAdmin.email_status(None, row)
        for row in manager.get(GRID).context["cl"].result_list
    }[invoice.increment_id]

    # The customer got the update, never the invoice: still failed, and not "waiting" too.
    assert failed == [invoice.increment_id] and invoice.increment_id not in waiting
    assert column == "Failed (1 attempt)"


def test_resend_refuses_a_selection_over_its_limit_and_queues_nothing(manager, invoices, monkeypatch):
    monkeypatch.setattr(invoice_grid, "RESEND_ACTION_MAX", 2)
    before = EmailOutbox.objects.count()

    response = manager.post(
        GRID, {"action": "resend_invoice_email", "_selected_action": [i.pk for i in invoices]}, follow=True
    )

    assert EmailOutbox.objects.count() == before
    assert "Resend invoice e-mail takes at most 2 invoices at a time" in response.content.decode()


def test_resend_queues_a_selection_within_its_limit(manager, invoices, monkeypatch):
    monkeypatch.setattr(invoice_grid, "RESEND_ACTION_MAX", 2)
    before = EmailOutbox.objects.count()

    response = manager.post(
        GRID, {"action": "resend_invoice_email", "_selected_action": [i.pk for i in invoices[:2]]}, follow=True
    )

    assert EmailOutbox.objects.count() == before + 2
    assert "Queued the e-mail of 2 invoice(s)." in response.content.decode()


def test_pdf_invoices_refuses_a_selection_over_its_limit(manager, invoices, monkeypatch):
    monkeypatch.setattr(invoice_grid, "PDF_ACTION_MAX", 2)

    refused = manager.post(GRID, {"action": "pdf_invoices", "_selected_action": [i.pk for i in invoices]}, follow=True)
    printed = manager.post(GRID, {"action": "pdf_invoices", "_selected_action": [i.pk for i in invoices[:2]]})

    assert refused["Content-Type"].startswith("text/html")
    assert "PDF Invoices takes at most 2 invoices at a time" in refused.content.decode()
    assert printed["Content-Type"] == "application/pdf"
