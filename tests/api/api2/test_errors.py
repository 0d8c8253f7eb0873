"""Seed 004's "Common errors" table of ``/api2/invoice``, each row provoked for real, with its exact body.

The 409 row needs two concurrent writers on PostgreSQL: see ``test_conflict.py``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from integrations.models import AccessToken
from payments.gateways.sandbox import LEDGER
from payments.models import Payment, Transaction
from sales.models import Invoice, Order, OrderItem, OrderState, OrderStatusHistory
from tests.conftest import load_seed_order
from tests.factories import OrderFactory, UserFactory
from tests.helpers import answer, post_json

pytestmark = pytest.mark.django_db

CREATE = "/api2/invoice/create"
EMAIL = "/api2/invoice/email"
INVALID_ITEM = {"error": "Invalid item"}
CANNOT_CREATE = {"error": "Cannot create invoice"}
UNAUTHORIZED = {"error": "Unauthorized"}
ORDER_NOT_FOUND = {"error": "Order not found"}
INVOICE_NOT_FOUND = {"error": "Invoice not found"}
GATEWAY_ERROR = {"error": "Payment gateway error"}


@pytest.fixture(autouse=True)
def fresh_sandbox():
    LEDGER.reset()
    yield
    LEDGER.reset()


@pytest.fixture
def order(import_order) -> Order:
    """Seed 001: 24-WB03 x 20, 24-WB01 x 40, 240-LV06 x 1, nothing invoiced."""
    return import_order(load_seed_order("001"), increment_id="100000123")


def snapshot(order: Order) -> dict:
    """Everything an invoice would write: the order and its rows, payment, history, invoices, transactions."""
    order.refresh_from_db()
    return {
        "order": model_to_dict(order),
        "items": [model_to_dict(item) for item in OrderItem.objects.filter(order=order).order_by("pk")],
        "payment": [model_to_dict(p) for p in Payment.objects.filter(order_id=order.pk)],
        "histories": OrderStatusHistory.objects.filter(order=order).count(),
        "invoices": Invoice.objects.count(),
        "transactions": Transaction.objects.count(),
    }


# -- 400 Invalid item ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        pytest.param({"qty": 1}, id="neither-order_item_id-nor-sku"),
        pytest.param({"sku": "24-WB01", "qty": 0}, id="qty-0"),
        pytest.param({"sku": "24-WB01", "qty": -1}, id="qty-negative"),
        pytest.param({"sku": "24-WB01"}, id="qty-missing"),
        pytest.param({"sku": "24-WB01", "qty": "two"}, id="qty-not-a-number"),
        pytest.param({"order_item_id": 999999, "qty": 1}, id="order_item_id-not-on-the-order"),
        pytest.param({"sku": "NOT-ON-THE-ORDER", "qty": 1}, id="sku-not-on-the-order"),
    ],
)
def test_invalid_item_is_400_and_writes_nothing(v1, order, item):
    before = snapshot(order)

    response = post_json(v1, CREATE, {"order_id": order.pk, "items": [item]})

    assert answer(response) == (400, INVALID_ITEM)
    assert snapshot(order) == before


def test_order_item_id_of_another_order_is_an_invalid_item(v1, order, import_order):
    elsewhere = OrderItem.objects.filter(order=import_order(load_seed_order("000"), increment_id=None)).first()

    response = post_json(v1, CREATE, {"order_id": order.pk, "items": [{"order_item_id": elsewhere.pk, "qty": 1}]})

    assert answer(response) == (400, INVALID_ITEM)


# -- 400 Cannot create invoice ----------------------------------------------------------------------------


def test_fully_invoiced_order_cannot_be_invoiced_again(v1, order):
    assert post_json(v1, CREATE, {"order_id": order.pk}).status_code == 201
    before = snapshot(order)

    response = post_json(v1, CREATE, {"order_id": order.pk})

    assert answer(response) == (400, CANNOT_CREATE)
    assert snapshot(order) == before


@pytest.mark.parametrize("state", [OrderState.CANCELED, OrderState.HOLDED])
def test_canceled_or_holded_order_cannot_be_invoiced(v1, order, state):
    Order.objects.filter(pk=order.pk).update(state=state, status=state)
    before = snapshot(order)

    response = post_json(v1, CREATE, {"order_increment_id": "100000123", "items": [{"sku": "24-WB01", "qty": 1}]})

    assert answer(response) == (400, CANNOT_CREATE)
    assert snapshot(order) == before


# -- 401 Unauthorized -------------------------------------------------------------------------------------

DOORS = [("get", "/api2/invoice"), ("get", "/api2/invoices"), ("post", CREATE), ("post", EMAIL)]


def call(client, method: str, url: str):
    return client.get(url) if method == "get" else post_json(client, url, {"invoice_id": 1, "order_id": 1})


@pytest.mark.parametrize(("method", "url"), DOORS)
def test_missing_authorization_is_401(api_client, default_store, method, url):
    assert answer(call(api_client, method, url)) == (401, UNAUTHORIZED)


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ", "Basic aW50ZWdyYXRpb246eA==", "not-a-token"])
def test_invalid_token_is_401(api_client, admin_token, default_store, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)

    assert answer(api_client.get("/api2/invoice")) == (401, UNAUTHORIZED)


@pytest.mark.parametrize(("method", "url"), DOORS)
def test_expired_token_is_401(v1, method, url):
    AccessToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    assert answer(call(v1, method, url)) == (401, UNAUTHORIZED)


def test_token_of_a_non_staff_user_without_integration_is_401(api_client, default_store):
    from integrations.models import token_hash_of

    user = UserFactory(username="shopper")
    AccessToken.objects.create(user=user, kind=AccessToken.Kind.ADMIN, token_hash=token_hash_of("raw-shopper"))
    api_client.credentials(HTTP_AUTHORIZATION="Bearer raw-shopper")

    assert answer(api_client.get("/api2/invoice")) == (401, UNAUTHORIZED)


# -- 404 Order not found / Invoice not found ----------------------------------------------------------------


@pytest.mark.parametrize("body", [{"order_id": 999999}, {"order_increment_id": "999999999"}])
def test_unknown_order_is_404(v1, order, body):
    assert answer(post_json(v1, CREATE, body)) == (404, ORDER_NOT_FOUND)
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize("query", ["id=999999", "increment_id=999999999"])
def test_unknown_invoice_lookup_is_404(v1, query):
    assert answer(v1.get(f"/api2/invoice?{query}")) == (404, INVOICE_NOT_FOUND)


@pytest.mark.parametrize("body", [{"invoice_id": 999999}, {"id": 999999}, {"increment_id": "999999999"}])
def test_email_for_unknown_invoice_is_404(v1, body):
    assert answer(post_json(v1, EMAIL, body)) == (404, INVOICE_NOT_FOUND)


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("url", ["/api2/", "/api2/orders", "/api2/invoice/void", "/api2/invoice/create/"])
def test_an_unknown_path_is_404_in_api2s_shape_with_or_without_a_token(api_client, admin_token, method, url):
    # Not Django's HTML page: an integration parses every answer of this door as {"error": ...}.
    anonymous = getattr(api_client, method)(url)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_token}")
    with_token = getattr(api_client, method)(url)

    assert anonymous["Content-Type"] == with_token["Content-Type"] == "application/json"
    assert answer(anonymous) == answer(with_token) == (404, {"error": "Not found"})


# -- 500 Payment gateway error ---------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["decline", "timeout"])
def test_gateway_failure_on_online_capture_is_500_and_writes_nothing(v1, outcome):
    order = OrderFactory(seed_001=True, gateway_paid=True, sandbox_outcome=outcome)
    before = snapshot(order)

    response = post_json(v1, CREATE, {"order_id": order.pk, "capture": "online", "comment": "never kept"})

    assert answer(response) == (500, GATEWAY_ERROR)
    assert snapshot(order) == before
    assert LEDGER.movements["capture"] == 0


# -- 400: the door's own refusals, each naming what is wrong ---------------------------------------------------


def test_both_order_id_and_order_increment_id_is_400(v1, order):
    response = post_json(v1, CREATE, {"order_id": order.pk, "order_increment_id": "100000123"})

    assert answer(response) == (400, {"error": "Use either order_id or order_increment_id, not both"})


def test_neither_order_id_nor_order_increment_id_is_400(v1, order):
    assert answer(post_json(v1, CREATE, {"capture": "offline"})) == (
        400,
        {"error": "Missing order_id or order_increment_id"},
    )


@pytest.mark.parametrize("capture", ["later", "", True, "ONLINE"])
def test_capture_outside_online_offline_no_capture_is_400(v1, order, capture):
    response = post_json(v1, CREATE, {"order_id": order.pk, "capture": capture})

    assert answer(response) == (400, {"error": "Invalid capture: expected online, offline or no_capture"})
    assert Invoice.objects.count() == 0


def test_unknown_body_field_is_400_naming_it(v1, order):
    response = post_json(v1, CREATE, {"order_id": order.pk, "notify": True})

    assert answer(response) == (400, {"error": "Unknown field: notify"})


def test_unknown_email_body_field_is_400_naming_it(v1):
    response = post_json(v1, EMAIL, {"invoice_id": 1, "to": "x@example.com"})
    assert answer(response) == (400, {"error": "Unknown field: to"})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("order_id", "abc", "Invalid order_id: expected an integer"),
        ("order_id", True, "Invalid order_id: expected an integer"),
        ("order_id", Decimal("1.5"), "Invalid order_id: expected an integer"),
        ("send_email", "yes", "Invalid send_email: expected true or false"),
        ("send_email", 1, "Invalid send_email: expected true or false"),
        ("items", {"sku": "24-WB01", "qty": 1}, "Invalid items: expected a list"),
        ("items", "24-WB01", "Invalid items: expected a list"),
        ("comment", 5, "Invalid comment: expected a string"),
    ],
)
def test_wrong_type_is_400_naming_the_field(v1, order, field, value, message):
    body = {"order_id": order.pk, field: value}

    assert answer(post_json(v1, CREATE, body)) == (400, {"error": message})
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize("body", ["[]", "not json", '"text"'])
def test_body_that_is_not_a_json_object_is_400(v1, body):
    response = v1.post(CREATE, data=body, content_type="application/json")

    assert answer(response) == (400, {"error": "The body must be a JSON object"})
