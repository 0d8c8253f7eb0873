"""The order page and Magento's New Invoice page in the admin: what they show, who may invoice, what a
submit writes (exactly the invoice asked for, or nothing), and a fixed query budget."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from notifications.models import EmailOutbox
from payments.models import Payment
from sales.models import Invoice, InvoiceComment, InvoiceItem, Order, OrderItem, OrderStatusHistory
from sales.money import format_price
from sales.services import InvoiceLineRequest, invoice_order, order_comment_add
from tests.conftest import load_seed_order
from tests.factories import OrderFactory, line, staff_client
from tests.sales.test_admin_permissions import read_pdf_text

pytestmark = pytest.mark.django_db

TEE, PILATES, HOODIE, BACKPACK = "WS12-M-Orange", "240-LV08", "MH01-S-Gray", "24-WB03"
BUNDLE = "24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086"
BUNDLE_CHILDREN = ("24-WG082-blue", "24-WG084", "24-WG086", "24-WG088")
BAG, BAG_2, YOGA = "24-WB03", "24-WB01", "240-LV06"  # seed 001: 20 and 40 bags, a video; 20% off, $300 shipping


def order_page(client, order) -> str:
    response = client.get(f"/admin/sales/order/{order.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def create_url(order) -> str:
    return f"/admin/sales/order/{order.pk}/invoice/"


def items_by_sku(order) -> dict[str, OrderItem]:
    """The order's rows by SKU; a configurable's child shares its parent's SKU, so the parent wins."""
    rows = {}
    for item in OrderItem.objects.filter(order=order).order_by("-id"):
        rows[item.sku] = item
    return rows


def submit(order, quantities: dict, **fields) -> dict:
    """The New Invoice form as a browser posts it: every row's qty (0 unless given), Submit Invoice."""
    data = {f"qty_{item.pk}": "0" for item in OrderItem.objects.filter(order=order)}
    data.update({f"qty_{item.pk}": str(qty) for item, qty in quantities.items()})
    return {**data, "submit": "Submit Invoice", **fields}


def update_qtys(order, quantities: dict, **fields) -> dict:
    """The same form sent with "Update Qty's" instead of "Submit Invoice"."""
    data = submit(order, quantities, **fields)
    del data["submit"]
    return {**data, "update_qty": "Update Qty's"}


def invoice_totals_shown(page: str) -> dict[str, str]:
    """The Invoice Totals block: label -> amount (the grand total's base twin, if any, under "[base]")."""
    if 'id="invoice-totals-table"' not in page:
        return {}
    table = page.split('id="invoice-totals-table"', 1)[1].split("</table>", 1)[0]
    totals = dict(re.findall(r'<tr(?: class="grand-total")?>\s*<td>([^<]+)</td>\s*<td class="amount">([^<]+)', table))
    base = re.search(r'<span class="base-amount">\[([^\]]+)\]</span>', table)
    return {**totals, **({"[base]": base.group(1)} if base else {})}


def row_amounts_shown(page: str) -> dict[int, tuple[str, str, str, str]]:
    """Each qty input's row: order item id -> (Subtotal, Tax Amount, Discount Amount, Row Total)."""
    cell = r'\s*<td class="amount">([^<]*)</td>'
    found = re.findall(r'name="qty_(\d+)"[^>]*></td>' + cell * 4, page)
    return {int(pk): tuple(amounts) for pk, *amounts in found}


def created_totals(invoice: Invoice) -> dict[str, str]:
    """What the invoice created shows: its own totals, formatted (a zero discount or shipping left out)."""
    usd = invoice.order_currency_code
    totals = {"Subtotal": format_price(invoice.subtotal, usd)}
    if invoice.discount_amount:
        description = invoice.discount_description
        totals[f"Discount ({description})" if description else "Discount"] = format_price(invoice.discount_amount, usd)
    if invoice.shipping_amount:
        totals["Shipping &amp; Handling"] = format_price(invoice.shipping_amount, usd)
    totals["Tax"] = format_price(invoice.tax_amount, usd)
    totals["Grand Total"] = format_price(invoice.grand_total, usd)
    return totals


def invoice_number_queries(queries) -> list[str]:
    """Statements that write, or take a number from an invoice sequence (PostgreSQL's nextval is no write)."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if re.match(r"\s*(INSERT|UPDATE|DELETE)", query["sql"], flags=re.IGNORECASE)
        or "salessequence" in query["sql"].lower()
        or "nextval" in query["sql"].lower()
    ]


def order_of_simple_lines(count: int) -> Order:
    """An order of ``count`` tees at $22 plus $5 shipping, from the factory: totals that add up however many rows."""
    return OrderFactory(lines=[line(f"WS12-{n}", 1, "22.00", name=f"Radiant Tee {n}") for n in range(count)])


def nothing_written(order) -> bool:
    order.refresh_from_db()
    return (
        not Invoice.objects.filter(order=order).exists()
        and not EmailOutbox.objects.exists()
        and not Payment.objects.filter(order=order, amount_paid__isnull=False).exists()
        and all(item.qty_invoiced == 0 for item in OrderItem.objects.filter(order=order))
        and order.total_invoiced is None
        and order.state == "new"
    )


@pytest.fixture
def order(import_order):
    return import_order(load_seed_order("000"))


@pytest.fixture
def sandbox_order(db):
    return OrderFactory(seed_001=True, gateway_paid=True)


# -- the order page -------------------------------------------------------------------------------------


def test_the_order_page_shows_each_row_with_its_qty_ordered_and_invoiced(admin_client, order):
    tee = items_by_sku(order)[TEE]
    invoice_order(order_id=order.pk, items=[InvoiceLineRequest(order_item_id=tee.pk, qty=Decimal("1"))])

    page = order_page(admin_client, order)

    assert "<h1>Order # 000000003</h1>" in page and "Processing | Aug 21, 2017, 10:30:55 PM" in page
    rows = re.findall(
        r'<tr class="(child)?">\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>.*?<td class="qty">(.*?)</td>',
        page,
        flags=re.DOTALL,
    )
    qty = {sku: re.sub(r"<[^>]+>", " ", cell).split() for _child, _name, sku, cell in rows}
    assert qty[TEE] == ["Ordered", "1", "Invoiced", "1"]
    assert qty[PILATES] == ["Ordered", "1", "Invoiced", "0"]
    assert len(rows) == 9


def test_the_order_page_lists_bundle_and_configurable_children_indented_under_their_parent(admin_client, order):
    page = order_page(admin_client, order)

    rows = re.findall(r'<tr class="(child)?">\s*<td>[^<]*</td>\s*<td>([^<]*)</td>', page)
    assert rows == [
        ("", TEE),
        ("", PILATES),
        ("", BUNDLE),
        *(("child", sku) for sku in BUNDLE_CHILDREN),
        ("", HOODIE),
        ("child", HOODIE),
    ]


def test_the_order_page_shows_the_order_totals_and_what_was_paid(admin_client, order):
    tee = items_by_sku(order)[TEE]
    invoice_order(order_id=order.pk, items=[InvoiceLineRequest(order_item_id=tee.pk, qty=Decimal("1"))])

    page = order_page(admin_client, order)

    totals = dict(
        re.findall(
            r"<tr><th scope=\"row\">(?:<strong>)?([^<]+)(?:</strong>)?</th>\s*"
            r"<td class=\"amount\">(?:<strong>)?([^<]+)",
            page,
        )
    )
    assert totals == {
        "Subtotal": "$160.00",
        "Shipping &amp; Handling": "$5.00",
        "Tax": "$0.00",
        "Grand Total": "$165.00",
        "Total Paid": "$27.00",
        "Total Invoiced": "$27.00",
        "Total Refunded": "$0.00",
        "Total Due": "$138.00",
    }


def test_the_order_page_adds_the_base_amount_where_the_currencies_differ(admin_client, import_order):
    order = import_order(load_seed_order("000"), order_currency_code="EUR")

    page = order_page(admin_client, order)

    assert "€165.00 [$165.00]" in page and "€22.00 [$22.00]" in page


def test_the_order_page_lists_the_comments_history(admin_client, order):
    order_comment_add(order_id=order.pk, comment="Customer called about the hoodie size.")

    page = order_page(admin_client, order)

    assert "Customer called about the hoodie size." in page and "Customer Not Notified" in page


def test_the_order_page_lists_its_invoices_linked_to_their_pages(admin_client, order):
    invoice = invoice_order(order_id=order.pk)

    page = order_page(admin_client, order)

    assert f'<a href="/admin/sales/invoice/{invoice.pk}/change/">{invoice.increment_id}</a>' in page
    assert re.search(r"<td>Paid</td>\s*<td class=\"amount\">\$165.00</td>", page)


def test_the_invoice_button_is_offered_to_a_sales_manager_while_the_order_can_be_invoiced(client, order):
    manager = staff_client(client, "Sales manager")
    assert create_url(order) in order_page(manager, order)

    invoice_order(order_id=order.pk)

    assert create_url(order) not in order_page(manager, order)


def test_the_invoice_button_is_not_offered_to_a_sales_viewer(client, order):
    assert create_url(order) not in order_page(staff_client(client, "Sales viewer"), order)


def test_print_invoices_is_offered_once_the_order_has_invoices_and_prints_them(admin_client, order):
    assert "Print Invoices" not in order_page(admin_client, order)
    first_row = order.items.order_by("pk")[0]
    first = invoice_order(order_id=order.pk, items=[InvoiceLineRequest(order_item_id=first_row.pk, qty=Decimal("1"))])
    second = invoice_order(order_id=order.pk)

    page = order_page(admin_client, order)
    response = admin_client.post("/admin/sales/order/", {"action": "print_invoices", "_selected_action": order.pk})

    assert "Print Invoices" in page and 'name="action" value="print_invoices"' in page
    assert response["Content-Type"] == "application/pdf"
    text = read_pdf_text(response.content)
    # Both invoices of the order, oldest first, each under Magento's heading.
    assert text.index(f"Invoice # {first.increment_id}") < text.index(f"Invoice # {second.increment_id}")
    assert f"Order # {order.increment_id}" in text
    first_pdf, second_pdf = text.split(f"Invoice # {second.increment_id}")
    # The tee, with the order's $5 shipping billed on the first invoice only: $22 + $5 = $27.
    assert "Shipping & Handling: $5.00" in first_pdf and "Grand Total: $27.00" in first_pdf
    # The rest: $18 + $27 + $5 + $17 + $19 + $52 = $138 ($160 subtotal - $22), no shipping again.
    assert "Shipping & Handling" not in second_pdf and "Grand Total: $138.00" in second_pdf


# -- the New Invoice page -------------------------------------------------------------------------------


def test_the_create_page_answers_403_to_a_sales_viewer_and_writes_nothing(client, order):
    viewer = staff_client(client, "Sales viewer")

    assert viewer.get(create_url(order)).status_code == 403
    assert viewer.post(create_url(order), submit(order, {items_by_sku(order)[TEE]: 1})).status_code == 403
    assert nothing_written(order)


def test_an_order_that_cannot_be_invoiced_is_sent_back_to_its_page_with_magentos_message(admin_client, order):
    invoice_order(order_id=order.pk)

    for response in (admin_client.get(create_url(order)), admin_client.post(create_url(order), submit(order, {}))):
        assert response.status_code == 302 and response["Location"] == f"/admin/sales/order/{order.pk}/change/"
    page = admin_client.get(create_url(order), follow=True).content.decode()
    assert "The order does not allow an invoice to be created." in page
    assert Invoice.objects.filter(order=order).count() == 1


def test_an_order_that_no_longer_exists_is_sent_back_to_the_orders_grid(admin_client):
    response = admin_client.get("/admin/sales/order/999999/invoice/", follow=True)

    assert response.redirect_chain == [("/admin/sales/order/", 302)]
    assert "The order no longer exists." in response.content.decode()


def test_an_order_on_hold_cannot_be_invoiced_from_the_create_page(admin_client, order):
    Order.objects.filter(pk=order.pk).update(state="holded", status="holded")

    response = admin_client.post(create_url(order), submit(order, {items_by_sku(order)[TEE]: 1}), follow=True)

    assert "The order does not allow an invoice to be created." in response.content.decode()
    assert not Invoice.objects.exists()


def test_the_create_page_has_a_qty_input_for_each_row_the_service_takes_a_quantity_for(admin_client, order):
    page = admin_client.get(create_url(order)).content.decode()

    inputs = dict(re.findall(r'name="qty_(\d+)" value="([^"]*)"', page))
    sku_of = {str(item.pk): (item.sku, item.parent_item_id is None) for item in OrderItem.objects.filter(order=order)}
    # The dynamic bundle is invoiced through its priced children, the configurable through its priced parent.
    assert sorted(sku_of[pk] for pk in inputs) == sorted(
        [(TEE, True), (PILATES, True), *((sku, False) for sku in BUNDLE_CHILDREN), (HOODIE, True)]
    )
    assert set(inputs.values()) == {"1"}
    for label in (
        "Items to Invoice",
        "Qty to Invoice",
        "Update Qty's",
        "Invoice Comments",
        "Append Comments",
        "Email Copy of Invoice",
        "Submit Invoice",
    ):
        assert label in page
    for name in (
        'name="update_qty"',
        'name="comment_text"',
        'name="comment_customer_notify"',
        'name="send_email"',
        'name="submit"',
    ):
        assert name in page


def test_a_partial_invoice_through_the_form_invoices_exactly_the_row_given(admin_client, order):
    tee = items_by_sku(order)[TEE]

    response = admin_client.post(create_url(order), submit(order, {tee: 1}))

    invoice = Invoice.objects.get(order=order)
    assert response.status_code == 302 and response["Location"] == f"/admin/sales/invoice/{invoice.pk}/change/"
    assert [(row.order_item_id, row.qty) for row in InvoiceItem.objects.filter(parent=invoice)] == [(tee.pk, 1)]
    assert invoice.grand_total == Decimal("27.0000") and invoice.state == 2  # check / money order: paid offline
    assert "The invoice has been created." in admin_client.get(response["Location"]).content.decode()


def test_a_dynamic_bundle_is_invoiced_through_its_children_with_the_parent_following(admin_client, order):
    rows = items_by_sku(order)

    admin_client.post(create_url(order), submit(order, {rows[sku]: 1 for sku in BUNDLE_CHILDREN}))

    invoiced = set(InvoiceItem.objects.filter(parent__order=order).values_list("sku", flat=True))
    assert invoiced == {BUNDLE, *BUNDLE_CHILDREN}


def test_update_qtys_shows_the_entered_quantities_writes_nothing_and_takes_no_invoice_number(admin_client, order):
    rows = items_by_sku(order)
    data = update_qtys(order, {rows[PILATES]: 1}, comment_text="Ship the rest later")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post(create_url(order), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert f'name="qty_{rows[TEE].pk}" value="0"' in page and f'name="qty_{rows[PILATES].pk}" value="1"' in page
    assert "Ship the rest later</textarea>" in page
    assert invoice_totals_shown(page)["Grand Total"] == "$23.00"  # the video and, on the first invoice, shipping
    assert invoice_number_queries(queries) == []
    assert nothing_written(order)


def test_update_qtys_shows_the_totals_of_the_invoice_the_same_quantities_then_create(admin_client, import_order):
    order = import_order(load_seed_order("001"))
    rows = items_by_sku(order)
    quantities = {rows[BAG]: 5, rows[BAG_2]: 0, rows[YOGA]: 1}

    page = admin_client.post(create_url(order), update_qtys(order, quantities)).content.decode()
    admin_client.post(create_url(order), submit(order, quantities))

    invoice = Invoice.objects.get(order=order)
    shown = invoice_totals_shown(page)
    assert shown == created_totals(invoice)
    assert shown["Grand Total"] == "$461.60" and shown["Discount"] == "-$40.40"  # 5 × $36 + $22 − 20% + $300
    # Subtotal, Tax Amount, Discount Amount, Row Total of each row (20 % off; the Row Total after it).
    assert row_amounts_shown(page) == {
        rows[BAG].pk: ("$180.00", "$0.00", "$36.00", "$144.00"),  # 5 x $36 = $180; 20% = $36; $180 - $36
        rows[YOGA].pk: ("$22.00", "$0.00", "$4.40", "$17.60"),  # $22; 20% = $4.40; $22 - $4.40
        rows[BAG_2].pk: ("", "", "", ""),
    }


def test_the_create_page_shows_the_totals_of_invoicing_the_whole_order(admin_client, order):
    page = admin_client.get(create_url(order)).content.decode()

    assert invoice_totals_shown(page) == {
        "Subtotal": "$160.00",
        "Shipping &amp; Handling": "$5.00",
        "Tax": "$0.00",
        "Grand Total": "$165.00",
    }
    tee = items_by_sku(order)[TEE]
    assert row_amounts_shown(page)[tee.pk] == ("$22.00", "$0.00", "$0.00", "$22.00")
    assert nothing_written(order)


def test_the_create_page_adds_the_base_grand_total_where_the_currencies_differ(admin_client, import_order):
    order = import_order(load_seed_order("000"), order_currency_code="EUR")

    page = admin_client.get(create_url(order)).content.decode()

    totals = invoice_totals_shown(page)
    assert (totals["Subtotal"], totals["Grand Total"], totals["[base]"]) == ("€160.00", "€165.00", "$165.00")


@pytest.mark.parametrize("qty", ["abc", "1/2", "NaN", "Infinity", "1,5", "1e30", "0.00001"])
def test_a_quantity_that_is_not_a_number_is_reported_and_writes_nothing(admin_client, order, qty):
    stasis_ball = items_by_sku(order)[BUNDLE_CHILDREN[0]]

    response = admin_client.post(create_url(order), submit(order, {stasis_ball: qty}))

    page = response.content.decode()
    assert response.status_code == 200
    assert "We found an invalid quantity to invoice item &quot;Sprite Stasis Ball 65 cm&quot;." in page
    assert f'name="qty_{stasis_ball.pk}" value="{qty}"' in page
    assert nothing_written(order)


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        (
            "5",
            "The quantity to invoice must not be greater than the uninvoiced quantity for product SKU "
            "&quot;WS12-M-Orange&quot;.",
        ),
        ("0", "The invoice can&#x27;t be created without products. Add products and try again."),
        ("-1", "We found an invalid quantity to invoice item &quot;Radiant Tee-M-Orange&quot;."),
        ("0.5", "We found an invalid quantity to invoice item &quot;Radiant Tee-M-Orange&quot;."),
    ],
)
@pytest.mark.parametrize("button", [submit, update_qtys], ids=["submit", "update_qtys"])
def test_a_refused_invoice_shows_magentos_message_keeps_the_entered_values_and_writes_nothing(
    admin_client, order, qty, message, button
):
    tee = items_by_sku(order)[TEE]

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post(create_url(order), button(order, {tee: qty}, comment_text="First box"))

    page = response.content.decode()
    assert response.status_code == 200 and message in page
    assert f'name="qty_{tee.pk}" value="{qty}"' in page and "First box</textarea>" in page
    assert invoice_totals_shown(page) == {}  # no invoice, no totals
    if button is update_qtys:
        assert invoice_number_queries(queries) == []
    assert nothing_written(order)


def test_the_capture_select_is_offered_only_for_a_payment_that_can_capture_online(admin_client, order, sandbox_order):
    online = admin_client.get(create_url(sandbox_order)).content.decode()
    offline = admin_client.get(create_url(order)).content.decode()

    assert re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', online) == [
        ("online", "Capture Online"),
        ("offline", "Capture Offline"),
        ("not_capture", "Not Capture"),
    ]
    assert 'name="capture_case"' in online
    assert 'name="capture_case"' not in offline and "without the payment gateway" not in offline


@pytest.mark.parametrize(
    ("capture_case", "state", "captured"), [("online", 2, True), ("offline", 2, False), ("not_capture", 1, False)]
)
def test_the_capture_case_chosen_is_how_the_invoice_is_paid(admin_client, sandbox_order, capture_case, state, captured):
    backpack = items_by_sku(sandbox_order)[BACKPACK]

    admin_client.post(create_url(sandbox_order), submit(sandbox_order, {backpack: 1}, capture_case=capture_case))

    invoice = Invoice.objects.get(order=sandbox_order)
    assert invoice.state == state and bool(invoice.transaction_id) is captured


def test_without_the_capture_permission_an_online_method_is_invoiced_offline_with_magentos_note(client, sandbox_order):
    staff = staff_client(client, permissions=("sales.view_order", "sales.invoice_order"))

    page = staff.get(create_url(sandbox_order)).content.decode()
    backpack = items_by_sku(sandbox_order)[BACKPACK]
    staff.post(create_url(sandbox_order), submit(sandbox_order, {backpack: 1}, capture_case="online"))

    assert "The invoice will be created offline without the payment gateway." in page
    assert 'name="capture_case"' not in page
    invoice = Invoice.objects.get(order=sandbox_order)
    assert invoice.state == 2 and not invoice.transaction_id


def test_email_copy_and_append_comments_reach_the_invoice(admin_client, order):
    admin_client.post(
        create_url(order),
        submit(
            order, {items_by_sku(order)[TEE]: 1}, comment_text="Thanks!", comment_customer_notify="on", send_email="on"
        ),
    )

    invoice = Invoice.objects.get(order=order)
    comment = InvoiceComment.objects.get(parent=invoice)
    assert invoice.send_email == 1 and EmailOutbox.objects.filter(invoice=invoice).count() == 1
    assert comment.comment == "Thanks!" and comment.is_customer_notified is True


def test_a_comment_without_email_copy_is_kept_but_not_marked_notified(admin_client, order):
    tee = items_by_sku(order)[TEE]

    admin_client.post(create_url(order), submit(order, {tee: 1}, comment_text="Internal", comment_customer_notify="on"))

    invoice = Invoice.objects.get(order=order)
    assert InvoiceComment.objects.get(parent=invoice).is_customer_notified is False
    assert invoice.send_email is None and not EmailOutbox.objects.exists()


def test_the_create_page_refuses_a_post_without_a_csrf_token(admin_user, order):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.post(create_url(order), submit(order, {items_by_sku(order)[TEE]: 1}))

    assert response.status_code == 403
    assert nothing_written(order)


# -- query budget ---------------------------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    client.get(url)  # warms the process-wide content type cache, which is not the page's budget
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_order_page_runs_the_same_queries_for_one_row_and_for_many_rows_comments_and_invoices(client):
    manager = staff_client(client, "Sales manager")
    small = order_of_simple_lines(1)
    large = order_of_simple_lines(12)
    for item in OrderItem.objects.filter(order=large)[:3]:
        invoice_order(order_id=large.pk, items=[InvoiceLineRequest(order_item_id=item.pk, qty=Decimal("1"))])
    for text in ("Called the customer", "Address confirmed"):
        order_comment_add(order_id=large.pk, comment=text)
    assert OrderStatusHistory.objects.filter(order=large).count() == 2

    counts = [count_queries(manager, f"/admin/sales/order/{order.pk}/change/") for order in (small, large)]

    # session, user, the order with its store, addresses and payment, rows, comments, invoices, permissions (2)
    assert counts[0] == counts[1] <= 8


def test_the_create_page_runs_the_same_queries_for_one_row_and_for_many_rows(client):
    manager = staff_client(client, "Sales manager")
    orders = (order_of_simple_lines(1), order_of_simple_lines(12))

    counts = [count_queries(manager, create_url(order)) for order in orders]

    # session, user, permissions (2), the order with its payment, rows; then the invoice preview's own
    # order and rows (invoice_preview reads the order afresh, as invoice_order would under its lock)
    assert counts[0] == counts[1] <= 8
