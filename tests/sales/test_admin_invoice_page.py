"""Sales > Invoices: the invoice page reads as Magento's invoice view, and its comment box adds invoice comments."""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import EmailAttempt, EmailOutbox
from sales.errors import DomainError
from sales.models import Invoice, InvoiceComment
from sales.services import InvoiceLineRequest, invoice_comment_add, invoice_order
from tests.conftest import load_seed_order
from tests.factories import staff_client

pytestmark = pytest.mark.django_db

BUNDLE_SKU = "24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086"
CREATED_AT = datetime.datetime(2017, 8, 21, 22, 30, 55, tzinfo=datetime.UTC)


@pytest.fixture
def invoice(import_order):
    """Seed 000 invoiced in full: a simple, a downloadable, a bundle of four and a configurable."""
    invoice = invoice_order(order_id=import_order(load_seed_order("000")).pk)
    Invoice.objects.filter(pk=invoice.pk).update(created_at=CREATED_AT)
    return Invoice.objects.get(pk=invoice.pk)


@pytest.fixture
def manager(client, db):
    return staff_client(client, "Sales manager")


def page_of(client, invoice) -> str:
    response = client.get(f"/admin/sales/invoice/{invoice.pk}/change/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def header(page: str) -> str:
    return text(re.search(r"<h1>(.*?)</h1>", page, flags=re.DOTALL).group(1))


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The text of each body cell of a table, row by row; a child row's first cell starts with "child:"."""
    table = re.search(rf'id="{table_id}".*?<tbody>(.*?)</tbody>', page, flags=re.DOTALL).group(1)
    rows = []
    for row_class, row in re.findall(r'<tr class="([^"]*)">(.*?)</tr>', table, flags=re.DOTALL):
        cells = [text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.DOTALL)]
        rows.append([f"{row_class}: {cells[0]}" if row_class else cells[0], *cells[1:]])
    return rows


def totals(page: str) -> list[list[str]]:
    table = re.search(r'id="invoice-totals".*?<table>(.*?)</table>', page, flags=re.DOTALL).group(1)
    return [
        [text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.DOTALL)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.DOTALL)
    ]


def comment_on(client, invoice, **data):
    return client.post(f"/admin/sales/invoice/{invoice.pk}/comment/", data, follow=True)


# -- header ----------------------------------------------------------------------------------------------


def test_the_header_says_the_invoice_email_was_not_sent_until_it_is(manager, invoice):
    assert header(page_of(manager, invoice)) == (
        f"Invoice #{invoice.increment_id} | Paid | Aug 21, 2017, 10:30:55 PM (The invoice email wasn't sent.)"
    )


def test_the_header_says_the_invoice_email_was_sent_when_email_sent_is_1(manager, invoice):
    Invoice.objects.filter(pk=invoice.pk).update(email_sent=1)

    assert header(page_of(manager, invoice)) == (
        f"Invoice #{invoice.increment_id} | Paid | Aug 21, 2017, 10:30:55 PM (The invoice email was sent.)"
    )


# -- order, account, addresses, payment and shipping ----------------------------------------------------


def test_the_page_shows_the_order_and_account_information_addresses_payment_and_shipping(manager, invoice):
    page = page_of(manager, invoice)

    assert f'<a href="/admin/sales/order/{invoice.order_id}/change/">000000003</a>' in page
    for shown in (
        "Aug 21, 2017, 10:30:55 PM",  # order date
        "Processing",
        "Default Store View",
        "Veronica Costello",
        "roni_cost@example.com",
        "Roni Cost<br>6146 Honey Bluff Parkway<br>Calder, Michigan, 49628-7978<br>US<br>T: (555) 229-3326",
        "Check / Money order",
        "Flat Rate - Fixed<br>Total Shipping Charges: $5.00",
    ):
        assert shown in page


def test_the_buttons_keep_back_send_email_and_print(manager, invoice):
    page = page_of(manager, invoice)

    assert '<a href="/admin/sales/invoice/">Back</a>' in page
    assert f'action="/admin/sales/invoice/{invoice.pk}/send-email/"' in page
    assert f'href="/admin/sales/invoice/{invoice.pk}/print/"' in page


# -- items and totals ------------------------------------------------------------------------------------


def test_items_invoiced_list_bundle_and_configurable_children_under_their_parent(manager, invoice):
    rows = table_rows(page_of(manager, invoice), "invoice-items")

    assert rows == [
        ["Radiant Tee-M-Orange SKU: WS12-M-Orange", "$22.00", "1", "$22.00", "$0.00", "$0.00", "$22.00"],
        ["Advanced Pilates & Yoga (Strength) SKU: 240-LV08", "$18.00", "1", "$18.00", "$0.00", "$0.00", "$18.00"],
        [f"Sprite Yoga Companion Kit SKU: {BUNDLE_SKU}", "", "1", "", "", "", ""],  # priced on its children
        ["child: Sprite Stasis Ball 65 cm SKU: 24-WG082-blue", "$27.00", "1", "$27.00", "$0.00", "$0.00", "$27.00"],
        ["child: Sprite Foam Yoga Brick SKU: 24-WG084", "$5.00", "1", "$5.00", "$0.00", "$0.00", "$5.00"],
        ["child: Sprite Yoga Strap 8 foot SKU: 24-WG086", "$17.00", "1", "$17.00", "$0.00", "$0.00", "$17.00"],
        ["child: Sprite Foam Roller SKU: 24-WG088", "$19.00", "1", "$19.00", "$0.00", "$0.00", "$19.00"],
        ["Chaz Kangeroo Hoodie SKU: MH01-S-Gray", "$52.00", "1", "$52.00", "$0.00", "$0.00", "$52.00"],
        ["child: Chaz Kangeroo Hoodie-S-Gray SKU: MH01-S-Gray", "", "1", "", "", "", ""],  # priced on its parent
    ]


def test_invoice_totals_hide_a_zero_discount(manager, invoice):
    assert totals(page_of(manager, invoice)) == [
        ["Subtotal", "$160.00"],
        ["Shipping & Handling", "$5.00"],
        ["Tax", "$0.00"],
        ["Grand Total", "$165.00"],
    ]


def test_the_row_total_is_subtotal_plus_tax_less_discount_and_the_discount_is_a_total(manager, import_order):
    invoice = invoice_order(order_id=import_order(load_seed_order("001")).pk)
    page = page_of(manager, invoice)

    assert table_rows(page, "invoice-items")[0] == [
        "Driven Backpack SKU: 24-WB03",
        "$36.00",
        "20",
        "$720.00",
        "$0.00",
        "$144.00",
        "$576.00",
    ]
    assert ["Discount", "-$404.40"] in totals(page)


def test_the_grand_total_shows_the_base_currency_amount_when_the_order_was_placed_in_another(manager, import_order):
    order = import_order(load_seed_order("000"), order_currency_code="EUR")
    invoice = invoice_order(order_id=order.pk)

    grand_total = totals(page_of(manager, invoice))[-1]

    assert grand_total == ["Grand Total", f"€{invoice.grand_total:,.2f} [${invoice.base_grand_total:,.2f}]"]


# -- comments --------------------------------------------------------------------------------------------


def test_a_comment_with_notify_queues_exactly_one_invoice_update_email(manager, invoice):
    response = comment_on(manager, invoice, comment="Your parcel left today.", is_customer_notified="1")

    page = html.unescape(response.content.decode())
    assert "You added the comment." in page
    comment = InvoiceComment.objects.get(parent=invoice)
    assert (comment.comment, comment.is_customer_notified, comment.is_visible_on_front) == (
        "Your parcel left today.",
        True,
        False,
    )
    assert list(EmailOutbox.objects.filter(invoice=invoice).values_list("kind", flat=True)) == ["invoice_update"]
    assert "Customer Notified" in page and "Your parcel left today." in page


def test_a_comment_without_notify_queues_no_email(manager, invoice):
    response = comment_on(manager, invoice, comment="Checked by accounting.", is_visible_on_front="1")

    page = html.unescape(response.content.decode())
    comment = InvoiceComment.objects.get(parent=invoice)
    assert (comment.is_customer_notified, comment.is_visible_on_front) == (False, True)
    assert not EmailOutbox.objects.filter(invoice=invoice).exists()
    assert "Customer Not Notified | Visible on Storefront" in text(page)


@pytest.mark.parametrize("blank", ["", "   \n"])
def test_a_blank_comment_is_refused_with_magentos_message_and_nothing_is_written(manager, invoice, blank):
    response = comment_on(manager, invoice, comment=blank, is_customer_notified="1")

    assert response.redirect_chain[-1][0] == f"/admin/sales/invoice/{invoice.pk}/change/"
    assert 'class="error">The comment is missing. Enter and try again.' in response.content.decode()
    assert not InvoiceComment.objects.filter(parent=invoice).exists()
    assert not EmailOutbox.objects.filter(invoice=invoice).exists()


def test_a_refused_comment_shows_the_services_message(manager, invoice, monkeypatch):
    def refuse(**kwargs):
        raise DomainError("Cannot add new comment.")

    monkeypatch.setattr("sales.admin.invoices.invoice_comment_add", refuse)

    response = comment_on(manager, invoice, comment="Hello")

    assert 'class="error">Cannot add new comment.' in response.content.decode()


def test_comments_are_listed_newest_first(manager, invoice):
    for words in ("first", "second", "third"):
        invoice_comment_add(invoice_id=invoice.pk, comment=f"The {words} comment")

    page = page_of(manager, invoice)

    assert page.index("The third comment") < page.index("The second comment") < page.index("The first comment")


def test_a_sales_viewer_gets_no_comment_form_and_the_comment_url_answers_403(client, invoice):
    viewer = staff_client(client, "Sales viewer")

    page = page_of(viewer, invoice)
    response = viewer.post(f"/admin/sales/invoice/{invoice.pk}/comment/", {"comment": "Hello"})

    assert "Submit Comment" not in page and f"/admin/sales/invoice/{invoice.pk}/comment/" not in page
    assert response.status_code == 403
    assert not InvoiceComment.objects.filter(parent=invoice).exists()


def test_the_comment_url_takes_post_only(manager, invoice):
    assert manager.get(f"/admin/sales/invoice/{invoice.pk}/comment/").status_code == 405


def test_a_comment_on_a_missing_invoice_answers_404(manager, invoice):
    assert manager.post("/admin/sales/invoice/999999/comment/", {"comment": "Hello"}).status_code == 404


# -- e-mails ---------------------------------------------------------------------------------------------


def test_the_emails_section_shows_each_email_with_every_attempt(manager, invoice):
    invoice_comment_add(invoice_id=invoice.pk, comment="Shipped", is_customer_notified=True)
    email = EmailOutbox.objects.get(invoice=invoice)
    EmailAttempt.objects.create(
        email=email,
        number=1,
        started_at=CREATED_AT,
        finished_at=CREATED_AT,
        outcome=EmailAttempt.Outcome.RETRY,
        error="ConnectionRefusedError: [Errno 111]",
    )
    EmailOutbox.objects.filter(pk=email.pk).update(attempts=1)

    emails = text(re.search(r'id="invoice-emails"(.*?)</table>', page_of(manager, invoice), re.DOTALL).group(1))

    assert "Invoice Update" in emails
    assert "roni_cost@example.com" in emails
    assert "Pending (1 attempt)" in emails
    assert "#1 Aug 21, 2017, 10:30:55 PM – Failed, will retry: ConnectionRefusedError: [Errno 111]" in emails


# -- query budget ----------------------------------------------------------------------------------------

# Session, user, the user's and its groups' permissions, the invoice joined to its order, addresses, store and
# payment, then its rows, comments, e-mails and their attempts (this last one only when there is an e-mail).
PAGE_QUERIES = 9


def queries_of_page(client, invoice) -> int:
    with CaptureQueriesContext(connection) as queries:
        page_of(client, invoice)
    return len(queries)


def test_the_page_runs_the_same_queries_for_one_row_as_for_many_rows_comments_and_emails(manager, import_order):
    order = import_order(load_seed_order("001"))
    line = order.items.get(sku="24-WB03")
    small = invoice_order(order_id=order.pk, items=[InvoiceLineRequest(order_item_id=line.pk, qty=Decimal(1))])
    invoice_comment_add(invoice_id=small.pk, comment="Update", is_customer_notified=True)
    large = invoice_order(order_id=import_order(load_seed_order("000")).pk)
    for number in range(1, 4):
        invoice_comment_add(invoice_id=large.pk, comment=f"Update {number}", is_customer_notified=True)
    now = timezone.now()
    for email in EmailOutbox.objects.filter(invoice=large):
        for attempt in (1, 2):
            EmailAttempt.objects.create(
                email=email, number=attempt, started_at=now, finished_at=now, outcome=EmailAttempt.Outcome.RETRY
            )

    assert [queries_of_page(manager, small), queries_of_page(manager, large)] == [PAGE_QUERIES, PAGE_QUERIES]
