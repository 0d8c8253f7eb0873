"""What the customer reads: Magento's invoice_new / invoice_update mails, rendered into the outbox row.

Checked on the row's ``subject`` / ``body_text`` / ``body_html`` (rendered when queued), and once through
a real SMTP server for non-Latin names.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from notifications.models import EmailOutbox
from notifications.tasks import email_send
from sales.models import InvoiceItem, Store
from sales.money import format_price
from sales.services import InvoiceCommentRequest, InvoiceLineRequest, invoice_comment_add
from tests.conftest import load_seed_order

pytestmark = pytest.mark.django_db

ADDRESS_LINES = ["Roni Cost", "6146 Honey Bluff Parkway", "Calder", "Michigan", "49628-7978", "(555) 229-3326"]


def usd(amount) -> str:
    return format_price(amount, "USD")


def bodies(row: EmailOutbox) -> tuple[str, str]:
    return row.body_text, row.body_html


# -- invoice_new ---------------------------------------------------------------------------------------


def test_invoice_new_subject_is_magentos_with_the_stores_frontend_name(queued_invoice):
    _invoice, row = queued_invoice()
    assert (row.kind, row.subject) == ("invoice_new", "Invoice for your Main Website Store order")


def test_invoice_new_text_and_html_have_the_heading_greeting_and_thanks(queued_invoice):
    invoice, row = queued_invoice()
    heading = f"Your Invoice #{invoice.increment_id} for Order #{invoice.order.increment_id}"
    for body in bodies(row):
        assert heading in body
        assert "Veronica Costello," in body
        assert "Thank you for your order from Main Website Store." in body


def test_invoice_new_has_billing_and_shipping_addresses(seed_order, queued_invoice):
    order = seed_order(
        extension_attributes={
            "shipping_assignments": [
                {
                    "shipping": {
                        "address": {
                            "firstname": "Ship",
                            "lastname": "Receiver",
                            "street": ["1 Dock Road", "Unit 7"],
                            "city": "Portland",
                            "region": "Oregon",
                            "postcode": "97201",
                            "country_id": "US",
                            "telephone": "555-0100",
                        },
                        "method": "flatrate_flatrate",
                    }
                }
            ]
        }
    )
    _invoice, row = queued_invoice(order)
    for body in bodies(row):
        assert "Billing Info" in body and "Shipping Info" in body
        for line in ADDRESS_LINES:
            assert line in body
        for line in ("Ship Receiver", "1 Dock Road", "Unit 7", "Portland", "97201", "555-0100"):
            assert line in body
    billing, shipping = row.body_text.split("Shipping Info")
    assert "Roni Cost" in billing and "Ship Receiver" not in billing
    assert "Ship Receiver" in shipping.split("Payment Method")[0]


def test_invoice_new_has_the_payment_method_and_the_shipping_method(queued_invoice):
    _invoice, row = queued_invoice()
    for body in bodies(row):
        assert "Payment Method" in body
        assert "Shipping Method" in body
        assert "Flat Rate - Fixed" in body
    assert "Shipping Method: Flat Rate - Fixed" in row.body_text


def test_invoice_new_shows_the_payment_methods_title_not_its_code(queued_invoice):
    """Magento's ``payment_html`` is the method's info block: ``Bank Transfer Payment``, not ``banktransfer``."""
    _invoice, row = queued_invoice()  # seed 001 pays by banktransfer
    for body in bodies(row):
        assert "Bank Transfer Payment" in body
    assert "Payment Method: banktransfer" not in row.body_text


def test_invoice_new_lists_every_invoice_row_and_the_invoice_totals(queued_invoice):
    invoice, row = queued_invoice()
    lines = list(InvoiceItem.objects.filter(parent=invoice).order_by("id"))
    assert len(lines) == 3
    for body in bodies(row):
        for line in lines:
            assert line.name in body and line.sku in body
            assert usd(line.row_total) in body
        for label in ("Subtotal", "Discount", "Shipping &", "Tax", "Grand Total"):
            assert label in body
    text = row.body_text
    assert "Driven Backpack (24-WB03) x 20  $720.00" in text
    assert "Voyage Yoga Bag (24-WB01) x 40  $1,280.00" in text
    assert f"Subtotal: {usd(invoice.subtotal)}" in text
    assert f"Discount: {usd(invoice.discount_amount)}" in text  # -$404.40
    assert f"Shipping & Handling: {usd(invoice.shipping_amount)}" in text
    assert f"Grand Total: {usd(Decimal('1917.60'))}" in text
    assert text.index("Subtotal:") < text.index("Grand Total:")


def test_a_partial_invoice_mail_has_the_invoices_rows_and_totals_not_the_orders(seed_order, queued_invoice):
    """Magento #28295: the mail of a partial invoice showed the order's rows and totals."""
    order = seed_order()
    bag = order.items.get(sku="24-WB01")
    invoice, row = queued_invoice(order, items=[InvoiceLineRequest(order_item_id=bag.pk, sku=None, qty=Decimal(2))])
    assert invoice.grand_total < order.grand_total
    for body in bodies(row):
        assert "Voyage Yoga Bag" in body
        assert usd(Decimal("64")) in body  # 2 x $32.00
        assert usd(invoice.grand_total) in body
        assert "Driven Backpack" not in body and "Yoga Adventure" not in body
        assert usd(order.grand_total) not in body and usd(order.subtotal) not in body
        assert usd(Decimal("1280")) not in body  # the order row's total for 40 bags
    assert "Voyage Yoga Bag (24-WB01) x 2  $64.00" in row.body_text


def test_a_bundles_children_are_listed_under_it(import_order, queued_invoice):
    order = import_order(load_seed_order("000"), increment_id=None)
    _invoice, row = queued_invoice(order)
    text = row.body_text
    assert "  * Sprite Yoga Companion Kit" in text
    for child in (
        "Sprite Stasis Ball 65 cm",
        "Sprite Foam Yoga Brick",
        "Sprite Yoga Strap 8 foot",
        "Sprite Foam Roller",
    ):
        assert f"    - {child}" in text
        assert child in row.body_html


def test_a_virtual_order_has_no_shipping_info_or_shipping_method(virtual_order, queued_invoice):
    order = virtual_order()
    assert order.is_virtual
    invoice, row = queued_invoice(order)
    [product] = order.items.values_list("name", flat=True)
    for body in bodies(row):
        assert "Billing Info" in body and "Ada Lovelace" in body
        assert "Shipping Info" not in body
        assert "Shipping Method" not in body
        assert product in body
        assert usd(invoice.grand_total) in body


# -- the comment ----------------------------------------------------------------------------------------


def test_the_comment_is_in_the_mail_only_when_append_comment_asks_for_it(seed_order, queued_invoice):
    note = "Your parcel leaves the warehouse tomorrow."
    _invoice, without = queued_invoice(seed_order(), comment=InvoiceCommentRequest(comment=note))
    _invoice, appended = queued_invoice(seed_order(), comment=InvoiceCommentRequest(comment=note), append_comment=True)

    for body in bodies(without):
        assert note not in body
    for body in bodies(appended):
        assert note in body


def test_an_appended_comment_is_escaped_in_html_and_kept_verbatim_in_text(queued_invoice):
    note = "Paid <b>in full</b> & thanks\nsecond line"
    _invoice, row = queued_invoice(comment=InvoiceCommentRequest(comment=note), append_comment=True)
    assert note in row.body_text
    assert "Paid &lt;b&gt;in full&lt;/b&gt; &amp; thanks<br>second line" in row.body_html
    assert "<b>in full</b>" not in row.body_html


def test_invoice_update_has_magentos_subject_and_the_comment(queued_invoice):
    invoice, _row = queued_invoice()
    invoice_comment_add(invoice_id=invoice.pk, comment="We refunded the shipping.", is_customer_notified=True)

    update = EmailOutbox.objects.get(invoice=invoice, kind="invoice_update")
    assert update.subject == "Update to your Main Website Store invoice"
    assert update.recipients == ["roni_cost@example.com"]
    for body in bodies(update):
        assert "We refunded the shipping." in body
        assert f"invoice #{invoice.increment_id} for order #{invoice.order.increment_id}" in body
        assert "has been updated" in body


def test_invoice_update_text_shows_the_greeting_and_the_comment_once(queued_invoice):
    invoice, _row = queued_invoice()
    invoice_comment_add(invoice_id=invoice.pk, comment="We refunded the shipping.", is_customer_notified=True)

    update = EmailOutbox.objects.get(invoice=invoice, kind="invoice_update")
    for body in bodies(update):
        assert body.count("We refunded the shipping.") == 1, body
        assert body.count("Veronica Costello,") == 1, body
        assert "Thank you for your order from" not in body  # that is the new-invoice mail's line


# -- names and escaping ---------------------------------------------------------------------------------

UNICODE_NAMES = {
    "cyrillic": ("Анна", "Петрова-Щукина"),
    "arabic": ("محمد", "العلي"),
    "cjk": ("山田", "太郎"),
}


@pytest.mark.parametrize("script", sorted(UNICODE_NAMES))
def test_unicode_customer_and_address_names_render(seed_order, queued_invoice, script):
    first, last = UNICODE_NAMES[script]
    billing = {
        **load_seed_order("001")["entity"]["billing_address"],
        "firstname": first,
        "lastname": last,
        "city": f"{last} City",
        "street": [f"{first} Street 1"],
    }
    order = seed_order(customer_firstname=first, customer_lastname=last, billing_address=billing)
    _invoice, row = queued_invoice(order)
    for body in bodies(row):
        assert f"{first} {last}," in body
        assert f"{first} Street 1" in body and f"{last} City" in body


def test_unicode_names_and_store_name_survive_a_real_smtp_round_trip(smtp, seed_order, queued_invoice):
    Store.objects.filter(pk=1).update(frontend_name="Магазин 東京 متجر")
    first, last = "Анна", "山田"
    order = seed_order(customer_firstname=first, customer_lastname=last)
    _invoice, row = queued_invoice(order)
    assert row.subject == "Invoice for your Магазин 東京 متجر order"

    email_send(row.pk)

    [received] = smtp.received
    # Django folds an encoded Subject right after the colon; unfolding leaves whitespace a reader ignores.
    assert received.message["Subject"].strip() == "Invoice for your Магазин 東京 متجر order"
    assert f"{first} {last}," in received.text()
    assert f"{first} {last}," in received.html()


def test_markup_in_a_customer_name_is_escaped_in_html(seed_order, queued_invoice):
    order = seed_order(customer_firstname="<script>alert(1)</script>", customer_lastname="O'Brien & Co")
    _invoice, row = queued_invoice(order)
    assert "<script>" not in row.body_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row.body_html
    assert "O&#x27;Brien &amp; Co" in row.body_html
    assert "<script>alert(1)</script> O'Brien & Co," in row.body_text  # plain text is not HTML-escaped


def test_a_guest_order_greets_the_billing_name(seed_order, queued_invoice):
    order = seed_order(customer_firstname=None, customer_lastname=None, customer_is_guest=1, customer_id=None)
    _invoice, row = queued_invoice(order)
    for body in bodies(row):
        assert "Roni Cost," in body
