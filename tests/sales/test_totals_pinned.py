"""Invoice total rules the mutation run (``make mutate``) found unpinned in sales/totals.py: a row's discount kept
within what it bills, a discount larger than its row, the incl-tax row total that needs both currencies, the
discount tax compensation on the shared rounder, and a EUR order's shipping compensation in each currency.

Orders come from ``tests/factories.py`` through the import service and are invoiced through ``invoice_order``.
Expected amounts are worked out by hand (reference section 4: delta rounding per invoice, half up; the rounder
sees every row's total, then every row's discount, then each row's tax and compensation), never read back.
"""

from __future__ import annotations

import pytest

from sales.models import Invoice, InvoiceItem
from tests.factories import D, InvoiceFactory, OrderEntityFactory, OrderFactory, line

pytestmark = pytest.mark.django_db


def invoice(order, *lines) -> Invoice:
    return InvoiceFactory(order=order, lines=lines)


def rows(invoice_: Invoice) -> dict[str, InvoiceItem]:
    return {row.sku: row for row in invoice_.items.all()}


def test_a_fully_discounted_rows_discount_is_kept_up_to_what_the_row_bills_so_its_last_invoice_is_not_negative():
    # Given A, 3 units for 10.01 all discounted, and B, 6 units for 10.00 (no tax, no shipping)
    order = OrderFactory(
        lines=[line("A", 3, "3.3367", row_total="10.01", discount="10.01"), line("B", 6, "1.6667", row_total="10.00")],
        shipping=0,
    )
    # When one of each is invoiced: rows A 10.01/3 = 3.3367 -> 3.34 (carry -0.0033), B 1.6667 - 0.0033 -> 1.66
    # (carry +0.0033); A's discount 3.3367 - 0.0033 -> 3.33 would leave 6.68 of discount on 6.67 of row:
    # Counterfoil keeps the share at least 3.34 (sales/totals.py, _within_billed_row; Magento bills 3.33)
    first = invoice(order, ("A", 1), ("B", 1))
    assert (rows(first)["A"].row_total, rows(first)["A"].discount_amount, rows(first)["B"].row_total) == (
        D("3.34"),
        D("3.34"),
        D("1.66"),
    )
    assert (first.discount_amount, first.base_discount_amount, first.grand_total) == (D("-3.34"), D("-3.34"), D("1.66"))
    # When one more of each (A has 6.67 and 6.67 of discount left): A 3.335 -> 3.34 (carry -0.005),
    # B 8.34/5 = 1.668 - 0.005 -> 1.66 (carry +0.003), A's discount 3.335 - 0.003 -> 3.33, kept at 3.34 again
    second = invoice(order, ("A", 1), ("B", 1))
    assert (rows(second)["A"].row_total, rows(second)["A"].discount_amount) == (D("3.34"), D("3.34"))
    assert (rows(second)["A"].base_row_total, rows(second)["A"].base_discount_amount) == (D("3.34"), D("3.34"))
    assert second.grand_total == D("1.66")
    # Then A's last unit takes the 3.33 left of both: it nets to zero, not -0.01
    third = invoice(order, ("A", 1), ("B", 1))
    assert (rows(third)["A"].row_total, rows(third)["A"].discount_amount) == (D("3.33"), D("3.33"))
    assert third.grand_total == rows(third)["B"].row_total == D("1.67")
    a = order.items.get(sku="A")
    assert (a.row_invoiced, a.discount_invoiced) == (D("10.01"), D("10.01"))


def test_a_discount_larger_than_its_row_is_billed_in_proportion_not_cut_to_the_row():
    # Given a discount on prices including tax: 2 units for 10.00, taxed 2.00, discounted 11.00 (grand 1.00)
    order = OrderFactory(lines=[line("A", 2, "10.00", row_total="10.00", tax="2.00", discount="11.00")], shipping=0)
    # When one unit is invoiced, it takes half the discount (Discount.php), more than the 5.00 row it bills
    first = invoice(order, ("A", 1))
    assert (rows(first)["A"].row_total, rows(first)["A"].discount_amount, rows(first)["A"].tax_amount) == (
        D("5.00"),
        D("5.50"),
        D("1.00"),
    )
    assert (first.discount_amount, first.grand_total, first.base_grand_total) == (D("-5.50"), D("0.50"), D("0.50"))


def test_a_row_total_including_tax_is_billed_only_when_the_order_row_has_it_in_both_currencies():
    # Given a row with 12.10 including tax but no base amount including tax (Invoice\Item::calcRowTotal
    # computes the incl-tax row only when both are set)
    order = OrderFactory(
        lines=[
            line(
                "A",
                3,
                "3.3333",
                row_total="10.00",
                tax="2.10",
                row_total_incl_tax=D("12.10"),
                base_row_total_incl_tax=D(0),
            )
        ],
        shipping=0,
    )
    first = invoice(order, ("A", 1))
    # Then the invoice row has no incl-tax total and the invoice's subtotal including tax is zero
    assert (rows(first)["A"].row_total_incl_tax, rows(first)["A"].base_row_total_incl_tax) == (None, None)
    assert (first.subtotal_incl_tax, first.base_subtotal_incl_tax) == (D(0), D(0))
    assert first.subtotal == D("3.33")


def test_a_rows_discount_tax_compensation_rounds_on_the_shared_rounder_after_its_tax(import_order):
    # Given 3 units for 30.00, discounted 3.00, taxed 1.00, the discount hiding 0.10 of tax
    a = line("A", 3, "10.00", tax="1.00", discount="3.00", discount_tax_compensation_amount=D("0.10"))
    entity = OrderEntityFactory(lines=[a], shipping=0)
    for prefix in ("", "base_"):
        entity[f"{prefix}discount_tax_compensation_amount"] = D("0.10")
        entity[f"{prefix}grand_total"] += D("0.10")
    order = import_order(entity)
    # When one unit is invoiced: row 10.00 and discount 1.00 round exactly; tax 0.3333 -> 0.33 (carry +0.0033),
    # then the compensation on the same 'regular' rounder: 0.0333 + 0.0033 = 0.0367 -> 0.04 (Tax.php)
    first = invoice(order, ("A", 1))
    row = rows(first)["A"]
    assert (row.tax_amount, row.discount_tax_compensation_amount) == (D("0.33"), D("0.04"))
    assert (row.base_tax_amount, row.base_discount_tax_compensation_amount) == (D("0.33"), D("0.04"))
    assert (first.discount_tax_compensation_amount, first.base_discount_tax_compensation_amount) == (
        D("0.04"),
        D("0.04"),
    )
    assert first.grand_total == D("10.00") - D("1.00") + D("0.33") + D("0.04")


def test_a_eur_orders_shipping_discount_tax_compensation_goes_into_each_currencys_grand_total(import_order):
    # Given a EUR order on a USD base (base = EUR x 1.25): 2 units for 10.00 taxed 2.00, 4.00 shipping, the
    # shipping's discount hiding 0.20 of tax in EUR and 0.25 in USD
    entity = OrderEntityFactory(
        lines=[line("A", 2, "10.00", tax="2.00")], shipping="4.00", shipping_tax=0, base_factor="1.25"
    )
    entity["shipping_discount_tax_compensation_amount"] = D("0.20")
    entity["base_shipping_discount_tax_compensation_amnt"] = D("0.25")
    entity["grand_total"] += D("0.20")
    entity["base_grand_total"] += D("0.25")
    order = import_order(entity)
    # When one unit is invoiced, the shipping and its compensation go on it, each in its own currency
    first = invoice(order, ("A", 1))
    assert (first.shipping_discount_tax_compensation_amount, first.base_shipping_discount_tax_compensation_amnt) == (
        D("0.20"),
        D("0.25"),
    )
    assert first.grand_total == D("10.00") + D("4.00") + D("1.00") + D("0.20")
    assert first.base_grand_total == D("12.50") + D("5.00") + D("1.25") + D("0.25")
