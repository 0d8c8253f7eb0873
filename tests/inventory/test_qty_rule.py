"""One quantity rule (``inventory.quantity``) for every qty column, sales' and the inventory's: a quantity as
sent becomes a Decimal (never a float), and it fits when a ``DECIMAL(12,4)`` column holds it as it is."""

from __future__ import annotations

from decimal import Decimal

import pytest

import sales.money
from inventory import quantity
from inventory.models import InvoiceSource, Reservation, SourceItem
from inventory.quantity import as_number, qty_fits
from inventory.services import SourceItemData, source_items_validate
from sales.errors import InputError
from sales.models import InvoiceItem, Order, OrderItem
from tests.inventory.conftest import line, order_entity


@pytest.mark.parametrize(
    ("qty", "fits"),
    [
        (Decimal(0), True),
        (Decimal("2.5"), True),
        (Decimal("99999999.9999"), True),
        (Decimal("-99999999.9999"), True),  # the sign is the caller's rule
        (Decimal("100000000"), False),
        (Decimal("99999999.99995"), False),  # would round up past the column
        (Decimal("1.00001"), False),  # a fifth decimal the column would drop
        (Decimal("1e30"), False),
        (Decimal("NaN"), False),
        (Decimal("Infinity"), False),
    ],
)
def test_a_qty_fits_when_a_decimal_12_4_column_holds_it_as_it_is(qty, fits):
    assert qty_fits(qty) is fits


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (3, Decimal(3)),
        (Decimal("1.5"), Decimal("1.5")),
        (" 2.25 ", Decimal("2.25")),
        ("1e2", Decimal(100)),
        (2.5, None),
        (True, None),
        ("two", None),
        ("NaN", None),
        ("", None),
        (None, None),
        ([1], None),
    ],
)
def test_a_qty_as_sent_is_a_decimal_from_an_int_a_decimal_or_a_numeric_string_never_a_float(value, number):
    assert as_number(value) == number


@pytest.mark.parametrize(
    "field",
    [
        SourceItem._meta.get_field("quantity"),
        InvoiceSource._meta.get_field("quantity"),
        Reservation._meta.get_field("quantity"),
        OrderItem._meta.get_field("qty_ordered"),
        Order._meta.get_field("total_qty_ordered"),
        InvoiceItem._meta.get_field("qty"),
    ],
    ids=lambda field: f"{field.model.__name__}.{field.name}",
)
def test_the_qty_rule_is_the_qty_columns_of_both_apps(field):
    assert (field.max_digits, field.decimal_places) == (quantity.QTY_MAX_DIGITS, quantity.QTY_DECIMAL_PLACES)


def test_sales_money_has_no_qty_limits_of_its_own():
    assert (sales.money.QTY_MAX, sales.money.QTY_PRECISION) == (quantity.QTY_MAX, quantity.QTY_PRECISION)
    assert sales.money.QTY_MAX is quantity.QTY_MAX  # the same object: one definition


@pytest.mark.django_db
@pytest.mark.parametrize("qty", ["1.00001", "99999999.99995", "100000000"])
def test_an_order_import_refuses_a_qty_ordered_no_qty_column_holds_and_writes_nothing(import_order, qty):
    entity = order_entity(line("vp1", qty=Decimal(qty), is_qty_decimal=1))

    with pytest.raises(InputError) as refused:
        import_order(entity)

    problems = refused.value.errors or [refused.value]
    assert any(problem.parameters.get("fieldName") == "items[0].qty_ordered" for problem in problems), [
        (problem.template, problem.parameters) for problem in problems
    ]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_an_order_import_keeps_a_qty_ordered_of_four_decimals(import_order):
    order = import_order(order_entity(line("vp1", qty=Decimal("1.2345"), is_qty_decimal=1)))

    assert order.items.get().qty_ordered == Decimal("1.2345")


@pytest.mark.django_db
@pytest.mark.parametrize("qty", ["1.00001", "100000000"])
def test_a_source_item_quantity_no_qty_column_holds_is_refused_by_the_same_rule(qty):
    from inventory.errors import InventoryValidationError

    with pytest.raises(InventoryValidationError) as refused:
        source_items_validate(items=[SourceItemData(sku="vp1", source_code="default", quantity=qty, status=1)])

    assert refused.value.errors[0][0] == '"%field" should be a quantity of at most 8 digits and 4 decimals.'
