"""The back office in a real browser: log in, the invoices grid, an invoice's page, its e-mail and PDF, and
creating an invoice from an order, each as staff click through it."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from notifications.models import EmailOutbox
from sales.models import Invoice, InvoiceComment, OrderItem
from sales.services import CaptureCase, invoice_order
from tests.conftest import load_seed_order

# live_server answers from another thread: the data must be committed, so each test flushes the database after.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paid_invoice(import_order) -> Invoice:
    """Roni Cost's order, paid offline."""
    return invoice_order(order_id=import_order(load_seed_order("000")).pk)


@pytest.fixture
def pending_invoice(import_order) -> Invoice:
    """Ada Shepherd's order, invoiced without capture: Pending."""
    seed = load_seed_order("001")
    billing = {**seed["entity"]["billing_address"], "firstname": "Ada", "lastname": "Shepherd"}
    order = import_order(seed, billing_address=billing)
    return invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)


def grid_rows(page):
    return page.locator("#result_list tbody tr")


def select_rows(page, *invoices: Invoice) -> None:
    for invoice in invoices:
        page.locator(f'#result_list input[name="_selected_action"][value="{invoice.pk}"]').check()


def run_action(page, label: str) -> None:
    page.locator('select[name="action"]').select_option(label=label)
    page.get_by_role("button", name="Go").click()


def pdf_text(download, tmp_path) -> str:
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return "\n".join(pdf_page.extract_text() for pdf_page in PdfReader(io.BytesIO(path.read_bytes())).pages)


def test_a_sales_manager_logs_in_through_the_form_and_sees_sales_invoices_and_orders(page, log_in):
    log_in("Sales manager")

    expect(page.locator("#user-tools")).to_contain_text("sales-manager")
    sales = page.locator(".app-sales")
    expect(sales.get_by_role("link", name="Invoices", exact=True)).to_have_attribute("href", "/admin/sales/invoice/")
    expect(sales.get_by_role("link", name="Orders", exact=True)).to_have_attribute("href", "/admin/sales/order/")


def test_the_paid_filter_lists_only_paid_invoices(page, live_server, log_in, paid_invoice, pending_invoice):
    log_in("Sales manager")
    page.goto(f"{live_server.url}/admin/sales/invoice/")
    expect(grid_rows(page)).to_have_count(2)

    page.locator("#changelist-filter").get_by_role("link", name="Paid", exact=True).click()

    expect(grid_rows(page)).to_have_count(1)
    expect(grid_rows(page)).to_contain_text(paid_invoice.increment_id)
    expect(grid_rows(page)).to_contain_text("Paid")
    expect(page.locator("#result_list")).not_to_contain_text(pending_invoice.increment_id)


def search(page, query: str) -> None:
    page.locator("#searchbar").fill(query)
    page.locator("#searchbar").press("Enter")


def test_the_search_box_finds_an_invoice_by_number_and_by_bill_to_name(
    page, live_server, log_in, paid_invoice, pending_invoice
):
    log_in("Sales manager")
    page.goto(f"{live_server.url}/admin/sales/invoice/")

    search(page, paid_invoice.increment_id)
    expect(grid_rows(page)).to_have_count(1)
    expect(grid_rows(page)).to_contain_text(paid_invoice.increment_id)
    expect(grid_rows(page)).to_contain_text("Roni Cost")

    search(page, "Shepherd")
    expect(grid_rows(page)).to_have_count(1)
    expect(grid_rows(page)).to_contain_text(pending_invoice.increment_id)
    expect(grid_rows(page)).to_contain_text("Ada Shepherd")


def test_clicking_an_invoice_number_in_the_grid_opens_the_invoice(page, live_server, log_in, paid_invoice):
    log_in("Sales manager")
    page.goto(f"{live_server.url}/admin/sales/invoice/")

    page.locator("#result_list").get_by_role("link", name=paid_invoice.increment_id, exact=True).click()

    expect(page).to_have_url(f"{live_server.url}/admin/sales/invoice/{paid_invoice.pk}/change/")
    expect(page.locator("#content")).to_contain_text(f"Invoice #{paid_invoice.increment_id}")


def test_the_send_email_button_asks_then_queues_the_invoice_email(page, live_server, log_in, paid_invoice):
    log_in("Sales manager")
    page.goto(f"{live_server.url}/admin/sales/invoice/{paid_invoice.pk}/change/")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))

    page.get_by_role("button", name="Send Email").click()

    expect(page.locator(".messagelist")).to_contain_text("You sent the message.")
    assert asked == ["Are you sure you want to send an invoice email to customer?"]
    assert EmailOutbox.objects.filter(invoice=paid_invoice).count() == 1


def test_the_resend_action_queues_the_email_of_the_selected_invoice_only(
    page, live_server, log_in, paid_invoice, pending_invoice
):
    log_in("Sales manager")
    page.goto(f"{live_server.url}/admin/sales/invoice/")

    select_rows(page, pending_invoice)
    run_action(page, "Resend invoice e-mail")

    expect(page.locator(".messagelist")).to_contain_text("1 invoice")
    assert EmailOutbox.objects.filter(invoice=pending_invoice).count() == 1
    assert not EmailOutbox.objects.filter(invoice=paid_invoice).exists()


def test_print_downloads_the_invoice_pdf_with_its_number_and_bill_to_name(
    page, live_server, log_in, paid_invoice, tmp_path
):
    log_in("Sales manager")
    page.goto(f"{live_server.url}/admin/sales/invoice/{paid_invoice.pk}/change/")

    with page.expect_download() as download:
        page.get_by_role("link", name="Print", exact=True).click()

    text = pdf_text(download.value, tmp_path)
    assert download.value.suggested_filename.endswith(".pdf")
    assert f"Invoice # {paid_invoice.increment_id}" in text
    assert "Roni Cost" in text


def test_the_pdf_invoices_action_downloads_both_selected_invoices(
    page, live_server, log_in, paid_invoice, pending_invoice, tmp_path
):
    log_in("Sales manager")
    page.goto(f"{live_server.url}/admin/sales/invoice/")
    select_rows(page, paid_invoice, pending_invoice)

    with page.expect_download() as download:
        run_action(page, "PDF Invoices")

    text = pdf_text(download.value, tmp_path)
    assert f"Invoice # {paid_invoice.increment_id}" in text
    assert f"Invoice # {pending_invoice.increment_id}" in text
    assert "Roni Cost" in text and "Ada Shepherd" in text


def test_a_sales_manager_invoices_part_of_an_order_from_the_order_page(page, live_server, log_in, import_order):
    order = import_order(load_seed_order("001"))
    items = {item.sku: item for item in OrderItem.objects.filter(order=order)}
    quantities = {"24-WB03": "5", "24-WB01": "0", "240-LV06": "1"}
    log_in("Sales manager")
    page.goto(f"{live_server.url}/admin/sales/order/{order.pk}/change/")

    page.get_by_role("link", name="Invoice", exact=True).or_(
        page.get_by_role("button", name="Invoice", exact=True)
    ).click()
    expect(page).to_have_url(f"{live_server.url}/admin/sales/order/{order.pk}/invoice/")
    for sku, qty in quantities.items():
        page.locator(f'input[name="qty_{items[sku].pk}"]').fill(qty)
    page.locator('textarea[name="comment_text"]').fill("Paid by cheque, two boxes to follow.")
    page.locator('input[name="comment_customer_notify"]').check()
    page.locator('input[name="send_email"]').check()
    page.get_by_role("button", name="Submit Invoice").click()

    expect(page.locator(".messagelist")).to_contain_text("The invoice has been created.")
    invoice = Invoice.objects.get(order=order)
    expect(page).to_have_url(f"{live_server.url}/admin/sales/invoice/{invoice.pk}/change/")
    invoiced = dict(OrderItem.objects.filter(order=order).values_list("sku", "qty_invoiced"))
    assert invoiced == {"24-WB03": Decimal("5"), "24-WB01": Decimal("0"), "240-LV06": Decimal("1")}
    comment = InvoiceComment.objects.get(parent=invoice)
    assert (comment.comment, comment.is_customer_notified) == ("Paid by cheque, two boxes to follow.", True)
    assert EmailOutbox.objects.filter(invoice=invoice).exists()


def test_a_sales_viewer_sees_no_send_email_nor_invoice_button(page, live_server, log_in, paid_invoice):
    log_in("Sales viewer")

    page.goto(f"{live_server.url}/admin/sales/invoice/{paid_invoice.pk}/change/")
    expect(page.get_by_role("link", name="Print", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Send Email")).to_have_count(0)

    page.goto(f"{live_server.url}/admin/sales/order/{paid_invoice.order_id}/change/")
    expect(page.locator("#content")).to_contain_text(paid_invoice.order.increment_id)
    expect(page.get_by_role("link", name="Invoice", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Invoice", exact=True)).to_have_count(0)


def test_capture_asks_first_then_captures_and_the_history_names_who_did_it(page, live_server, log_in, pending_invoice):
    log_in("Sales manager")
    invoice_url = f"{live_server.url}/admin/sales/invoice/{pending_invoice.pk}/change/"
    page.goto(invoice_url)

    page.get_by_role("link", name="Capture", exact=True).click()
    expect(page.locator("#content")).to_contain_text(f"capture invoice #{pending_invoice.increment_id}?")
    page.get_by_role("link", name="No, take me back").click()
    expect(page).to_have_url(invoice_url)
    assert Invoice.objects.get(pk=pending_invoice.pk).state == 1

    page.get_by_role("link", name="Capture", exact=True).click()
    page.get_by_role("button", name="Yes, capture it").click()

    expect(page.locator(".messagelist")).to_contain_text("The invoice has been captured.")
    assert Invoice.objects.get(pk=pending_invoice.pk).state == 2
    page.get_by_role("link", name="History").click()
    expect(page.locator("#audit-history")).to_contain_text("sales-manager")
    expect(page.locator("#audit-history")).to_contain_text("Capture invoice")
    expect(page.locator("#audit-history")).to_contain_text("Succeeded")
