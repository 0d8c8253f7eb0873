"""``POST /V1/order/<id>/invoice`` refusals: Magento's validation messages (reference 2.1 step 4), 404, 401, 400.

Every refusal must leave the order as it was: no invoice, no invoiced quantity, no paid amount.
"""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from sales.models import Invoice, InvoiceItem, Order
from tests.conftest import load_seed_order
from tests.helpers import V1, parse, post_json

pytestmark = pytest.mark.django_db

HEADER = "Invoice Document Validation Error(s):"
NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."
WITHOUT_PRODUCTS = "The invoice can't be created without products. Add products and try again."
DOES_NOT_ALLOW = "The order does not allow an invoice to be created."
INVALID_VALUE = 'Invalid value of "%value" provided for the %fieldName field.'


def validation_error(*messages: str) -> dict:
    return {"message": "\n".join([HEADER, *messages])}


def post_invoice(client, order_id: int, body):
    return post_json(client, f"{V1}/order/{order_id}/invoice", body)


@pytest.fixture
def order(import_order) -> Order:
    """The inventory tutorial's order: 24-WB03 x20, 24-WB01 x40, 240-LV06 x1 (downloadable)."""
    return import_order(load_seed_order("001"))


def item_id(order: Order, sku: str) -> int:
    return order.items.get(sku=sku).pk


def assert_nothing_invoiced(order: Order, invoices_before: int = 0) -> None:
    assert Invoice.objects.filter(order=order).count() == invoices_before
    if invoices_before == 0:
        assert not InvoiceItem.objects.filter(order_item__order=order).exists()
        order.refresh_from_db()
        assert (order.total_invoiced, order.total_paid) == (None, None)
        assert set(order.items.values_list("qty_invoiced", flat=True)) == {0}


def test_qty_over_the_uninvoiced_qty_is_refused_with_its_sku(v1, order):
    response = post_invoice(v1, order.pk, {"items": [{"order_item_id": item_id(order, "24-WB03"), "qty": 21}]})
    assert response.status_code == 400
    assert parse(response) == validation_error(
        'The quantity to invoice must not be greater than the uninvoiced quantity for product SKU "24-WB03".'
    )
    assert_nothing_invoiced(order)


def test_item_not_part_of_the_order_is_refused(v1, order, import_order):
    other_order_item = import_order(load_seed_order("000")).items.first().pk
    lines = [{"order_item_id": item_id(order, "24-WB03"), "qty": 1}, {"order_item_id": other_order_item, "qty": 1}]
    response = post_invoice(v1, order.pk, {"items": lines})
    assert response.status_code == 400
    assert parse(response) == validation_error(
        "The invoice contains one or more items that are not part of the original order."
    )
    assert_nothing_invoiced(order)


def test_items_with_qty_0_are_an_invoice_without_products(v1, order):
    body = {"items": [{"order_item_id": item_id(order, sku), "qty": 0} for sku in ("24-WB03", "24-WB01")]}
    response = post_invoice(v1, order.pk, body)
    assert response.status_code == 400
    assert parse(response) == validation_error(WITHOUT_PRODUCTS)
    assert_nothing_invoiced(order)


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("payment_review", "payment_review"),
        ("payment_review", "fraud"),  # the message names the status, not the state
        ("holded", "holded"),
        ("canceled", "canceled"),
        ("complete", "complete"),
        ("closed", "closed"),
    ],
)
def test_order_in_a_state_that_refuses_invoices_is_refused_with_its_status(v1, order, state, status):
    Order.objects.filter(pk=order.pk).update(state=state, status=status)
    response = post_invoice(v1, order.pk, {"capture": True})
    assert response.status_code == 400
    assert parse(response) == validation_error(f"An invoice cannot be created when an order has a status of {status}")
    assert_nothing_invoiced(order)


def test_second_full_invoice_is_without_products_and_not_allowed(v1, order):
    first = post_invoice(v1, order.pk, {"capture": True})
    assert first.status_code == 200, first.content
    second = post_invoice(v1, order.pk, {"capture": True})
    assert second.status_code == 400
    assert parse(second) == validation_error(WITHOUT_PRODUCTS, DOES_NOT_ALLOW)
    assert_nothing_invoiced(order, invoices_before=1)
    order.refresh_from_db()
    assert order.total_paid == Decimal("1917.6")


def test_unknown_order_is_404(v1, order):
    """An unknown order id is 404.

    Magento's other message for a missing order, ``Order Id is required for invoice document``, cannot
    occur through HTTP, in Magento or here: the id is part of the URL, so a request without one does
    not match the route, and the invoice document always takes the id of the order that was loaded.
    """
    response = post_invoice(v1, order.pk + 1000, {"capture": True})
    assert response.status_code == 404
    assert parse(response) == {"message": NOT_FOUND}
    assert_nothing_invoiced(order)


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
def test_without_a_valid_token_is_401_naming_the_acl_resource(api_client, order, authorization):
    if authorization:
        api_client.credentials(HTTP_AUTHORIZATION=authorization)
    response = post_invoice(api_client, order.pk, {"capture": True})
    assert response.status_code == 401
    assert parse(response) == {
        "message": "The consumer isn't authorized to access %resources.",
        "parameters": {"resources": "Magento_Sales::invoice"},
    }
    assert_nothing_invoiced(order)


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        ({"items": {"order_item_id": 1, "qty": 1}}, "items"),
        ({"items": [{"order_item_id": None, "qty": "abc"}]}, "items[0].qty"),  # the order's first row, set below
        ({"capture": True, "send_email": True}, "send_email"),
    ],
    ids=["items-not-a-list", "qty-not-a-number", "unknown-body-key"],
)
def test_malformed_body_is_400_and_writes_nothing(v1, order, body, field_name):
    body = copy.deepcopy(body)
    if isinstance(body.get("items"), list):
        body["items"][0]["order_item_id"] = item_id(order, "24-WB03")
    response = post_invoice(v1, order.pk, body)
    assert response.status_code == 400
    error = parse(response)
    assert error["message"] == INVALID_VALUE
    assert error["parameters"]["fieldName"] == field_name
    assert_nothing_invoiced(order)


def test_body_that_is_not_json_is_400_and_writes_nothing(v1, order):
    response = v1.post(f"{V1}/order/{order.pk}/invoice", data="{capture: true", content_type="application/json")
    assert response.status_code == 400
    assert parse(response)["message"] == "Decoding error: %1"
    assert_nothing_invoiced(order)
