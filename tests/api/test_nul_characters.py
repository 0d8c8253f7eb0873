"""A NUL character, which no PostgreSQL text column can store, is bad input on both doors: a 400 in the
door's own error shape (``sales.api.validation`` finds it, each door words it), never a 500, and
nothing is written, not even an Idempotency-Key.

Where a door has no text path parameter to write through (/V1's writing routes take integer ids, /api2
has none), a NUL in the path matches no route: 404, nothing written.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from integrations.models import IdempotencyKey
from notifications.models import EmailOutbox
from payments.models import Payment, Transaction
from sales.models import Invoice, InvoiceComment, Order, OrderItem, OrderStatusHistory
from sales.services import InvoiceLineRequest, invoice_order
from tests.conftest import load_seed_order
from tests.helpers import V1, answer, post_json

pytestmark = pytest.mark.django_db

NUL_NAMED_IN_A_FIELD = 'Invalid value of "%value" provided for the %fieldName field.'


def v1_nul_error(field: str) -> dict:
    return {"message": NUL_NAMED_IN_A_FIELD, "parameters": {"value": "a NUL character", "fieldName": field}}


def api2_nul_error(where: str) -> dict:
    return {"error": f"Invalid {where}: a NUL character"}


@pytest.fixture
def order(import_order) -> Order:
    """Seed 001 paid by bank transfer: 24-WB03 x 20, 24-WB01 x 40, 240-LV06 x 1, nothing invoiced."""
    return import_order(load_seed_order("001"), increment_id="100000123")


def written() -> dict:
    """Everything a write through either door could leave behind."""
    return {
        "orders": [model_to_dict(order) for order in Order.objects.order_by("pk")],
        "items": [model_to_dict(item) for item in OrderItem.objects.order_by("pk")],
        "payments": [model_to_dict(payment) for payment in Payment.objects.order_by("pk")],
        "invoices": [model_to_dict(invoice) for invoice in Invoice.objects.order_by("pk")],
        "invoice_comments": InvoiceComment.objects.count(),
        "histories": OrderStatusHistory.objects.count(),
        "transactions": Transaction.objects.count(),
        "outbox": EmailOutbox.objects.count(),
        "idempotency_keys": IdempotencyKey.objects.count(),
    }


def one_backpack(order) -> list[dict]:
    return [{"order_item_id": OrderItem.objects.get(order=order, sku="24-WB03").pk, "qty": 1}]


def one_backpack_lines(order) -> list[InvoiceLineRequest]:
    return [InvoiceLineRequest(order_item_id=OrderItem.objects.get(order=order, sku="24-WB03").pk, qty=Decimal(1))]


# -- /V1 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        pytest.param(
            "order/{order}/invoice",
            lambda ids: {"comment": {"comment": "First box\x00"}},
            "comment.comment",
            id="invoice-comment",
        ),
        pytest.param(
            "order/{order}/invoice",
            lambda ids: {"items": [{"order_item_id": 1, "qty": "1\x00"}]},
            "items[0].qty",
            id="invoice-qty",
        ),
        pytest.param(
            "orders/{order}/comments",
            lambda ids: {"statusHistory": {"comment": "Called\x00"}},
            "statusHistory.comment",
            id="order-comment",
        ),
        pytest.param(
            "invoices/comments",
            lambda ids: {"entity": {"parent_id": ids["invoice"], "comment": "Noted\x00"}},
            "entity.comment",
            id="invoice-comment-add",
        ),
        pytest.param(
            "invoices/comments",
            lambda ids: {"entity": {"parent_id": ids["invoice"], "comm\x00ent": "Noted"}},
            "entity.comm\x00ent",
            id="a-fields-name",
        ),
        pytest.param(
            "orders",
            lambda ids: {
                "entity": {
                    **load_seed_order("000")["entity"],
                    "increment_id": None,
                    "customer_email": "roni\x00@example.com",
                }
            },
            "entity.customer_email",
            id="order-import",
        ),
    ],
)
def test_v1_a_nul_character_in_a_body_field_is_400_and_writes_nothing(v1, order, route, body, field):
    invoice = invoice_order(order_id=order.pk, items=one_backpack_lines(order))  # the order can still be invoiced
    before = written()

    response = post_json(v1, f"{V1}/{route.format(order=order.pk)}", body({"invoice": invoice.pk}))

    assert answer(response) == (400, v1_nul_error(field))
    assert written() == before


@pytest.mark.parametrize("key", [None, "nul-query-1"], ids=["without-a-key", "with-a-key"])
def test_v1_a_nul_character_in_a_query_parameter_is_400_and_writes_nothing(v1, order, key):
    before = written()

    response = post_json(v1, f"{V1}/order/{order.pk}/invoice?notify=%00", {"items": one_backpack(order)}, key=key)

    # Refused before the key is taken: a retry without the NUL runs.
    assert answer(response) == (400, v1_nul_error("notify"))
    assert written() == before


def test_v1_a_nul_character_in_a_query_parameters_name_is_400(v1, order):
    response = v1.get(f"{V1}/orders?searchCriteria%00=1")

    assert answer(response) == (400, v1_nul_error("searchCriteria\x00"))


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("inventory/sources/default%00", "source_code"),
        ("inventory/get-product-salable-quantity/24-WB03%00/1", "sku"),
        ("inventory/get-sources-assigned-to-stock-ordered-by-priority/1%00", "stock_id"),
    ],
)
def test_v1_a_nul_character_in_a_path_segment_is_400_and_writes_nothing(v1, order, path, field):
    before = written()

    response = v1.get(f"{V1}/{path}")

    assert answer(response) == (400, v1_nul_error(field))
    assert written() == before


def test_v1_a_nul_character_in_a_writing_routes_id_is_no_route_and_writes_nothing(v1, order):
    before = written()

    response = post_json(v1, f"{V1}/order/{order.pk}%00/invoice", {}, key="nul-path-1")

    assert answer(response) == (404, {"message": "Request does not match any route."})
    assert written() == before


@pytest.mark.parametrize("route", ["order/{order}/invoice", "orders/{order}/comments"])
def test_v1_a_nul_character_in_the_idempotency_key_is_400_and_writes_nothing(v1, order, route):
    body = {"items": one_backpack(order)} if route.endswith("invoice") else {"statusHistory": {"comment": "Called"}}
    before = written()

    response = post_json(v1, f"{V1}/{route.format(order=order.pk)}", body, key="retry\x001")

    # The key would be stored in a text column: a 500 before this check.
    assert answer(response) == (400, v1_nul_error("Idempotency-Key"))
    assert written() == before


def test_v1_a_read_ignores_an_idempotency_key_even_with_a_nul_character(v1, order):
    response = v1.get(f"{V1}/orders/{order.pk}", HTTP_IDEMPOTENCY_KEY="retry\x001")

    assert response.status_code == 200


# -- /api2 ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body", "where"),
    [
        pytest.param(
            "/api2/invoice/create",
            lambda ids: {"order_id": ids["order"], "comment": "First box\x00"},
            "comment",
            id="create-comment",
        ),
        pytest.param(
            "/api2/invoice/create",
            lambda ids: {"order_increment_id": "100000123\x00"},
            "order_increment_id",
            id="create-order-number",
        ),
        pytest.param(
            "/api2/invoice/create",
            lambda ids: {"order_id": ids["order"], "items": [{"sku": "24-WB01\x00", "qty": 1}]},
            "items[0].sku",
            id="create-item-sku",
        ),
        pytest.param(
            "/api2/invoice/email",
            lambda ids: {"invoice_id": ids["invoice"], "comment": "Again\x00"},
            "comment",
            id="email-comment",
        ),
        pytest.param(
            "/api2/invoice/email",
            lambda ids: {"increment_id": ids["increment_id"] + "\x00"},
            "increment_id",
            id="email-invoice-number",
        ),
    ],
)
def test_api2_a_nul_character_in_a_body_field_is_400_and_writes_nothing(v1, order, url, body, where):
    invoice = invoice_order(order_id=order.pk, items=one_backpack_lines(order))  # the order can still be invoiced
    before = written()

    ids = {"order": order.pk, "invoice": invoice.pk, "increment_id": invoice.increment_id}
    response = post_json(v1, url, body(ids))

    assert answer(response) == (400, api2_nul_error(where))
    assert written() == before


@pytest.mark.parametrize("key", [None, "nul-query-2"], ids=["without-a-key", "with-a-key"])
def test_api2_a_nul_character_in_a_query_parameter_is_400_and_writes_nothing(v1, order, key):
    before = written()

    response = post_json(v1, "/api2/invoice/create?source=erp%00", {"order_id": order.pk}, key=key)

    assert answer(response) == (400, api2_nul_error("source"))
    assert written() == before


def test_api2_a_nul_character_in_a_lookup_is_400(v1, order):
    invoice_order(order_id=order.pk)

    assert answer(v1.get("/api2/invoice?increment_id=000000001%00")) == (400, api2_nul_error("increment_id"))
    assert answer(v1.get("/api2/invoices?customer_email=%00")) == (400, api2_nul_error("customer_email"))


@pytest.mark.parametrize("path", ["/api2/invoice/create%00", "/api2/invoice%00/create", "/api2/invoice/email%00"])
def test_api2_a_nul_character_in_a_path_segment_is_no_route_and_writes_nothing(v1, order, path):
    before = written()

    response = post_json(v1, path, {"order_id": order.pk}, key="nul-path-2")

    assert response.status_code == 404
    assert written() == before


@pytest.mark.parametrize("url", ["/api2/invoice/create", "/api2/invoice/email"])
def test_api2_a_nul_character_in_the_idempotency_key_is_400_and_writes_nothing(v1, order, url):
    body = {"order_id": order.pk} if url.endswith("create") else {"invoice_id": invoice_order(order_id=order.pk).pk}
    before = written()

    response = post_json(v1, url, body, key="retry\x002")

    # The key would be stored in a text column: a 500 before this check.
    assert answer(response) == (400, api2_nul_error("Idempotency-Key"))
    assert written() == before
