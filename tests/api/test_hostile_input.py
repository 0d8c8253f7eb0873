"""Hostile input on the JSON doors is bad input: a 4xx in the door's own error shape, never a 500, and nothing
written. /V1 and the token route answer in Magento's envelope (``{"message", "parameters"}``), /api2 as
``{"error": "..."}``.

- A JSON body is read only up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (Django's own setting, which also
  bounds the admin's forms): a longer one is 413 before it is parsed.
- A JSON string holding a lone surrogate (``"\\ud800"``: half of a UTF-16 pair, not a character, which
  PostgreSQL cannot store), a body nested deeper than ``sales.api.json.MAX_NESTING`` and a number with more
  digits than Python reads into an integer (4300) are decoding errors.
- Numbers and dates that no column can hold are refused where they are read.
"""

from __future__ import annotations

import io
import json

import pytest
from django.test import RequestFactory
from rest_framework.request import Request

from integrations.models import AccessToken, IdempotencyKey, SignInFailureLog
from notifications.models import EmailOutbox
from payments.models import Payment, Transaction
from sales.api.api2.filters import Cursor
from sales.api.json import MAX_NESTING, DecimalJSONParser, RequestBodyTooLarge, dumps
from sales.models import Invoice, InvoiceComment, Order, OrderItem, OrderStatusHistory
from sales.services import invoice_order
from tests.factories import OrderEntityFactory, OrderFactory
from tests.helpers import V1, answer

pytestmark = pytest.mark.django_db

TOKEN = "/rest/V1/integration/admin/token"
SIGN_IN_FAILED = {
    "message": "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
}
LONE_SURROGATE = "JSON parse error - a string holds a lone surrogate (\\ud800 to \\udfff), which is not a character"
TOO_DEEP = f"JSON parse error - nested deeper than {MAX_NESTING} levels"


def v1_decoding_error(detail: str) -> dict:
    return {"message": "Decoding error: %1", "parameters": [detail]}


def post_text(client, url: str, text: str, **headers):
    return client.post(url, text.encode("utf-8"), content_type="application/json", **headers)


def lone_surrogate_in(document) -> str:
    """The document as JSON text, each ``@@`` in it written as the escape of a lone surrogate."""
    return dumps(document).replace("@@", "\\ud800")


@pytest.fixture
def order(default_store) -> Order:
    """Seed 001's order, nothing invoiced yet."""
    return OrderFactory(seed_001=True, increment_id="100000123")


def written() -> dict:
    """Row counts of everything a write through a door could leave behind."""
    models = (
        Order,
        OrderItem,
        Payment,
        Invoice,
        InvoiceComment,
        OrderStatusHistory,
        Transaction,
        EmailOutbox,
        IdempotencyKey,
        AccessToken,
        SignInFailureLog,
    )
    return {model.__name__: model.objects.count() for model in models}


def import_entity(**fields) -> dict:
    """A ``POST /V1/orders`` body: the factories' valid entity with ``fields`` set."""
    return {"entity": OrderEntityFactory(**fields)}


# Writing routes of each door, as (url, a body they would take) for the order fixture.
V1_WRITES = {
    "order-import": lambda order: (f"{V1}/orders", import_entity()),
    "order-comment": lambda order: (f"{V1}/orders/{order.pk}/comments", {"statusHistory": {"comment": "Called"}}),
    "invoice": lambda order: (f"{V1}/order/{order.pk}/invoice", {"comment": {"comment": "First box"}}),
}
API2_WRITES = {
    "api2-create": lambda order: ("/api2/invoice/create", {"order_id": order.pk, "comment": "First box"}),
}


# -- the token route ----------------------------------------------------------------------------------------


def test_a_token_request_for_a_username_no_account_can_have_is_a_failed_sign_in_that_counts_nothing(
    api_client, staff_user
):
    before = written()

    response = api_client.post(TOKEN, {"username": "a" * 256, "password": "whatever"}, format="json")

    # 256 characters: longer than the failure log's column could count (a 500 before).
    assert answer(response) == (401, SIGN_IN_FAILED)
    assert written() == before


@pytest.mark.parametrize("field", ["username", "password"])
def test_a_lone_surrogate_in_the_token_requests_credentials_is_a_decoding_error(api_client, staff_user, field):
    credentials = {"username": "integration-admin", "password": "s3cret-Passw0rd"} | {field: "ad@@min"}
    before = written()

    response = post_text(api_client, TOKEN, lone_surrogate_in(credentials))

    assert answer(response) == (400, v1_decoding_error(LONE_SURROGATE))
    assert written() == before


# -- lone surrogates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "text"),
    [
        pytest.param(
            f"{V1}/orders",
            lone_surrogate_in(import_entity(customer_firstname="Ver@@")),
            id="order-import-customer-firstname",
        ),
        pytest.param(
            f"{V1}/orders/{{order}}/comments",
            '{"statusHistory": {"comment": "Called \\uDFFF back"}}',
            id="order-comment",
        ),
        pytest.param(f"{V1}/order/{{order}}/invoice", '{"comment": {"comment": "x\\udc00"}}', id="invoice-comment"),
        pytest.param(f"{V1}/orders/{{order}}/comments", '{"statusHistory": {"\\ud800": "a name"}}', id="a-name"),
        pytest.param(
            f"{V1}/orders/{{order}}/comments",
            '{"statusHistory": {"comment": "\\ude00\\ud83d"}}',
            id="a-pair-in-the-wrong-order",
        ),
    ],
)
def test_v1_a_lone_surrogate_in_a_json_string_is_a_decoding_error_and_writes_nothing(v1, order, url, text):
    before = written()

    response = post_text(v1, url.format(order=order.pk), text)

    assert answer(response) == (400, v1_decoding_error(LONE_SURROGATE))
    assert written() == before


def test_api2_a_lone_surrogate_in_a_json_string_is_400_and_writes_nothing(v1, order):
    before = written()

    response = post_text(v1, "/api2/invoice/create", lone_surrogate_in({"order_id": order.pk, "comment": "@@"}))

    assert answer(response) == (
        400,
        {"error": "Invalid body: a string holds a lone surrogate (\\ud800 to \\udfff), which is not a character"},
    )
    assert written() == before


def test_a_surrogate_pair_escape_is_one_character_and_is_stored(v1, order):
    response = post_text(
        v1, f"{V1}/orders/{order.pk}/comments", '{"statusHistory": {"comment": "Paid \\ud83d\\ude00"}}'
    )

    assert answer(response) == (200, True)
    assert OrderStatusHistory.objects.filter(order=order, comment="Paid \U0001f600").exists()


# -- deep nesting -------------------------------------------------------------------------------------------

DEEP_BODIES = {
    "arrays": "[" * 50_000 + "]" * 50_000,
    "objects": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "just-too-deep": '{"entity":' + "[" * MAX_NESTING + "]" * MAX_NESTING + "}",
}


@pytest.mark.parametrize("key", [None, "deep-1"], ids=["without-a-key", "with-an-idempotency-key"])
@pytest.mark.parametrize("body", DEEP_BODIES, ids=list(DEEP_BODIES))
@pytest.mark.parametrize("route", V1_WRITES, ids=list(V1_WRITES))
def test_v1_a_body_nested_too_deep_is_a_decoding_error_and_writes_nothing(v1, order, route, body, key):
    url, _ = V1_WRITES[route](order)
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    before = written()

    response = post_text(v1, url, DEEP_BODIES[body], **headers)

    # A key (on a route that takes one) keeps its 400 answer for a repeat, as for any body the door refuses.
    assert answer(response) == (400, v1_decoding_error(TOO_DEEP))
    assert written() | {"IdempotencyKey": 0} == before | {"IdempotencyKey": 0}


@pytest.mark.parametrize("body", DEEP_BODIES, ids=list(DEEP_BODIES))
def test_the_token_route_refuses_a_body_nested_too_deep_as_a_decoding_error(api_client, staff_user, body):
    before = written()

    response = post_text(api_client, TOKEN, DEEP_BODIES[body])

    assert answer(response) == (400, v1_decoding_error(TOO_DEEP))
    assert written() == before


@pytest.mark.parametrize("body", DEEP_BODIES, ids=list(DEEP_BODIES))
@pytest.mark.parametrize("url", ["/api2/invoice/create", "/api2/invoice/email"])
def test_api2_a_body_nested_too_deep_is_400_and_writes_nothing(v1, order, url, body):
    before = written()

    response = post_text(v1, url, DEEP_BODIES[body])

    assert answer(response) == (400, {"error": f"Invalid body: nested deeper than {MAX_NESTING} levels"})
    assert written() == before


def test_a_body_as_deep_as_the_limit_is_parsed():
    text = "[" * MAX_NESTING + "]" * MAX_NESTING

    assert DecimalJSONParser().parse(io.BytesIO(text.encode()), parser_context={}) == eval(text)  # noqa: S307


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"comment": "[" * 1000 + '{"\\' + "}" * 1000})

    assert DecimalJSONParser().parse(io.BytesIO(text.encode()), parser_context={}) == json.loads(text)


# -- numbers past what Python reads ---------------------------------------------------------------------------

NUMBER_TOO_LONG = "a number has more than 4300 digits before or after its point"


@pytest.mark.parametrize(
    ("url", "text"),
    [
        pytest.param(
            f"{V1}/invoices/comments",
            '{"entity": {"parent_id": 1e999999, "comment": "Noted"}}',
            id="invoice-comment-parent-id",
        ),
        pytest.param(
            f"{V1}/orders",
            lone_surrogate_in(import_entity(customer_group_id="@@")).replace('"\\ud800"', "-1e999999"),
            id="order-import-customer-group-id",
        ),
        pytest.param(
            f"{V1}/order/{{order}}/invoice", '{"items": [{"order_item_id": 1, "qty": 1e-5000}]}', id="invoice-qty"
        ),
    ],
)
def test_v1_a_number_with_more_digits_than_python_reads_is_a_decoding_error(v1, order, url, text):
    """Made an integer, 1e999999 took a worker 40 s (then a 404 or a 400)."""
    before = written()

    response = post_text(v1, url.format(order=order.pk), text)

    assert answer(response) == (400, v1_decoding_error(f"JSON parse error - {NUMBER_TOO_LONG}"))
    assert written() == before


def test_api2_a_number_with_more_digits_than_python_reads_is_400(v1, order):
    before = written()

    response = post_text(v1, "/api2/invoice/email", '{"invoice_id": 1e999999}')

    assert answer(response) == (400, {"error": f"Invalid body: {NUMBER_TOO_LONG}"})
    assert written() == before


# -- /api2's list: numbers, dates and cursors no column can hold ---------------------------------------------


@pytest.mark.parametrize("page", ["99999999999999999999", "4611686018427387904", "9" * 5000, "²", "١", "0"])
def test_api2_a_page_number_past_any_possible_page_is_400(v1, order, page):
    invoice_order(order_id=order.pk)

    response = v1.get(f"/api2/invoice?page={page}")

    assert answer(response) == (400, {"error": "Invalid page: expected a whole number from 1 to 1000000000"})


def test_api2_the_last_page_number_allowed_answers_an_empty_page(v1, order):
    invoice_order(order_id=order.pk)

    response = v1.get("/api2/invoice?page=1000000000&limit=200")

    assert answer(response) == (200, {"invoices": [], "next_cursor": None})


@pytest.mark.parametrize("invoice_id", ["9223372036854775808", "9" * 5000])
def test_api2_a_lookup_by_an_id_no_row_can_have_is_not_found(v1, order, invoice_id):
    response = v1.get(f"/api2/invoice?id={invoice_id}")

    # 5000 digits: past what int() converts from text (a 500 before).
    assert answer(response) == (404, {"error": "Invoice not found"})


@pytest.mark.parametrize("name", ["created_to", "updated_to"])
def test_api2_a_filter_to_the_last_representable_day_is_400(v1, order, name):
    invoice_order(order_id=order.pk)

    response = v1.get(f"/api2/invoice?{name}=9999-12-31")

    assert answer(response) == (
        400,
        {"error": f"Invalid {name}: Ensure this value is less than or equal to 9999-12-30."},
    )


@pytest.mark.parametrize("query", ["created_to=9999-12-30", "updated_to=9999-12-30", "created_from=0001-01-01"])
def test_api2_the_first_and_last_days_a_filter_takes_keep_every_invoice(v1, order, query):
    invoice = invoice_order(order_id=order.pk)

    status, body = answer(v1.get(f"/api2/invoice?{query}"))

    assert (status, [row["entity_id"] for row in body["invoices"]]) == (200, [invoice.pk])


@pytest.mark.parametrize("value", ["1e999999", "-1e999999", "1e-999999", "1E+16", "0.00001"])
def test_api2_a_grand_total_cursor_no_amount_can_hold_is_an_invalid_cursor(v1, order, value):
    invoice_order(order_id=order.pk)
    cursor = Cursor("grand_total", True, 5, value).encode()

    response = v1.get(f"/api2/invoice?sort=grand_total&cursor={cursor}")

    assert answer(response) == (400, {"error": "Invalid cursor"})


# -- body size ----------------------------------------------------------------------------------------------

LIMIT = 4096


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    return LIMIT


def v1_too_large(limit: int) -> dict:
    return {"message": "The request body is larger than the limit of %1 bytes.", "parameters": [limit]}


def api2_too_large(limit: int) -> dict:
    return {"error": f"Request body too large: the limit is {limit} bytes"}


def test_a_10_mb_customer_note_is_413_by_default_and_stores_nothing(v1, order):
    before = written()

    response = v1.post(
        f"{V1}/orders", dumps(import_entity(customer_note="x" * 10_000_000)), content_type="application/json"
    )

    assert answer(response) == (413, v1_too_large(2_621_440))
    assert written() == before


@pytest.mark.parametrize("key", [None, "large-1"], ids=["without-a-key", "with-an-idempotency-key"])
@pytest.mark.parametrize("route", V1_WRITES, ids=list(V1_WRITES))
def test_v1_a_body_over_the_limit_is_413_and_writes_nothing(v1, order, small_limit, route, key):
    url, body = V1_WRITES[route](order)
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    before = written()

    response = post_text(v1, url, dumps(body)[:-1] + ', "padding": "' + "x" * LIMIT + '"}', **headers)

    assert answer(response) == (413, v1_too_large(LIMIT))
    assert written() == before


@pytest.mark.parametrize("key", [None, "large-2"], ids=["without-a-key", "with-an-idempotency-key"])
def test_api2_a_body_over_the_limit_is_413_and_writes_nothing(v1, order, small_limit, key):
    url, body = API2_WRITES["api2-create"](order)
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    before = written()

    response = post_text(v1, url, dumps(body | {"comment": "x" * LIMIT}), **headers)

    assert answer(response) == (413, api2_too_large(LIMIT))
    assert written() == before


def test_the_token_route_refuses_a_body_over_the_limit_in_v1s_shape(api_client, staff_user, small_limit):
    before = written()

    response = api_client.post(TOKEN, {"username": "integration-admin", "password": "x" * LIMIT}, format="json")

    assert answer(response) == (413, v1_too_large(LIMIT))
    assert written() == before


def test_a_body_just_within_the_limit_is_taken(v1, order, small_limit):
    prefix, suffix = '{"statusHistory": {"comment": "', '"}}'
    text = prefix + "x" * (LIMIT - len(prefix) - len(suffix)) + suffix

    response = post_text(v1, f"{V1}/orders/{order.pk}/comments", text)

    assert (len(text), answer(response)) == (LIMIT, (200, True))


def test_a_body_without_a_content_length_is_cut_off_at_the_limit(small_limit):
    """Chunked: nothing says how long the body is, so the parser reads one byte past the limit and stops."""
    request = Request(RequestFactory().post("/", content_type="application/json"))
    request.META.pop("CONTENT_LENGTH", None)
    stream = io.BytesIO(b'{"comment": "' + b"x" * 10_000_000 + b'"}')

    with pytest.raises(RequestBodyTooLarge):
        DecimalJSONParser().parse(stream, parser_context={"request": request})

    assert stream.tell() == LIMIT + 1
