"""Canceled units are never billed (Magento 2.4: Model/Order/Invoice/Item.php ``calcRowTotal`` and ``isLast``,
Model/Order/Item.php ``getQtyToInvoice``; Model/Order/Invoice/Total/Subtotal.php and Tax.php).

An order row's remaining money (``row_total - row_invoiced``, and its tax and discount likewise) is the money of
every unit not yet invoiced, canceled ones included: a share of it is prorated over ``qty_ordered - qty_invoiced``.
Magento takes it whole when the invoice row's qty equals ``qty_to_invoice``, which leaves canceled units out, so
invoicing the rest of a row with a canceled unit bills the canceled unit too (reachable in Magento when
``registerCancellation`` leaves a partly invoiced order processing with units still to invoice). Counterfoil
takes a row's remainder whole only when the invoice takes every unit whose money is left, and the order's
remainders only when every row does: the canceled units' money stays unbilled.

Nothing writes ``qty_canceled`` yet (order cancellation is not built, and the import refuses it), so each test
sets it on the row, as Magento's ``Order\\Item::cancel`` would.
"""

from __future__ import annotations

import pytest

from sales.models import Invoice, OrderItem
from tests.factories import ZERO, D, InvoiceFactory, OrderEntityFactory, OrderFactory, line

pytestmark = pytest.mark.django_db


def cancel_units(order, sku: str, qty) -> None:
    OrderItem.objects.filter(order=order, sku=sku).update(qty_canceled=D(qty))


def invoiced(order, *lines) -> Invoice:
    return InvoiceFactory(order=order, lines=lines)


def row_of(invoice: Invoice, sku: str):
    return invoice.items.get(sku=sku)


def test_invoicing_the_rest_of_a_row_with_a_canceled_unit_bills_only_the_units_invoiced():
    # Given 3 units at 10.00 (taxed 3.00, discounted 3.00, so 1.00 of each per unit) and one unit canceled
    order = OrderFactory(lines=[line("A", 3, "10.00", tax="3.00", discount="3.00")], shipping=ZERO)
    cancel_units(order, "A", 1)
    # When the 2 units left are invoiced
    invoice = invoiced(order, ("A", 2))
    # Then the row bills 2 of its 3 units' money: 20.00, tax 2.00, discount 2.00, not the canceled unit's
    row = row_of(invoice, "A")
    assert (row.row_total, row.tax_amount, row.discount_amount) == (D("20.00"), D("2.00"), D("2.00"))
    assert (row.base_row_total, row.base_tax_amount, row.base_discount_amount) == (D("20.00"), D("2.00"), D("2.00"))
    # And so does the invoice: the order's remainders still hold the canceled unit's money
    assert (invoice.subtotal, invoice.tax_amount, invoice.discount_amount, invoice.grand_total) == (
        D("20.00"),
        D("2.00"),
        D("-2.00"),
        D("20.00"),
    )
    assert (invoice.base_subtotal, invoice.base_tax_amount, invoice.base_grand_total) == (
        D("20.00"),
        D("2.00"),
        D("20.00"),
    )
    order.refresh_from_db()
    assert (order.subtotal_invoiced, order.tax_invoiced, order.total_paid) == (D("20.00"), D("2.00"), D("20.00"))


def test_a_row_with_a_canceled_unit_is_prorated_over_its_uninvoiced_units_on_every_invoice():
    # Given 3 units for 10.00 in all, one canceled
    order = OrderFactory(lines=[line("A", 3, "3.3333", row_total="10.00")], shipping=ZERO)
    cancel_units(order, "A", 1)
    # When one unit is invoiced: 10.00 x 1/3 = 3.33
    assert row_of(invoiced(order, ("A", 1)), "A").row_total == D("3.33")
    # And then the last one left: its share of the 6.67 left over 2 uninvoiced units, 3.335 -> 3.34,
    # not the whole 6.67 (which would bill the canceled unit)
    last = invoiced(order)
    assert (row_of(last, "A").qty, row_of(last, "A").row_total, last.subtotal) == (D(1), D("3.34"), D("3.34"))
    # And the canceled unit's 3.33 is never billed
    assert OrderItem.objects.get(order=order, sku="A").row_invoiced == D("6.67")


def test_an_invoice_beside_a_canceled_row_bills_only_its_own_rows():
    # Given A (10.00, tax 1.00) and B (5.00, tax 0.50), B canceled
    order = OrderFactory(
        lines=[line("A", 1, "10.00", tax="1.00"), line("B", 1, "5.00", tax="0.50")],
        shipping=D("5.00"),
        shipping_tax=D("0.25"),
    )
    cancel_units(order, "B", 1)
    # When everything left is invoiced (A alone), it is not the order's last invoice: B's money is left
    invoice = invoiced(order)
    assert [row.sku for row in invoice.items.all()] == ["A"]
    # Then the header bills A and the shipping, not the order's remainders (which hold B's 5.00 and 0.50)
    assert (invoice.subtotal, invoice.tax_amount, invoice.shipping_amount, invoice.grand_total) == (
        D("10.00"),
        D("1.25"),
        D("5.00"),
        D("16.25"),
    )


def test_a_row_with_nothing_canceled_still_takes_its_remainders_whole():
    # Given 3 units for 10.00 in all, nothing canceled, one invoiced (3.33)
    order = OrderFactory(lines=[line("A", 3, "3.3333", row_total="10.00")], shipping=ZERO)
    invoiced(order, ("A", 1))
    # When the rest is invoiced, the row and the order take what is left whole: 6.67, no rounded share
    last = invoiced(order)
    assert (row_of(last, "A").row_total, last.subtotal) == (D("6.67"), D("6.67"))


# -- the other side of the rule: with nothing canceled, the last invoice still takes the order's remainders --------


def with_header_tax_carry(lines, import_order):
    """An order whose header tax is its rows' tax plus a rounding carry (Magento rounds the header on its own), so
    the order's last invoice has a remainder of its own to take."""
    entity = OrderEntityFactory(lines=lines, shipping=ZERO)
    for prefix in ("", "base_"):
        entity[f"{prefix}tax_amount"] += D("0.01")
        entity[f"{prefix}grand_total"] += D("0.01")
    return import_order(entity)


def test_the_last_invoice_takes_the_orders_remainders_after_an_earlier_one_took_a_whole_row(import_order):
    # Given A and B, 10.00 each taxed 1.00, and a header tax of 2.01
    order = with_header_tax_carry([line("A", 1, "10.00", tax="1.00"), line("B", 1, "10.00", tax="1.00")], import_order)
    # When A is invoiced whole, that invoice is not the last: it bills its row's tax
    assert invoiced(order, ("A", 1)).tax_amount == D("1.00")
    # Then B's invoice is the last (A, invoiced in full, has nothing left): it bills the tax left, 1.01
    last = invoiced(order, ("B", 1))
    assert (last.tax_amount, last.base_tax_amount, last.grand_total) == (D("1.01"), D("1.01"), D("11.01"))


def test_the_dummy_row_of_a_composite_line_does_not_keep_an_invoice_from_being_the_last(import_order):
    # Given a configurable of 2 at 20.00 taxed 3.30 (its simple child is a dummy row) and a header tax of 3.31
    order = with_header_tax_carry(
        [
            line("CONF", 2, "20.00", product_type="configurable", tax="3.30"),
            line("CONF-S", 2, 0, dummy=True, parent="CONF"),
        ],
        import_order,
    )
    # When everything is invoiced, it is the last invoice and bills the order's tax whole
    everything = invoiced(order)
    assert (everything.tax_amount, everything.base_tax_amount, everything.grand_total) == (
        D("3.31"),
        D("3.31"),
        D("43.31"),
    )
