"""Magento invoice rules a mutation run found unpinned (issue 18, item 6): each test fails when its rule's
code is mutated, though the code was right. Orders are built through the import service and invoiced
through ``invoice_order``, like tests/sales/test_invoice_rules.py, whose builders they share.

Expected amounts are worked out by hand from the reference (section 4's formulas, delta rounding per
invoice, half up), never read back from the code under test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from sales.admin.invoice_page import item_rows
from sales.errors import DocumentValidationError
from sales.items import ItemTree, invoice_rows_parent_first
from sales.models import Order, OrderItem, OrderState
from sales.money import DeltaRounder
from sales.order_state import can_creditmemo, order_can_invoice
from sales.totals import row_total_after_discount
from tests.sales.test_invoice_rules import D, dynamic_bundle, entity, fixed_bundle, invoice, item, line, rows

pytestmark = pytest.mark.django_db


def with_compensation(entity_: dict, amount) -> dict:
    """The header's discount tax compensation (Magento's hidden tax), in both currencies, in the grand total."""
    for prefix in ("", "base_"):
        entity_[f"{prefix}discount_tax_compensation_amount"] = D(amount)
        entity_[f"{prefix}grand_total"] += D(amount)
    return entity_


def cancel_qty(order, sku: str, qty) -> None:
    """Units of a row canceled on the order (Magento's Order\\Item::cancel writes qty_canceled)."""
    OrderItem.objects.filter(order=order, sku=sku).update(qty_canceled=D(qty))


# -- totals (Model/Order/Invoice/Total/Tax.php, Discount.php, Cost.php; Framework/Math/Calculator.php) -----


def test_a_partial_invoice_header_tax_is_its_rows_tax_plus_the_shipping_tax(import_order):
    # Given two taxed lines of two units and 5.00 shipping taxed 1.05 (order tax 4.05)
    lines = [line("A", 2, "10.00", tax="2.00"), line("B", 2, "5.00", tax="1.00")]
    order = import_order(entity(lines, shipping="5.00", shipping_tax="1.05"))
    # When one unit of each is invoiced (not the last invoice)
    first = invoice(order, ("A", 1), ("B", 1))
    # Then each row bills half its tax, and the header adds up both rows and the shipping tax (Tax.php)
    assert (rows(first)["A"].tax_amount, rows(first)["B"].tax_amount) == (D("1.00"), D("0.50"))
    assert (first.tax_amount, first.base_tax_amount) == (D("2.55"), D("2.55"))
    assert first.grand_total == D("15.00") + D("5.00") + D("2.55")
    # And the last invoice takes the tax that is left
    assert invoice(order).tax_amount == D("1.50")


def test_delta_rounder_flips_the_carry_it_stores_after_a_discount():
    # Calculator::deltaRound: with $negative the delta is flipped before rounding and again when stored
    rounder = DeltaRounder()
    assert rounder.round(Decimal("0.335")) == Decimal("0.34")  # carry -0.005
    # a discount of 0.333: 0.333 + 0.005 = 0.338 -> 0.34, carry -0.002, stored flipped: +0.002
    assert rounder.round(Decimal("0.333"), negative=True) == Decimal("0.34")
    assert rounder.round(Decimal("0.333")) == Decimal("0.34")  # 0.333 + 0.002 = 0.335


def test_a_discount_carries_its_rounding_remainder_into_the_rows_tax_with_the_sign_flipped(import_order):
    # Given qty 3 for 10.00, discounted 2.00, taxed 1.00 (grand 9.00)
    order = import_order(entity([line("A", 3, "3.3333", row_total="10.00", tax="1.00", discount="2.00")]))
    # When one unit is invoiced, the shared 'regular' rounder sees row, discount, then tax:
    #   row 3.3333 -> 3.33 (carry +0.0033); discount 0.6667 - 0.0033 -> 0.66 (carry +0.0033, stored -0.0033);
    #   tax 0.3333 - 0.0033 -> 0.33
    first = invoice(order, ("A", 1))
    row = rows(first)["A"]
    assert (row.row_total, row.discount_amount, row.tax_amount) == (D("3.33"), D("0.66"), D("0.33"))
    assert (first.subtotal, first.discount_amount, first.tax_amount, first.grand_total) == (
        D("3.33"),
        D("-0.66"),
        D("0.33"),
        D("3.00"),
    )
    assert (first.base_discount_amount, first.base_tax_amount, first.base_grand_total) == (
        D("-0.66"),
        D("0.33"),
        D("3.00"),
    )


def test_a_row_without_tax_still_bills_its_discount_tax_compensation(import_order):
    # Given a taxed line (compensation 0.30 over 3 units) and an untaxed one whose discount hides 0.60 of tax
    a = line("A", 3, "10.00", tax="3.00", discount_tax_compensation_amount=D("0.30"))
    b = line("B", 2, "10.00", discount="2.00", discount_tax_compensation_amount=D("0.60"))
    order = import_order(with_compensation(entity([a, b]), "0.90"))
    # When one unit of each is invoiced
    first = invoice(order, ("A", 1), ("B", 1))
    # Then the untaxed row bills its share of compensation, and the header adds both rows' (Tax.php)
    assert (rows(first)["B"].tax_amount, rows(first)["B"].discount_tax_compensation_amount) == (D(0), D("0.30"))
    assert rows(first)["A"].discount_tax_compensation_amount == D("0.10")
    assert (first.discount_tax_compensation_amount, first.base_discount_tax_compensation_amount) == (
        D("0.40"),
        D("0.40"),
    )
    assert first.grand_total == D("20.00") - D("1.00") + D("1.00") + D("0.40")
    # And the order's invoiced compensation is what the invoice billed
    order.refresh_from_db()
    assert (order.discount_tax_compensation_invoiced, order.base_discount_tax_compensation_invoiced) == (
        D("0.40"),
        D("0.40"),
    )
    assert item(order, "B").discount_tax_compensation_invoiced == D("0.30")


def test_the_row_total_column_is_the_subtotal_plus_tax_and_compensation_less_the_discount(import_order):
    # Given qty 3 for 10.00 (12.10 with tax), taxed 2.10, discounted 0.90 hiding 0.30 of tax
    a = line(
        "A",
        3,
        "3.3333",
        row_total="10.00",
        tax="2.10",
        discount="0.90",
        row_total_incl_tax=D("12.10"),
        discount_tax_compensation_amount=D("0.30"),
    )
    order = import_order(with_compensation(entity([a]), "0.30"))
    # When one unit is invoiced: row 3.33, discount 0.30, tax 0.70, compensation 0.10
    first = invoice(order, ("A", 1))
    row = rows(first)["A"]
    assert (row.row_total, row.discount_amount, row.tax_amount, row.discount_tax_compensation_amount) == (
        D("3.33"),
        D("0.30"),
        D("0.70"),
        D("0.10"),
    )
    # Then the Row Total column (DefaultColumn::getTotalAmount) is 3.33 + 0.70 + 0.10 - 0.30
    assert row_total_after_discount(row) == D("3.83")
    assert [(r.subtotal, r.tax_amount, r.discount_amount, r.row_total) for r in item_rows(first, "USD")] == [
        ("$3.33", "$0.70", "$0.30", "$3.83")
    ]
    # And the row's total including tax is a third of the ordered 12.10, on its own 'including' rounder
    assert (row.row_total_incl_tax, row.base_row_total_incl_tax, first.subtotal_incl_tax) == (
        D("4.03"),
        D("4.03"),
        D("4.03"),
    )
    # And the next invoice starts its 'including' rounder afresh: a third of 12.10 again
    assert rows(invoice(order, ("A", 1)))["A"].row_total_incl_tax == D("4.03")


def test_including_tax_rows_carry_their_remainder_from_row_to_row(import_order):
    # Given two lines of qty 3 whose rows are 12.10 with tax
    a = line("A", 3, "3.3333", row_total="10.00", tax="2.10", row_total_incl_tax=D("12.10"))
    b = line("B", 3, "3.3333", row_total="10.00", tax="2.10", row_total_incl_tax=D("12.10"))
    order = import_order(entity([a, b]))
    # When one unit of each is invoiced: 4.0333 -> 4.03 (carry +0.0033), 4.0333 + 0.0033 -> 4.04
    first = invoice(order, ("A", 1), ("B", 1))
    assert (rows(first)["A"].row_total_incl_tax, rows(first)["B"].row_total_incl_tax) == (D("4.03"), D("4.04"))
    assert (first.subtotal_incl_tax, first.base_subtotal_incl_tax) == (D("8.07"), D("8.07"))


def test_a_dummy_row_has_no_row_total_column(import_order):
    order = import_order(fixed_bundle())
    first = invoice(order, ("FIX", 1))
    assert row_total_after_discount(rows(first)["FIX-X"]) is None
    assert row_total_after_discount(rows(first)["FIX"]) == D("50.00")


def test_invoice_base_cost_counts_the_rows_without_children_and_adds_up_on_the_order(import_order):
    # Given a configurable (cost on the parent and on its simple), a simple costing 2.50 and one of no known cost
    order = import_order(
        entity(
            [
                line("CONF", 2, "20.00", product_type="configurable", base_cost=D("9.00")),
                line("CONF-S", 2, 0, dummy=True, parent="CONF", base_cost=D("6.00")),
                line("S", 3, "5.00", base_cost=D("2.50")),
                line("N", 1, "1.00"),
            ]
        )
    )
    # When one configurable and two simples are invoiced, then the rest
    first = invoice(order, ("CONF", 1), ("S", 2))
    last = invoice(order)
    # Then the cost is the simple product's, not the configurable parent's (Cost.php), times the qty
    assert first.base_cost == D("6.00") + 2 * D("2.50")
    assert last.base_cost == D("6.00") + D("2.50")
    # And the order's invoiced cost is the sum of its invoices' (Invoice::register)
    order.refresh_from_db()
    assert order.base_total_invoiced_cost == D("19.50")


# -- quantities (Model/Service/InvoiceService.php, Model/Order/Item.php) ----------------------------------


def test_a_fixed_bundle_invoiced_partly_twice_gives_its_children_their_selection_qty_each_time(import_order):
    # Given a fixed bundle of 3 (X 2 per bundle, Y 1)
    order = import_order(fixed_bundle())
    # When one bundle is invoiced, then another (neither is the last)
    first, second = invoice(order, ("FIX", 1)), invoice(order, ("FIX", 1))
    # Then each invoice takes the children by ratio from the parent's qty, not their remainder
    for partial in (first, second):
        assert {sku: row.qty for sku, row in rows(partial).items()} == {"FIX": 1, "FIX-X": 2, "FIX-Y": 1}
        assert partial.subtotal == D(50)
    assert [item(order, sku).qty_invoiced for sku in ("FIX", "FIX-X", "FIX-Y")] == [2, 4, 2]
    assert {sku: row.qty for sku, row in rows(invoice(order)).items()} == {"FIX": 1, "FIX-X": 2, "FIX-Y": 1}


def test_a_dynamic_bundle_named_by_its_parent_partly_twice_invoices_its_children_by_ratio(import_order):
    # Given a dynamic bundle of 3 (A 1 per bundle at 10.00, B 3 per bundle at 5.00)
    order = import_order(
        entity(
            [
                line("DYN", 3, "25.00", product_type="bundle", dummy=True, product_options={"product_calculations": 0}),
                line("DYN-A", 3, "10.00", parent="DYN", product_options={"bundle_selection_attributes": {"qty": 1}}),
                line("DYN-B", 9, "5.00", parent="DYN", product_options={"bundle_selection_attributes": {"qty": 3}}),
            ]
        )
    )
    # When one bundle is invoiced by its parent, twice
    first, second = invoice(order, ("DYN", 1)), invoice(order, ("DYN", 1))
    # Then each takes one bundle's children, and the parent follows its furthest child
    for partial in (first, second):
        assert {sku: row.qty for sku, row in rows(partial).items()} == {"DYN": 1, "DYN-A": 1, "DYN-B": 3}
        assert partial.subtotal == D(25)
    assert [item(order, sku).qty_invoiced for sku in ("DYN", "DYN-A", "DYN-B")] == [2, 2, 6]
    # And the last bundle, named by its parent, takes what is left of each child
    last = invoice(order, ("DYN", 1))
    assert {sku: row.qty for sku, row in rows(last).items()} == {"DYN": 1, "DYN-A": 1, "DYN-B": 3}


def test_a_dynamic_bundle_parent_asked_for_what_it_has_left_takes_all_its_children_have_left(import_order):
    # Given a dynamic bundle of 2 (A 1 per bundle, B 3) of which one B was invoiced alone: the parent is at 1
    order = import_order(dynamic_bundle())
    invoice(order, ("DYN-B", 1))
    # When the one bundle the parent has left is asked for
    last = invoice(order, ("DYN", 1))
    # Then its children take all they have left (A 2, B 5), not one bundle's worth (A 1, B 3)
    assert {sku: row.qty for sku, row in rows(last).items()} == {"DYN": 1, "DYN-A": 2, "DYN-B": 5}
    assert [item(order, sku).qty_invoiced for sku in ("DYN", "DYN-A", "DYN-B")] == [2, 2, 6]


def test_a_configurable_named_by_its_child_partly_twice_invoices_the_parent_by_ratio(import_order):
    order = import_order(
        entity(
            [
                line("CONF", 3, "20.00", product_type="configurable"),
                line("CONF-S", 3, 0, dummy=True, parent="CONF"),
            ]
        )
    )
    for _ in range(2):
        partial = invoice(order, ("CONF-S", 1))
        assert {sku: row.qty for sku, row in rows(partial).items()} == {"CONF": 1, "CONF-S": 1}
        assert partial.subtotal == D(20)
    assert (item(order, "CONF").qty_invoiced, item(order, "CONF-S").qty_invoiced) == (2, 2)


def test_canceled_units_are_not_left_to_invoice(import_order):
    # Given 3 units of A and 2 of B, one of each canceled
    order = import_order(entity([line("A", 3, "10.00"), line("B", 2, "4.00")]))
    cancel_qty(order, "A", 1)
    cancel_qty(order, "B", 1)
    # When more than ordered - canceled is asked for, it is refused
    with pytest.raises(DocumentValidationError) as refused:
        invoice(order, ("A", 3))
    assert refused.value.messages == [
        'The quantity to invoice must not be greater than the uninvoiced quantity for product SKU "A".'
    ]
    # When everything is invoiced, the canceled units are left out
    everything = invoice(order)
    assert {sku: row.qty for sku, row in rows(everything).items()} == {"A": 2, "B": 1}
    # And nothing is left to invoice
    with pytest.raises(DocumentValidationError) as nothing_left:
        invoice(order)
    assert "The order does not allow an invoice to be created." in nothing_left.value.messages


def test_canceled_units_of_a_bundle_are_left_out_of_its_children_and_its_dynamic_parent(import_order):
    # Given a fixed bundle of 3 with one bundle canceled on the parent and its children
    fixed = import_order(fixed_bundle())
    for sku, qty in (("FIX", 1), ("FIX-X", 2), ("FIX-Y", 1)):
        cancel_qty(fixed, sku, qty)
    # Then invoicing the rest takes two bundles' children
    assert {sku: row.qty for sku, row in rows(invoice(fixed)).items()} == {"FIX": 2, "FIX-X": 4, "FIX-Y": 2}
    # Given a dynamic bundle of 2 with one bundle canceled
    dynamic = import_order(dynamic_bundle())
    for sku, qty in (("DYN", 1), ("DYN-A", 1), ("DYN-B", 3)):
        cancel_qty(dynamic, sku, qty)
    # Then invoicing the rest invoices one bundle parent
    assert {sku: row.qty for sku, row in rows(invoice(dynamic)).items()} == {"DYN": 1, "DYN-A": 1, "DYN-B": 3}
    assert item(dynamic, "DYN").qty_invoiced == 1


def test_a_canceled_unit_is_not_left_to_ship(import_order):
    # Given 2 units, one shipped and one canceled
    order = import_order(entity([line("A", 2, "10.00", qty_shipped=D(1))]))
    cancel_qty(order, "A", 1)
    # When the other is invoiced
    invoice(order)
    # Then nothing is left to invoice or ship: the order is complete
    order.refresh_from_db()
    assert (order.state, order.status) == ("complete", "complete")


# -- shipping a bundle (Bundle/Model/Sales/Order/Plugin/Item.php, Order\Item::isDummy($shipment)) --------


def bundle_shipped(shipment_type: int, **shipped) -> dict:
    """A fixed bundle of 3 (X 2 per bundle, Y 1) shipped together (0) or separately (1)."""
    options = {"product_calculations": 1, "shipment_type": shipment_type}
    return entity(
        [
            line(
                "FIX", 3, "50.00", product_type="bundle", product_options=options, qty_shipped=D(shipped.get("FIX", 0))
            ),
            line(
                "FIX-X",
                6,
                0,
                dummy=True,
                parent="FIX",
                product_options={"bundle_selection_attributes": {"qty": 2}},
                qty_shipped=D(shipped.get("X", 0)),
            ),
            line(
                "FIX-Y",
                3,
                0,
                dummy=True,
                parent="FIX",
                product_options={"bundle_selection_attributes": {"qty": 1}},
                qty_shipped=D(shipped.get("Y", 0)),
            ),
        ]
    )


def test_a_bundle_shipped_separately_is_shipped_when_its_children_are(import_order):
    order = import_order(bundle_shipped(1, X=6, Y=3))
    invoice(order)
    order.refresh_from_db()
    assert (order.state, order.status) == ("complete", "complete")


def test_a_bundle_shipped_separately_is_not_shipped_by_its_parent(import_order):
    order = import_order(bundle_shipped(1, FIX=3, X=6))
    invoice(order)
    order.refresh_from_db()
    assert (order.state, order.status) == ("processing", "processing")  # Y still to ship


def test_a_bundle_shipped_together_is_shipped_when_its_parent_is(import_order):
    shipped_by_children = import_order(bundle_shipped(0, X=6, Y=3))
    shipped_by_parent = import_order(bundle_shipped(0, FIX=3))
    invoice(shipped_by_children)
    invoice(shipped_by_parent)
    shipped_by_children.refresh_from_db()
    shipped_by_parent.refresh_from_db()
    assert (shipped_by_children.state, shipped_by_parent.state) == ("processing", "complete")


def test_a_virtual_row_and_a_row_locked_for_shipping_are_never_waited_for(import_order):
    # Given a shipped product, a virtual one and one locked for shipping, none shipped but the first
    order = import_order(
        entity(
            [
                line("S", 1, "10.00", qty_shipped=D(1)),
                line("V", 1, "5.00", product_type="virtual", is_virtual=True),
                line("L", 1, "5.00", locked_do_ship=True),
            ]
        )
    )
    # When everything is invoiced, nothing is left to ship
    invoice(order)
    order.refresh_from_db()
    assert (order.state, order.status) == ("complete", "complete")


# -- the order after invoicing (Order::canCreditmemo, StateResolver) ----------------------------------------


def test_a_paid_order_can_be_refunded_until_refunded_or_held(import_order):
    # Given an order invoiced and paid offline
    order = import_order(entity([line("A", 2, "10.00")]))
    invoice(order, ("A", 1))
    order.refresh_from_db()
    assert (order.state, order.total_paid) == (OrderState.PROCESSING, D("10.00"))
    # Then it can be credit-memoed
    assert can_creditmemo(order)
    # But not once all that was paid is refunded
    order.total_refunded = D("10.00")
    assert not can_creditmemo(order)
    order.total_refunded = D("9.99")
    assert can_creditmemo(order)
    # Nor on hold, in payment review, canceled or closed (Order::canCreditmemo)
    for state in (OrderState.HOLDED, OrderState.PAYMENT_REVIEW, OrderState.CANCELED, OrderState.CLOSED):
        order.state = state
        assert not can_creditmemo(order), state
    order.state = OrderState.COMPLETE
    assert can_creditmemo(order)


def test_an_unpaid_order_cannot_be_refunded(import_order):
    order = import_order(entity([line("A", 2, "10.00")]))
    assert not can_creditmemo(order)


def test_a_shipped_order_invoiced_and_paid_in_full_is_complete_not_closed(import_order):
    # Given an order shipped before it is invoiced
    order = import_order(entity([line("A", 2, "10.00", qty_shipped=D(2))], shipping="5.00"))
    # When it is invoiced and paid in full
    invoice(order)
    order.refresh_from_db()
    # Then nothing is left to invoice or ship, and as it can be refunded it is complete
    assert can_creditmemo(order)
    assert (order.state, order.status) == ("complete", "complete")


def test_a_free_virtual_order_invoiced_in_full_is_complete_though_nothing_can_be_refunded(import_order):
    # Given a virtual product given away (grand total 0): nothing paid, so nothing to refund
    order = import_order(entity([line("V", 1, "15.00", discount="15.00", product_type="virtual", is_virtual=True)]))
    assert order.grand_total == D(0)
    # When it is invoiced
    invoice(order)
    order.refresh_from_db()
    # Then it is complete, not closed (StateResolver: a zero grand total completes; only physical orders close)
    assert not can_creditmemo(order)
    assert (order.state, order.status) == ("complete", "complete")


def order_can_invoice_now(order: Order) -> bool:
    order.refresh_from_db()
    return order_can_invoice(order, ItemTree(OrderItem.objects.filter(order=order)))


def test_an_order_can_be_invoiced_while_its_state_allows_and_a_row_is_left(import_order):
    # Order::canInvoice: a state that allows invoices and a row with something to invoice
    order = import_order(entity([line("A", 2, "10.00")]))
    assert order_can_invoice_now(order)
    Order.objects.filter(pk=order.pk).update(state=OrderState.HOLDED)
    assert not order_can_invoice_now(order)
    Order.objects.filter(pk=order.pk).update(state=OrderState.NEW)
    invoice(order)
    assert not order_can_invoice_now(order)  # processing, but nothing left


def test_a_row_locked_for_invoicing_is_left_out_of_a_full_invoice(import_order):
    # Order::canInvoice and InvoiceService skip a row with locked_do_invoice
    order = import_order(entity([line("A", 1, "10.00"), line("L", 1, "5.00", locked_do_invoice=True)]))
    assert set(rows(invoice(order))) == {"A"}
    assert item(order, "L").qty_invoiced == 0


def test_a_decimal_qty_composite_line_gives_its_child_the_same_fraction(import_order):
    # Given a configurable sold by weight: 2.5 of it
    order = import_order(
        entity(
            [
                line("CONF", "2.5", "20.00", product_type="configurable", is_qty_decimal=True),
                line("CONF-S", "2.5", 0, dummy=True, parent="CONF", is_qty_decimal=True),
            ]
        )
    )
    # When 1.5 is invoiced, the child follows with 1.5, not a whole unit
    first = invoice(order, ("CONF", "1.5"))
    assert {sku: row.qty for sku, row in rows(first).items()} == {"CONF": D("1.5"), "CONF-S": D("1.5")}


def test_an_invoices_rows_list_each_parent_followed_by_its_children(import_order):
    # Given a fixed bundle invoiced, and a dynamic bundle whose second invoice holds a child without its parent
    fixed = invoice(import_order(fixed_bundle()), ("FIX", 1))
    dynamic = import_order(dynamic_bundle())
    invoice(dynamic, ("DYN-B", 1))
    child_only = invoice(dynamic, ("DYN-A", 1))
    # Then the rows read parent first, children marked (the invoice page's and the PDF's order)
    listed = invoice_rows_parent_first(fixed.items.select_related("order_item").order_by("-pk"))
    assert [(row.sku, is_child) for row, is_child in listed] == [("FIX", False), ("FIX-Y", True), ("FIX-X", True)]
    # And a child invoiced without its parent stands at the top level
    listed = invoice_rows_parent_first(child_only.items.select_related("order_item"))
    assert [(row.sku, is_child) for row, is_child in listed] == [("DYN-A", False)]


def test_a_dynamic_bundle_parent_asked_for_its_last_uncanceled_bundle_takes_all_its_children_have_left(import_order):
    # Given a dynamic bundle of 3 (A 1 per bundle, B 3), one bundle canceled and one B invoiced alone
    order = import_order(
        entity(
            [
                line("DYN", 3, "25.00", product_type="bundle", dummy=True, product_options={"product_calculations": 0}),
                line("DYN-A", 3, "10.00", parent="DYN", product_options={"bundle_selection_attributes": {"qty": 1}}),
                line("DYN-B", 9, "5.00", parent="DYN", product_options={"bundle_selection_attributes": {"qty": 3}}),
            ]
        )
    )
    for sku, qty in (("DYN", 1), ("DYN-A", 1), ("DYN-B", 3)):
        cancel_qty(order, sku, qty)
    invoice(order, ("DYN-B", 1))
    # When the one bundle left to the parent (3 - 1 invoiced - 1 canceled) is asked for
    last = invoice(order, ("DYN", 1))
    # Then the children take all they have left (A 2, B 5), not one bundle's worth
    assert {sku: row.qty for sku, row in rows(last).items()} == {"DYN": 1, "DYN-A": 2, "DYN-B": 5}


def test_a_fixed_bundle_named_by_a_child_invoices_the_parent_by_the_childs_selection_qty(import_order):
    # Given a fixed bundle of 3 (X 2 per bundle)
    order = import_order(fixed_bundle())
    # When 2 X are asked for: one bundle
    first = invoice(order, ("FIX-X", 2))
    assert {sku: row.qty for sku, row in rows(first).items()} == {"FIX": 1, "FIX-X": 2, "FIX-Y": 1}
    assert first.subtotal == D(50)


def test_composite_lines_left_out_of_an_invoice_do_not_stop_the_lines_after_them(import_order):
    # Given a configurable and a dynamic bundle, then a second of each
    def bundle(sku):
        return [
            line(sku, 1, "10.00", product_type="bundle", dummy=True, product_options={"product_calculations": 0}),
            line(f"{sku}-A", 1, "10.00", parent=sku, product_options={"bundle_selection_attributes": {"qty": 1}}),
        ]

    def configurable(sku):
        return [
            line(sku, 1, "20.00", product_type="configurable"),
            line(f"{sku}-S", 1, 0, dummy=True, parent=sku),
        ]

    order = import_order(entity(configurable("C1") + bundle("B1") + configurable("C2") + bundle("B2")))
    # When only the second ones are invoiced
    second = invoice(order, ("C2", 1), ("B2-A", 1))
    # Then they are invoiced whole, parents and children, and the first ones not at all
    assert {sku: row.qty for sku, row in rows(second).items()} == {"C2": 1, "C2-S": 1, "B2": 1, "B2-A": 1}


def test_shipping_discount_tax_compensation_is_billed_with_the_shipping(import_order):
    # Given 5.00 shipping whose discount hides 0.20 of tax (Magento's misspelt base column: ..._amnt)
    entity_ = entity([line("A", 2, "10.00", tax="2.00")], shipping="5.00")
    entity_ |= {"shipping_discount_tax_compensation_amount": D("0.20")}
    entity_ |= {"base_shipping_discount_tax_compensation_amnt": D("0.20")}
    entity_["grand_total"] += D("0.20")
    entity_["base_grand_total"] += D("0.20")
    order = import_order(entity_)
    # When one unit is invoiced: the shipping, its tax compensation and a row's tax go on it
    first = invoice(order, ("A", 1))
    assert first.shipping_discount_tax_compensation_amount == D("0.20")
    assert first.base_shipping_discount_tax_compensation_amnt == D("0.20")
    assert (first.grand_total, first.base_grand_total) == (D("16.20"), D("16.20"))
    # And the next invoice carries none of it
    second = invoice(order)
    assert (second.shipping_discount_tax_compensation_amount, second.grand_total) == (None, D("11.00"))


def test_compensation_and_including_tax_are_shared_out_of_what_is_left(import_order):
    # Given qty 3 for 10.00 (12.10 with tax), discounted 0.90 hiding 0.30 of tax
    a = line(
        "A",
        3,
        "3.3333",
        row_total="10.00",
        tax="2.10",
        discount="0.90",
        row_total_incl_tax=D("12.10"),
        discount_tax_compensation_amount=D("0.30"),
    )
    order = import_order(with_compensation(entity([a]), "0.30"))
    # When invoiced 1, then 2 at once, the compensation is a share of what is left: 0.10, then 0.20
    first, last = invoice(order, ("A", 1)), invoice(order, ("A", 2))
    assert [i.discount_tax_compensation_amount for i in (first, last)] == [D("0.10"), D("0.20")]
    assert rows(last)["A"].discount_tax_compensation_amount == D("0.20")
    # And the including-tax row is two thirds of the ordered 12.10
    assert rows(last)["A"].row_total_incl_tax == D("8.07")
