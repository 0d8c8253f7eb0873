"""Magento's invoice rules (reference sections 2-5), one test per rule, on small hand-built orders.

Expected amounts are worked out by hand from the reference's formulas (delta rounding per invoice,
half up, remainders on the last invoice), never read back from the code under test.
"""

from __future__ import annotations

import importlib
import re
from decimal import Decimal

import pytest
from django.db import connection

from sales.errors import DocumentValidationError, DomainError
from sales.models import Invoice, InvoiceItem, Order, OrderItem, Store
from sales.services import CaptureCase, InvoiceLineRequest, invoice_order, invoice_preview
from tests.factories import OrderEntityFactory
from tests.factories import line as factory_line
from tests.helpers import V1 as BASE
from tests.helpers import parse, post_json

pytestmark = pytest.mark.django_db

INVALID_QTY = 'We found an invalid quantity to invoice item "%1".'


def D(value) -> Decimal:  # noqa: N802 - reads as a literal
    return Decimal(str(value))


# -- building orders -------------------------------------------------------------------------------


def line(sku, qty, price, *, tax=0, discount=0, **fields) -> dict:
    """The factories' order row with its tax and discount written out (none unless given), never from a rate:
    each rule's amounts are worked out by hand."""
    return factory_line(sku, qty, price, tax=tax, discount=discount, **fields)


def entity(lines, *, shipping=0, shipping_tax=0, shipping_discount=0, method="checkmo", base_factor=None) -> dict:
    """``OrderEntityFactory``'s valid entity of these rows, its header totals summed from the priced rows; no
    shipping unless given. ``base_factor`` makes a EUR order on a USD base (each base amount rounded on its own)."""
    return OrderEntityFactory(
        lines=list(lines),
        shipping=shipping,
        shipping_tax=shipping_tax,
        shipping_discount=shipping_discount,
        payment_method=method,
        base_factor=base_factor,
    )


def item(order: Order, sku: str) -> OrderItem:
    return OrderItem.objects.get(order=order, sku=sku)


def invoice(order: Order, *lines, **kwargs) -> Invoice:
    """Invoice ``(sku, qty)`` lines offline through the service (no lines: everything left)."""
    requested = [InvoiceLineRequest(item(order, sku).pk, D(qty)) for sku, qty in lines]
    created = invoice_order(order_id=order.pk, capture_case=CaptureCase.OFFLINE, items=requested, **kwargs)
    return Invoice.objects.get(pk=created.pk)


def rows(invoice_: Invoice) -> dict[str, InvoiceItem]:
    return {row.sku: row for row in invoice_.items.all()}


def worked_example(**kwargs) -> dict:
    """Reference 4.7: one item, qty 3, row 10.00, tax 2.10; shipping 5.00 + 1.05 tax; grand 18.15."""
    a = line("A", 3, "3.3333", row_total="10.00", tax="2.10")
    return entity([a], shipping="5.00", shipping_tax="1.05", **kwargs)


def two_lines(**kwargs) -> dict:
    """A cheap line (A, 10.00) and a dear one (B, 20.00), one of each."""
    return entity([line("A", 1, "10.00"), line("B", 1, "20.00", **kwargs.pop("b", {}))], **kwargs)


def configurable() -> dict:
    return entity(
        [
            line("CONF", 2, "20.00", product_type="configurable"),
            line("CONF-S", 2, 0, dummy=True, parent="CONF"),
        ]
    )


def fixed_bundle() -> dict:
    """Priced parent (3 x 50.00); children X (2 per bundle) and Y (1 per bundle) are dummies."""
    return entity(
        [
            line("FIX", 3, "50.00", product_type="bundle", product_options={"product_calculations": 1}),
            line("FIX-X", 6, 0, dummy=True, parent="FIX", product_options={"bundle_selection_attributes": {"qty": 2}}),
            line("FIX-Y", 3, 0, dummy=True, parent="FIX", product_options={"bundle_selection_attributes": {"qty": 1}}),
        ]
    )


def dynamic_bundle() -> dict:
    """Dummy parent (2 bundles); children carry the money: A 1 per bundle at 10.00, B 3 per bundle at 5.00."""
    return entity(
        [
            line("DYN", 2, "25.00", product_type="bundle", dummy=True, product_options={"product_calculations": 0}),
            line("DYN-A", 2, "10.00", parent="DYN", product_options={"bundle_selection_attributes": {"qty": 1}}),
            line("DYN-B", 6, "5.00", parent="DYN", product_options={"bundle_selection_attributes": {"qty": 3}}),
        ]
    )


# -- totals ----------------------------------------------------------------------------------------


def test_worked_example_three_invoices_of_one_give_10_08_4_04_4_03(import_order):
    # Given the reference's worked example
    order = import_order(worked_example())
    assert order.grand_total == D("18.15")
    # When it is invoiced one unit at a time
    invoices = [invoice(order, ("A", 1)) for _ in range(3)]
    # Then grand totals, row totals and row taxes are Magento's to the cent
    assert [i.grand_total for i in invoices] == [D("10.08"), D("4.04"), D("4.03")]
    assert [rows(i)["A"].row_total for i in invoices] == [D("3.33"), D("3.34"), D("3.33")]
    assert [rows(i)["A"].tax_amount for i in invoices] == [D("0.70"), D("0.70"), D("0.70")]
    assert [i.subtotal for i in invoices] == [D("3.33"), D("3.34"), D("3.33")]
    assert [i.tax_amount for i in invoices] == [D("1.75"), D("0.70"), D("0.70")]
    # And the order is invoiced exactly
    order.refresh_from_db()
    assert (order.total_invoiced, order.subtotal_invoiced, order.tax_invoiced) == (D("18.15"), D("10"), D("3.15"))


def test_shipping_is_billed_on_the_first_invoice_only(import_order):
    # Given two lines and 5.00 shipping
    order = import_order(two_lines(shipping="5.00"))
    # When the cheap line is invoiced first, then the dear one
    first, second = invoice(order, ("A", 1)), invoice(order, ("B", 1))
    # Then the whole shipping is on the first invoice, none on the second
    assert (first.shipping_amount, first.base_shipping_amount, first.shipping_incl_tax) == (D(5), D(5), D(5))
    assert first.grand_total == D("15.00")
    assert (second.shipping_amount, second.base_shipping_amount, second.shipping_incl_tax) == (None, None, None)
    assert second.grand_total == D("20.00")
    order.refresh_from_db()
    assert (order.shipping_invoiced, order.base_shipping_invoiced) == (D(5), D(5))


def test_shipping_tax_goes_with_the_shipping(import_order):
    # Given untaxed lines and 5.00 shipping taxed 1.05
    order = import_order(two_lines(shipping="5.00", shipping_tax="1.05"))
    # When invoiced in two invoices
    first, second = invoice(order, ("A", 1)), invoice(order, ("B", 1))
    # Then the shipping tax is on the first invoice with the shipping
    assert (first.shipping_tax_amount, first.base_shipping_tax_amount) == (D("1.05"), D("1.05"))
    assert (first.tax_amount, first.shipping_incl_tax, first.grand_total) == (D("1.05"), D("6.05"), D("16.05"))
    assert (second.shipping_tax_amount, second.tax_amount, second.grand_total) == (None, D(0), D("20.00"))


def test_shipping_discount_goes_with_the_first_invoice_that_carries_a_discount(import_order):
    # Given B discounted 2.00 and shipping discounted 1.00 (order discount -3.00)
    order = import_order(two_lines(shipping="5.00", shipping_discount="1.00", b={"discount": "2.00"}))
    assert order.discount_amount == D("-3.00")
    # When the undiscounted line is invoiced first
    first, second = invoice(order, ("A", 1)), invoice(order, ("B", 1))
    # Then the first invoice carries the whole shipping discount, the second only its row's
    assert (first.discount_amount, first.grand_total) == (D("-1.00"), D("14.00"))
    assert rows(first)["A"].discount_amount is None
    assert (second.discount_amount, second.grand_total) == (D("-2.00"), D("18.00"))
    assert rows(second)["B"].discount_amount == D("2.00")  # positive on rows, negative on headers
    order.refresh_from_db()
    assert (order.discount_invoiced, order.total_invoiced) == (D("-3.00"), order.grand_total)


def test_last_invoice_takes_the_exact_remainder_of_subtotal_tax_and_discount(import_order):
    # Given qty 3, row 10.00, discount 1.00, tax 2.00 (grand 11.00)
    order = import_order(entity([line("A", 3, "3.3333", row_total="10.00", tax="2.00", discount="1.00")]))
    # When invoiced one unit at a time
    invoices = [invoice(order, ("A", 1)) for _ in range(3)]
    # Then the first two are proportional (with carry) and the last takes what is left
    assert [i.subtotal for i in invoices] == [D("3.33"), D("3.34"), D("3.33")]
    assert [i.discount_amount for i in invoices] == [D("-0.33"), D("-0.34"), D("-0.33")]
    assert [i.tax_amount for i in invoices] == [D("0.67"), D("0.67"), D("0.66")]
    assert [i.grand_total for i in invoices] == [D("3.67"), D("3.67"), D("3.66")]
    order.refresh_from_db()
    assert (order.subtotal_invoiced, order.discount_invoiced, order.tax_invoiced) == (D(10), D(-1), D(2))
    assert order.total_invoiced == order.grand_total == D("11.00")


def test_last_invoice_takes_the_order_header_remainder_not_the_rows_sum(import_order):
    # Given an order whose header subtotal and tax are each a cent above its row's (totals-based rounding)
    entity_ = entity([line("A", 3, "3.3333", row_total="10.00", tax="2.00")])
    for prefix in ("", "base_"):
        entity_ |= {
            f"{prefix}subtotal": D("10.01"),
            f"{prefix}tax_amount": D("2.01"),
            f"{prefix}grand_total": D("12.02"),
        }
    order = import_order(entity_)
    # When invoiced one unit at a time
    invoices = [invoice(order, ("A", 1)) for _ in range(3)]
    # Then the first two are proportional (tax 0.6667 + carry 0.0033 -> 0.67; 0.665 - carry 0.005 -> 0.66)
    # and the last takes the header's remainders (10.01 - 6.67 = 3.34; 2.01 - 1.33 = 0.68)
    assert [i.subtotal for i in invoices] == [D("3.33"), D("3.34"), D("3.34")]
    assert [i.tax_amount for i in invoices] == [D("0.67"), D("0.66"), D("0.68")]
    assert [i.grand_total for i in invoices] == [D("4.00"), D("4.00"), D("4.02")]
    # while its row keeps the row's remainders
    assert (rows(invoices[2])["A"].row_total, rows(invoices[2])["A"].tax_amount) == (D("3.33"), D("0.67"))
    order.refresh_from_db()
    assert (order.subtotal_invoiced, order.tax_invoiced, order.total_invoiced) == (D("10.01"), D("2.01"), D("12.02"))


def test_half_up_rounding_rounds_a_half_cent_share_up(import_order):
    # Given qty 2 for 6.65: one unit's share is 3.325 (banker's rounding and floats give 3.32)
    order = import_order(entity([line("A", 2, "3.325", row_total="6.65")]))
    # When one unit is invoiced
    first = invoice(order, ("A", 1))
    # Then it is rounded half up, and the last takes the rest
    assert (first.subtotal, first.base_subtotal, first.grand_total) == (D("3.33"), D("3.33"), D("3.33"))
    assert invoice(order, ("A", 1)).subtotal == D("3.32")


def test_rounding_carry_flows_across_rows_of_one_invoice(import_order):
    # Given two lines of qty 3 for 10.00 each
    order = import_order(entity([line("A", 3, "3.3333", row_total="10.00"), line("B", 3, "3.3333", row_total="10.00")]))
    # When one unit of each is invoiced
    first = invoice(order, ("A", 1), ("B", 1))
    # Then the first row's rounding remainder is carried into the second (3.33 + 3.34, not 3.33 + 3.33)
    assert (rows(first)["A"].row_total, rows(first)["B"].row_total, first.subtotal) == (D("3.33"), D("3.34"), D("6.67"))
    # And a new invoice starts with no carry: 3.335 -> 3.34, then 3.33 + (-0.005) = 3.325 -> 3.33
    second = invoice(order, ("A", 1), ("B", 1))
    assert (rows(second)["A"].row_total, rows(second)["B"].row_total) == (D("3.34"), D("3.33"))
    assert invoice(order).subtotal == D("6.66")


def test_base_currency_is_computed_independently_with_its_own_rounding(import_order):
    # Given the worked example in EUR on a USD base: base row 12.35, tax 2.59, shipping 6.18 + 1.30
    order = import_order(worked_example(base_factor="1.235"))
    assert (order.base_grand_total, order.grand_total, order.base_to_order_rate) == (
        D("22.42"),
        D("18.15"),
        D("0.8097"),
    )
    # When invoiced one unit at a time
    invoices = [invoice(order, ("A", 1)) for _ in range(3)]
    # Then the store amounts are the worked example's and the base ones are rounded on their own
    assert [i.grand_total for i in invoices] == [D("10.08"), D("4.04"), D("4.03")]
    assert [i.base_subtotal for i in invoices] == [D("4.12"), D("4.12"), D("4.11")]
    assert [rows(i)["A"].base_tax_amount for i in invoices] == [D("0.86"), D("0.86"), D("0.87")]
    assert [i.base_tax_amount for i in invoices] == [D("2.16"), D("0.86"), D("0.87")]
    assert [i.base_grand_total for i in invoices] == [D("12.46"), D("4.98"), D("4.98")]
    assert {(i.base_to_order_rate, i.order_currency_code, i.base_currency_code) for i in invoices} == {
        (D("0.8097"), "EUR", "USD")
    }
    # And both currencies add up exactly to the order's totals
    order.refresh_from_db()
    base_invoiced = (order.base_total_invoiced, order.base_subtotal_invoiced, order.base_tax_invoiced)
    assert base_invoiced == (D("22.42"), D("12.35"), D("3.89"))
    assert (order.total_paid, order.base_total_paid) == (D("18.15"), D("22.42"))


# -- composite lines -------------------------------------------------------------------------------


def test_configurable_parent_qty_invoices_the_child_by_ratio(import_order):
    order = import_order(configurable())
    first = invoice(order, ("CONF", 1))
    assert {sku: row.qty for sku, row in rows(first).items()} == {"CONF": 1, "CONF-S": 1}
    assert (rows(first)["CONF"].row_total, rows(first)["CONF-S"].row_total, first.subtotal) == (D(20), None, D(20))
    assert (item(order, "CONF").qty_invoiced, item(order, "CONF-S").qty_invoiced) == (1, 1)


def test_configurable_named_by_its_child_invoices_the_parent(import_order):
    order = import_order(configurable())
    first = invoice(order, ("CONF-S", 1))
    assert {sku: row.qty for sku, row in rows(first).items()} == {"CONF": 1, "CONF-S": 1}
    assert first.subtotal == D(20)
    assert (item(order, "CONF").qty_invoiced, item(order, "CONF-S").qty_invoiced) == (1, 1)


def test_fixed_bundle_children_follow_the_parent_by_selection_qty(import_order):
    order = import_order(fixed_bundle())
    first = invoice(order, ("FIX", 1))
    assert {sku: row.qty for sku, row in rows(first).items()} == {"FIX": 1, "FIX-X": 2, "FIX-Y": 1}
    assert (first.subtotal, first.total_qty, rows(first)["FIX-X"].row_total) == (D(50), 4, None)


def test_fixed_bundle_last_invoice_gives_children_their_exact_remainder(import_order):
    # Given a fixed bundle of 3, one already invoiced
    order = import_order(fixed_bundle())
    invoice(order, ("FIX", 1))
    # When the rest is invoiced without naming items
    last = invoice(order)
    # Then children get their remainder, not their full qty_ordered again (Magento #5076/#19069)
    assert {sku: row.qty for sku, row in rows(last).items()} == {"FIX": 2, "FIX-X": 4, "FIX-Y": 2}
    assert [item(order, sku).qty_invoiced for sku in ("FIX", "FIX-X", "FIX-Y")] == [3, 6, 3]
    assert last.subtotal == D(100)


def test_dynamic_bundle_children_carry_the_money_and_the_parent_follows_the_furthest_child(import_order):
    # Given a dynamic bundle of 2 (A x1 and B x3 per bundle)
    order = import_order(dynamic_bundle())
    # When one B is invoiced: a third of a bundle, rounded up to a whole one for the dummy parent
    first = invoice(order, ("DYN-B", 1))
    assert {sku: row.qty for sku, row in rows(first).items()} == {"DYN": 1, "DYN-B": 1}
    assert (rows(first)["DYN-B"].row_total, rows(first)["DYN"].row_total, first.subtotal) == (D(5), None, D(5))
    # When one A is invoiced: still the first bundle, so the parent is not invoiced again
    second = invoice(order, ("DYN-A", 1))
    assert {sku: row.qty for sku, row in rows(second).items()} == {"DYN-A": 1}
    # When the rest is invoiced: the parent reaches exactly its qty_ordered
    last = invoice(order)
    assert {sku: row.qty for sku, row in rows(last).items()} == {"DYN": 1, "DYN-A": 1, "DYN-B": 5}
    assert [item(order, sku).qty_invoiced for sku in ("DYN", "DYN-A", "DYN-B")] == [2, 2, 6]
    assert (last.subtotal, first.subtotal + second.subtotal + last.subtotal) == (D(35), D(50))


def test_dynamic_bundle_named_by_its_parent_invoices_the_children_by_selection_qty(import_order):
    order = import_order(dynamic_bundle())
    first = invoice(order, ("DYN", 1))
    assert {sku: row.qty for sku, row in rows(first).items()} == {"DYN": 1, "DYN-A": 1, "DYN-B": 3}
    assert first.subtotal == D(25)


def test_total_qty_counts_dummy_rows_too(import_order):
    order = import_order(configurable())
    assert invoice(order).total_qty == 4  # configurable 2 + its child 2, as Magento (#24123)


def test_qty_invoiced_never_exceeds_qty_ordered(import_order):
    order = import_order(entity([line("A", 2, "10.00")]))
    with pytest.raises(DocumentValidationError) as too_many:
        invoice(order, ("A", 3))
    assert too_many.value.messages == [
        'The quantity to invoice must not be greater than the uninvoiced quantity for product SKU "A".'
    ]
    invoice(order, ("A", 2))
    with pytest.raises(DocumentValidationError):
        invoice(order, ("A", 1))
    assert item(order, "A").qty_invoiced == 2
    assert Invoice.objects.filter(order=order).count() == 1


# -- order state -----------------------------------------------------------------------------------


def test_first_invoice_moves_a_new_order_to_processing(import_order):
    order = import_order(two_lines())
    assert (order.state, order.status) == ("new", "pending")
    invoice(order, ("A", 1))
    order.refresh_from_db()
    assert (order.state, order.status) == ("processing", "processing")


def test_virtual_only_order_fully_invoiced_is_complete(import_order):
    order = import_order(entity([line("V", 1, "15.00", product_type="virtual", is_virtual=True)]))
    invoice(order)
    order.refresh_from_db()
    assert (order.state, order.status) == ("complete", "complete")


def test_physical_order_fully_invoiced_but_unshipped_stays_processing(import_order):
    order = import_order(two_lines(shipping="5.00"))
    invoice(order)
    order.refresh_from_db()
    assert (order.state, order.status, order.total_invoiced) == ("processing", "processing", D("35.00"))


# -- payment ---------------------------------------------------------------------------------------


def test_offline_payment_marks_the_invoice_paid_unvoidable_and_pays_the_order(import_order):
    order = import_order(worked_example())
    first = invoice(order, ("A", 1))
    assert (first.state, first.can_void_flag) == (2, 0)
    order.refresh_from_db()
    assert (order.total_paid, order.base_total_paid, order.total_due) == (D("10.08"), D("10.08"), D("8.07"))


def test_capture_true_on_an_offline_method_pays_offline(v1, import_order):
    order = import_order(two_lines(method="checkmo"))
    response = post_json(v1, f"{BASE}/order/{order.pk}/invoice", {"capture": True})
    assert response.status_code == 200, response.content
    paid = Invoice.objects.get(pk=parse(response))
    assert (paid.state, paid.can_void_flag, paid.transaction_id) == (2, 0, None)
    order.refresh_from_db()
    assert order.total_paid == D(30)


def test_capture_true_on_a_gateway_method_is_refused_and_writes_nothing(v1, import_order):
    # Given a braintree order (no gateway configured)
    order = import_order(two_lines(method="braintree"))
    counts = (Invoice.objects.count(), InvoiceItem.objects.count())
    # When it is captured online
    response = post_json(v1, f"{BASE}/order/{order.pk}/invoice", {"capture": True})
    # Then it is refused with the payments message
    assert response.status_code == 400
    assert parse(response) == {
        "message": 'The "%1" payment method cannot capture online: no payment gateway is configured for it.',
        "parameters": ["braintree"],
    }
    # And nothing was written
    assert (Invoice.objects.count(), InvoiceItem.objects.count()) == counts
    order.refresh_from_db()
    assert (order.state, order.total_invoiced, order.subtotal_invoiced, order.total_paid) == ("new", None, None, None)
    assert [item(order, sku).qty_invoiced for sku in ("A", "B")] == [0, 0]
    assert order.payment.amount_paid is None


# -- notification and comments ---------------------------------------------------------------------


@pytest.mark.parametrize(("notify", "send_email"), [(True, 1), (False, None)])
def test_notify_sets_send_email_and_leaves_email_sent_null(import_order, notify, send_email):
    order = import_order(two_lines())
    created = invoice(order, notify=notify)
    assert (created.send_email, created.email_sent) == (send_email, None)


@pytest.mark.parametrize(
    ("append_comment", "notify", "notified"), [(True, True, 1), (True, False, 0), (False, True, 0), (False, False, 0)]
)
def test_comment_is_customer_notified_only_with_append_comment_and_notify(
    v1, import_order, append_comment, notify, notified
):
    order = import_order(two_lines())
    body = {
        "appendComment": append_comment,
        "notify": notify,
        "comment": {"comment": "Thanks!", "is_visible_on_front": 1},
    }
    response = post_json(v1, f"{BASE}/order/{order.pk}/invoice", body)
    assert response.status_code == 200, response.content
    comments = parse(v1.get(f"{BASE}/invoices/{parse(response)}"))["comments"]
    assert [(c["comment"], c["is_customer_notified"], c["is_visible_on_front"]) for c in comments] == [
        ("Thanks!", notified, 1)
    ]


# -- numbering -------------------------------------------------------------------------------------


def test_increment_ids_are_9_digits_sequential_per_store_and_prefixed_by_a_later_store(import_order):
    # Given two orders in the default store and one in a store view created later
    Store(id=2, code="fr", name="French").save()
    first_order, second_order = import_order(two_lines()), import_order(two_lines())
    french_order = import_order(two_lines(), store_id=2)
    # When each is invoiced
    first, second, french = invoice(first_order), invoice(second_order), invoice(french_order)
    # Then the default store counts 000000001, 000000002 and the French store 2000000001
    assert re.fullmatch(r"\d{9}", first.increment_id)
    assert int(second.increment_id) == int(first.increment_id) + 1
    if connection.vendor == "sqlite":  # PostgreSQL sequences are not rolled back between tests
        assert (first.increment_id, second.increment_id) == ("000000001", "000000002")
    assert (french.increment_id, french.store_id) == ("2000000001", 2)


# -- quantities refused outright -------------------------------------------------------------------


@pytest.mark.parametrize("qty", [D("1.5"), D(-1), D("1E+30")])
def test_fractional_negative_or_unholdable_qty_is_an_invalid_quantity(v1, import_order, qty):
    order = import_order(entity([line("A", 2, "10.00")]))
    body = {"items": [{"order_item_id": item(order, "A").pk, "qty": qty}]}
    response = post_json(v1, f"{BASE}/order/{order.pk}/invoice", body)
    assert response.status_code == 400
    assert parse(response) == {"message": INVALID_QTY, "parameters": ["Product A"]}
    assert not Invoice.objects.filter(order=order).exists()
    assert item(order, "A").qty_invoiced == 0


def test_a_qty_finer_than_the_qty_column_is_an_invalid_quantity_even_for_a_decimal_item(v1, import_order):
    order = import_order(entity([line("W", "2.5", "4.00", is_qty_decimal=True)]))
    body = {"items": [{"order_item_id": item(order, "W").pk, "qty": D("1.00001")}]}
    response = post_json(v1, f"{BASE}/order/{order.pk}/invoice", body)
    assert response.status_code == 400
    assert parse(response)["message"] == INVALID_QTY
    assert not Invoice.objects.filter(order=order).exists()


def test_fractional_qty_is_accepted_for_a_decimal_item(import_order):
    order = import_order(entity([line("W", "2.5", "4.00", is_qty_decimal=True)]))
    first = invoice(order, ("W", "1.5"))
    assert (rows(first)["W"].qty, first.total_qty, first.subtotal) == (D("1.5"), D("1.5"), D("6.00"))
    assert item(order, "W").qty_invoiced == D("1.5")


# -- the New Invoice page's "Update Qty's" ------------------------------------------------------------


def test_invoice_preview_has_the_totals_of_the_invoice_and_writes_nothing(import_order, monkeypatch):
    order = import_order(entity([line("A", 3, "10.00", tax="2.40"), line("B", 1, "5.00")], shipping=5))
    lines = [InvoiceLineRequest(order_item_id=item(order, "A").pk, qty=D(2))]

    with monkeypatch.context() as patched:  # a number taken would leave a gap in the store's invoice numbers
        service_module = importlib.import_module("sales.services.invoice_order")
        patched.setattr(service_module, "next_increment_id", lambda **kw: pytest.fail("numbered"))
        draft = invoice_preview(order_id=order.pk, items=lines)

    assert not Invoice.objects.exists() and item(order, "A").qty_invoiced == 0
    created = invoice(order, ("A", 2))
    for field in ("subtotal", "tax_amount", "shipping_amount", "grand_total", "base_grand_total"):
        assert getattr(draft.invoice, field) == getattr(created, field), field
    assert [(row.order_item_id, row.qty) for row in draft.rows] == [(item(order, "A").pk, D(2))]


def test_invoice_preview_is_refused_as_the_invoice_would_be(import_order):
    order = import_order(entity([line("A", 1, "10.00")]))
    invoice(order, ("A", 1))

    with pytest.raises(DomainError):
        invoice_preview(order_id=order.pk)
