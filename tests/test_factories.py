"""The factories make what their traits say, through the services: amounts here are worked out by hand."""

import itertools
from decimal import Decimal

import pytest

from payments.models import Transaction
from sales.models import InvoiceState, OrderState
from sales.services import CaptureCase
from tests.factories import (
    InvoiceFactory,
    OrderEntityFactory,
    OrderFactory,
    StaffUserFactory,
    UserFactory,
    line,
    numbered_lines,
)
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

SHAPES = ("bundle", "configurable", "virtual")  # one at a time: each picks the order's rows
TRAITS = (*SHAPES, "discounted", "taxed", "gateway_paid")
PAIRS = [pair for pair in itertools.combinations(TRAITS, 2) if not set(pair) <= set(SHAPES)]


@pytest.mark.parametrize(
    ("traits", "grand_total"),
    [
        ({}, "73.00"),  # 2 x 34.00 + 5.00 shipping
        ({"bundle": True}, "55.00"),  # the children carry the money: 2 x 10.00 + 6 x 5.00, + 5.00
        ({"configurable": True}, "45.00"),  # the parent carries it: 2 x 20.00, + 5.00
        ({"virtual": True}, "22.00"),  # no shipping
        ({"discounted": True}, "59.40"),  # 68.00 - 20 % (13.60) + 5.00
        ({"taxed": True}, "79.02"),  # 68.00 + 8.25 % (5.61) + 5.00 + 8.25 % of the shipping (0.41)
        ({"discounted": True, "taxed": True}, "64.30"),  # 54.40 + 4.49 tax + 5.00 + 0.41
        ({"seed_001": True}, "1917.60"),  # seed 001's: 2,022.00 - 20 % (404.40) + 300.00 shipping
    ],
)
def test_an_order_stored_through_the_import_service_has_the_traits_totals(traits, grand_total):
    order = OrderFactory(**traits)

    assert (order.state, order.grand_total, order.base_grand_total) == (
        OrderState.NEW,
        Decimal(grand_total),
        Decimal(grand_total),
    )


@pytest.mark.parametrize("pair", PAIRS)
def test_any_two_traits_make_an_order_the_import_service_accepts_and_invoices_in_full(pair):
    order = OrderFactory(**dict.fromkeys(pair, True), invoiced=True)

    assert order.total_invoiced == order.grand_total


def test_the_shapes_are_magentos_parents_and_children():
    bundle = OrderFactory(bundle=True).items.order_by("id")
    configurable = OrderFactory(configurable=True).items.order_by("id")
    virtual = OrderFactory(virtual=True)

    assert [(row.product_type, row.parent_item and row.parent_item.sku) for row in bundle] == [
        ("bundle", None),
        ("simple", "DYN"),
        ("simple", "DYN"),
    ]
    assert [(row.product_type, row.parent_item and row.parent_item.sku) for row in configurable] == [
        ("configurable", None),
        ("simple", "CONF"),
    ]
    assert virtual.is_virtual and virtual.shipping_address is None


def test_a_gateway_paid_order_holds_the_sandbox_authorization_of_its_total():
    order = OrderFactory(gateway_paid=True)

    [authorization] = Transaction.objects.filter(order_id=order.pk)
    assert authorization.txn_type == Transaction.Type.AUTHORIZATION
    assert order.payment.method == "sandbox" and order.payment.amount_authorized == order.grand_total


def test_a_eur_order_on_a_usd_base_rounds_each_base_amount_on_its_own():
    order = OrderFactory(lines=[line("A", 3, "3.33")], shipping="1.00", base_factor="1.1")

    assert (order.order_currency_code, order.grand_total, order.base_grand_total) == (
        "EUR",
        Decimal("10.99"),
        Decimal("12.09"),  # base: 9.99 x 1.1 = 10.989 -> 10.99, and 1.10
    )


def test_an_invoice_factory_invoices_the_lines_it_is_given_through_the_service():
    invoice = InvoiceFactory(order__lines=[line("A", 2, "10.00"), line("B", 1, "5.00")], lines=[("A", 1)])

    assert [(row.sku, row.qty) for row in invoice.items.all()] == [("A", Decimal(1))]
    assert (invoice.subtotal, invoice.grand_total) == (Decimal("10.00"), Decimal("15.00"))  # the first carries shipping


def test_an_invoice_factory_passes_the_capture_case_on():
    invoice = InvoiceFactory(order__gateway_paid=True, capture_case=CaptureCase.NOT_CAPTURE)

    assert invoice.state == InvoiceState.OPEN and invoice.order.total_paid is None


def test_an_entity_is_built_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        entity = OrderEntityFactory(taxed=True)

    assert entity["grand_total"] == entity["subtotal"] + entity["shipping_amount"] + entity["tax_amount"]
    with pytest.raises(TypeError):
        OrderFactory.build()


def test_a_staff_user_gets_its_groups_and_permissions_and_signs_in_with_the_shared_password():
    viewer = StaffUserFactory(groups=["Sales viewer"], permissions=["sales.email_invoice"])
    root = StaffUserFactory(superuser=True)

    assert viewer.is_staff and not viewer.is_superuser and viewer.check_password(PASSWORD)
    assert {"sales.view_invoice", "sales.email_invoice"} <= viewer.get_all_permissions()
    assert not viewer.has_perm("sales.void_invoice")
    assert root.is_superuser and root.has_perm("sales.void_invoice")


def test_numbered_lines_make_orders_of_that_many_rows_whose_header_adds_up():
    for count in (1, 5, 40):
        order = OrderFactory(lines=numbered_lines(count, qty=2), discount_rate=10, tax_rate=8)

        assert [row.sku for row in order.items.order_by("id")] == [f"LINE-{n}" for n in range(1, count + 1)]
        assert order.grand_total == order.subtotal + order.shipping_amount + order.discount_amount + order.tax_amount


def test_a_user_that_is_not_staff_inactive_or_without_a_password_is_what_it_says():
    shopper = UserFactory()
    former = StaffUserFactory(inactive=True)
    integration = UserFactory(password=None)

    assert not shopper.is_staff and shopper.check_password(PASSWORD)
    assert former.is_staff and not former.is_active
    assert not integration.has_usable_password()
