"""Magento's ACL resources as Django permissions: no permission, no button, and the URL answers 403."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import EmailOutbox
from sales.models import Invoice
from sales.services import CaptureCase, invoice_order
from tests.conftest import load_seed_order
from tests.factories import InvoiceFactory, OrderFactory, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(import_order):
    return invoice_order(order_id=import_order(load_seed_order("000")).pk)


def test_the_default_groups_carry_magentos_sales_resources():
    viewer = set(Group.objects.get(name="Sales viewer").permissions.values_list("codename", flat=True))
    manager = set(Group.objects.get(name="Sales manager").permissions.values_list("codename", flat=True))
    assert viewer == {"view_order", "view_invoice", "view_store"}
    assert {"invoice_order", "capture_invoice", "void_invoice", "cancel_invoice", "email_invoice"} <= manager
    assert viewer < manager


def test_staff_without_a_sales_group_cannot_open_sales_invoices(client, invoice):
    client = staff_client(client)
    assert client.get("/admin/sales/invoice/").status_code == 403
    assert client.get(f"/admin/sales/invoice/{invoice.pk}/change/").status_code == 403


def test_a_sales_viewer_sees_invoices_but_no_send_email_button_nor_resend_action(client, invoice):
    client = staff_client(client, "Sales viewer")

    grid = client.get("/admin/sales/invoice/")
    page = client.get(f"/admin/sales/invoice/{invoice.pk}/change/")

    assert grid.status_code == 200 and invoice.increment_id in grid.content.decode()
    assert "resend_invoice_email" not in grid.content.decode()
    assert page.status_code == 200 and "Send Email" not in page.content.decode()


def test_the_send_email_url_answers_403_without_the_email_permission(client, invoice):
    client = staff_client(client, "Sales viewer")

    response = client.post(f"/admin/sales/invoice/{invoice.pk}/send-email/")

    assert response.status_code == 403
    assert not EmailOutbox.objects.filter(invoice=invoice).exists()


def test_the_resend_action_is_refused_without_the_email_permission(client, invoice):
    client = staff_client(client, "Sales viewer")

    client.post("/admin/sales/invoice/", {"action": "resend_invoice_email", "_selected_action": [invoice.pk]})

    assert not EmailOutbox.objects.filter(invoice=invoice).exists()


def test_a_sales_manager_gets_the_button_and_the_action(client, invoice):
    client = staff_client(client, "Sales manager")

    assert "resend_invoice_email" in client.get("/admin/sales/invoice/").content.decode()
    assert "Send Email" in client.get(f"/admin/sales/invoice/{invoice.pk}/change/").content.decode()
    client.post(f"/admin/sales/invoice/{invoice.pk}/send-email/")
    assert EmailOutbox.objects.filter(invoice=invoice).count() == 1


def column_headers(page: str) -> list[str]:
    return re.findall(
        r'<th scope="col"[^>]*>\s*(?:<div class="sortoptions">.*?</div>\s*)?<div class="text">'
        r"(?:<a [^>]*>|<span>)([^<]+)",
        page,
        flags=re.DOTALL,
    )


def test_the_invoices_grid_shows_magentos_default_columns(admin_client, invoice):
    page = admin_client.get("/admin/sales/invoice/").content.decode()
    assert column_headers(page) == [
        "Invoice",
        "Invoice Date",
        "Order #",
        "Order Date",
        "Bill-to Name",
        "Status",
        "Grand Total (Base)",
        "Grand Total (Purchased)",
        "E-mail",
    ]
    assert "$165.00" in page and "Roni Cost" in page and "Paid" in page


def test_the_orders_grid_shows_magentos_default_columns(admin_client, invoice):
    page = admin_client.get("/admin/sales/order/").content.decode()
    assert column_headers(page) == [
        "ID",
        "Store",
        "Purchase Date",
        "Bill-to Name",
        "Ship-to Name",
        "Grand Total (Base)",
        "Grand Total (Purchased)",
        "Status",
    ]


@pytest.mark.parametrize("query", ["000000003", "Cost", "roni_cost@example.com"])
def test_the_invoices_grid_searches_order_number_bill_to_name_and_email(admin_client, invoice, query):
    page = admin_client.get("/admin/sales/invoice/", {"q": query}).content.decode()
    assert invoice.increment_id in page


def test_the_invoices_grid_runs_the_same_queries_for_2_and_12_invoices(admin_client):
    counts = []
    for total in (2, 12):
        while Invoice.objects.count() < total:
            InvoiceFactory(order__bundle=True)
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get("/admin/sales/invoice/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def read_pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_invoices_action_downloads_one_pdf_of_the_selected_invoices(admin_client, invoice):
    response = admin_client.post("/admin/sales/invoice/", {"action": "pdf_invoices", "_selected_action": [invoice.pk]})

    assert response["Content-Type"] == "application/pdf"
    assert re.match(
        r'attachment; filename="invoice\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\.pdf"', response["Content-Disposition"]
    )
    assert f"Invoice # {invoice.increment_id}" in read_pdf_text(response.content)


def test_the_print_button_downloads_the_invoice(admin_client, invoice):
    page = admin_client.get(f"/admin/sales/invoice/{invoice.pk}/change/").content.decode()
    response = admin_client.get(f"/admin/sales/invoice/{invoice.pk}/print/")

    assert f"/admin/sales/invoice/{invoice.pk}/print/" in page
    assert "$165.00" in read_pdf_text(response.content)


def test_print_invoices_on_orders_without_invoices_says_there_is_nothing_to_print(admin_client):
    order = OrderFactory()

    response = admin_client.post(
        "/admin/sales/order/", {"action": "print_invoices", "_selected_action": [order.pk]}, follow=True
    )

    assert "There are no printable documents related to selected orders." in response.content.decode()


def test_print_invoices_on_orders_prints_their_invoices(admin_client, invoice):
    response = admin_client.post(
        "/admin/sales/order/", {"action": "print_invoices", "_selected_action": [invoice.order_id]}
    )
    assert f"Invoice # {invoice.increment_id}" in read_pdf_text(response.content)


# -- Capture, Void and Cancel buttons ------------------------------------------------------------------


@pytest.fixture
def pending_invoice(db):
    return InvoiceFactory(capture_case=CaptureCase.NOT_CAPTURE)


@pytest.fixture
def online_invoice(db):
    return InvoiceFactory(order__gateway_paid=True, capture_case=CaptureCase.ONLINE)


def buttons(client, invoice) -> set[str]:
    page = client.get(f"/admin/sales/invoice/{invoice.pk}/change/").content.decode()
    return {name for name in ("capture", "void", "cancel") if f"/admin/sales/invoice/{invoice.pk}/{name}/" in page}


def test_a_pending_invoice_offers_capture_and_cancel_to_a_manager_and_nothing_to_a_viewer(client, pending_invoice):
    assert buttons(staff_client(client, "Sales manager"), pending_invoice) == {"capture", "cancel"}
    client.logout()
    assert buttons(staff_client(client, "Sales viewer"), pending_invoice) == set()


def test_an_online_paid_invoice_offers_void_and_an_offline_paid_one_nothing(admin_client, invoice, online_invoice):
    assert buttons(admin_client, online_invoice) == {"void"}
    assert buttons(admin_client, invoice) == set()  # paid offline: nothing to capture, void or cancel


def test_the_capture_button_captures_a_pending_invoice(admin_client, pending_invoice):
    response = admin_client.post(f"/admin/sales/invoice/{pending_invoice.pk}/capture/", follow=True)

    assert "The invoice has been captured." in response.content.decode()
    assert Invoice.objects.get(pk=pending_invoice.pk).state == 2


def test_the_cancel_button_cancels_a_pending_invoice(admin_client, pending_invoice):
    response = admin_client.post(f"/admin/sales/invoice/{pending_invoice.pk}/cancel/", follow=True)

    assert "You canceled the invoice." in response.content.decode()
    assert Invoice.objects.get(pk=pending_invoice.pk).state == 3


def test_the_void_button_voids_an_online_capture(admin_client, online_invoice):
    response = admin_client.post(f"/admin/sales/invoice/{online_invoice.pk}/void/", follow=True)

    assert "The invoice has been voided." in response.content.decode()
    assert Invoice.objects.get(pk=online_invoice.pk).state == 3


def test_a_refused_operation_is_reported_and_changes_nothing(admin_client, invoice):
    response = admin_client.post(f"/admin/sales/invoice/{invoice.pk}/void/", follow=True)

    assert "The void action is not available." in response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).state == 2


@pytest.mark.parametrize("operation", ["capture", "void", "cancel"])
def test_each_operation_url_answers_403_without_its_permission(client, pending_invoice, operation):
    client = staff_client(client, "Sales viewer")

    response = client.post(f"/admin/sales/invoice/{pending_invoice.pk}/{operation}/")

    assert response.status_code == 403
    assert Invoice.objects.get(pk=pending_invoice.pk).state == 1


def test_the_grid_counts_no_more_rows_than_its_cap(admin_client, invoice):
    from sales.admin.base import NoFullCountPaginator

    paginator = NoFullCountPaginator(Invoice.objects.all(), 50)
    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 1
    assert "LIMIT 10001" in queries[0]["sql"]
