"""The doors' input serializers: each body's rules, the problems they report, each door's text for them, and
the OpenAPI request schema of every write route being its input serializer.

The routes' answers are pinned for real in ``tests/api/v1`` and ``tests/api/api2``; these tests pin the
serializers themselves, without HTTP, and the rendering in each door's errors module.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.http import QueryDict
from drf_spectacular.generators import SchemaGenerator

from inventory.services import SourceItemData
from sales.api import schema
from sales.api.api2 import errors as api2_errors
from sales.api.api2 import inputs as api2
from sales.api.api2.filters import SORT_FIELDS, InvoiceFilter
from sales.api.inputs import InputInvalid, Kind, Problem
from sales.api.v1 import errors as v1_errors
from sales.api.v1 import inputs as v1
from sales.errors import InputError, NoSuchEntityError
from sales.models import Invoice
from sales.services import CaptureCase, InvoiceCommentRequest, InvoiceLineRequest
from tests.factories import OrderFactory

REQUIRED = '"%fieldName" is required. Enter and try again.'
INVALID = 'Invalid value of "%value" provided for the %fieldName field.'
AGGREGATE = "One or more input exceptions have occurred."


def validated(serializer_class, body, **context):
    serializer = serializer_class(data=body, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def problems(serializer_class, body) -> list[Problem]:
    serializer = serializer_class(data=body)
    with pytest.raises(InputInvalid) as refused:
        serializer.is_valid(raise_exception=True)
    return refused.value.problems


def magento_answer(serializer_class, body) -> dict:
    """The /V1 body Magento's client reads for a refused request body."""
    serializer = serializer_class(data=body)
    with pytest.raises(InputInvalid) as refused:
        serializer.is_valid(raise_exception=True)
    error = v1_errors.door_error(refused.value)
    assert isinstance(error, InputError)
    return v1_errors.domain_error_body(error)


def api2_answer(serializer_class, body) -> str:
    serializer = serializer_class(data=body)
    with pytest.raises(InputInvalid) as refused:
        serializer.is_valid(raise_exception=True)
    return api2_errors.door_error(refused.value).message


# -- /V1 ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (Decimal("1"), True),
        ("true", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("1", True),
        ("0", False),
    ],
)
def test_magentos_boolean_casting_takes_true_false_1_0_and_their_strings(sent, read):
    assert validated(v1.InvoiceOrderInput, {"notify": sent})["notify"] is read


@pytest.mark.parametrize("sent", [2, -1, "yes", "", " true", None, [], {}, Decimal("0.5")])
def test_magentos_boolean_casting_refuses_anything_else_naming_the_value(sent):
    assert magento_answer(v1.InvoiceOrderInput, {"capture": sent}) == {
        "message": INVALID,
        "parameters": {"value": sent, "fieldName": "capture"},
    }


def test_an_absent_flag_is_false_and_an_absent_body_field_takes_its_default():
    assert validated(v1.InvoiceOrderInput, {}) == {
        "capture_case": CaptureCase.OFFLINE,
        "items": [],
        "notify": False,
        "append_comment": False,
        "comment": None,
    }


def test_invoice_order_input_yields_the_services_request_dataclasses():
    body = {
        "capture": "true",
        "items": [{"order_item_id": "11", "qty": Decimal("2")}, {"order_item_id": 12, "qty": "1.5"}],
        "comment": {"comment": "Paid by wire", "is_visible_on_front": 1},
        "arguments": {"extension_attributes": {}},
    }

    assert validated(v1.InvoiceOrderInput, body) == {
        "capture_case": CaptureCase.ONLINE,
        "items": [
            InvoiceLineRequest(order_item_id=11, qty=Decimal("2")),
            InvoiceLineRequest(order_item_id=12, qty=Decimal("1.5")),
        ],
        "notify": False,
        "append_comment": False,
        "comment": InvoiceCommentRequest(comment="Paid by wire", is_visible_on_front=True),
    }


@pytest.mark.parametrize("sent", [0, -3, True, "1.5", "abc", Decimal("1.5"), "9" * 5000])
def test_an_order_item_id_must_be_a_positive_integer(sent):
    [problem] = problems(v1.InvoiceOrderInput, {"items": [{"order_item_id": sent, "qty": 1}]})

    assert (problem.path, problem.kind, problem.value) == ("items[0].order_item_id", Kind.INVALID, sent)


def test_a_missing_row_field_is_required_under_its_rows_path():
    assert magento_answer(v1.InvoiceOrderInput, {"items": [{"order_item_id": 1, "qty": 1}, {"order_item_id": 2}]}) == {
        "message": REQUIRED,
        "parameters": {"fieldName": "items[1].qty"},
    }


def test_several_row_problems_are_magentos_aggregate_in_row_order():
    body = {"items": ["x", {"qty": None}, {"order_item_id": 3, "qty": "many"}]}

    assert magento_answer(v1.InvoiceOrderInput, body) == {
        "message": AGGREGATE,
        "errors": [
            {"message": INVALID, "parameters": {"value": "str", "fieldName": "items[0]"}},
            {"message": REQUIRED, "parameters": {"fieldName": "items[1].order_item_id"}},
            {"message": REQUIRED, "parameters": {"fieldName": "items[1].qty"}},
        ],
    }


def test_a_row_after_a_wrong_one_is_checked_for_its_shape_only():
    # As the hand-written parser did: a bad qty after a missing field is not reported.
    body = {"items": [{"qty": 1}, {"order_item_id": 2, "qty": "many"}]}

    assert [(problem.path, problem.kind) for problem in problems(v1.InvoiceOrderInput, body)] == [
        ("items[0].order_item_id", Kind.REQUIRED)
    ]


def test_the_first_bad_argument_is_reported_in_magentos_order():
    body = {"comment": "text", "appendComment": "x", "items": "all", "notify": "maybe", "capture": "no"}

    assert magento_answer(v1.InvoiceOrderInput, body)["parameters"] == {"value": "no", "fieldName": "capture"}
    del body["capture"]
    assert magento_answer(v1.InvoiceOrderInput, body)["parameters"] == {"value": "maybe", "fieldName": "notify"}
    del body["notify"]
    assert magento_answer(v1.InvoiceOrderInput, body)["parameters"] == {"value": "str", "fieldName": "items"}
    del body["items"]
    assert magento_answer(v1.InvoiceOrderInput, body)["parameters"] == {"value": "x", "fieldName": "appendComment"}
    del body["appendComment"]
    assert magento_answer(v1.InvoiceOrderInput, body)["parameters"] == {"value": "str", "fieldName": "comment"}


@pytest.mark.parametrize("text", [None, "", "   ", 5])
def test_an_invoice_comment_needs_its_text(text):
    assert magento_answer(v1.InvoiceOrderInput, {"comment": {"comment": text}}) == {
        "message": REQUIRED,
        "parameters": {"fieldName": "comment.comment"},
    }


def test_unknown_invoice_arguments_are_all_refused_sorted():
    assert magento_answer(v1.InvoiceOrderInput, {"zeta": 1, "alpha": 2, "notify": True}) == {
        "message": AGGREGATE,
        "errors": [
            {"message": INVALID, "parameters": {"value": "unknown field", "fieldName": "alpha"}},
            {"message": INVALID, "parameters": {"value": "unknown field", "fieldName": "zeta"}},
        ],
    }


@pytest.mark.parametrize("body", [[], "text", 5, None])
def test_a_v1_body_that_is_not_an_object_is_an_invalid_body(body):
    assert magento_answer(v1.InvoiceOrderInput, body) == {
        "message": INVALID,
        "parameters": {"value": type(body).__name__, "fieldName": "body"},
    }


def test_a_nul_character_anywhere_in_a_v1_body_is_named_by_its_path():
    assert magento_answer(v1.InvoiceOrderInput, {"comment": {"comment": "a\x00b"}}) == {
        "message": INVALID,
        "parameters": {"value": "a NUL character", "fieldName": "comment.comment"},
    }


def test_comment_flags_are_named_without_their_envelope_as_magento_does():
    body = {"statusHistory": {"comment": "x", "is_visible_on_front": "yes"}}
    assert magento_answer(v1.OrderCommentAddInput, body)["parameters"] == {
        "value": "yes",
        "fieldName": "is_visible_on_front",
    }
    body = {"entity": {"parent_id": 1, "comment": "x", "is_customer_notified": 7}}
    assert magento_answer(v1.InvoiceCommentAddInput, body)["parameters"] == {
        "value": 7,
        "fieldName": "is_customer_notified",
    }


@pytest.mark.parametrize("envelope", [{}, {"statusHistory": None}, {"statusHistory": "text"}])
def test_an_order_comment_needs_its_status_history_object(envelope):
    assert magento_answer(v1.OrderCommentAddInput, envelope) == {
        "message": REQUIRED,
        "parameters": {"fieldName": "statusHistory"},
    }


def test_comment_text_status_and_invoice_are_handed_to_the_service_as_sent():
    assert validated(v1.InvoiceCommentAddInput, {"entity": {"parent_id": "7", "is_customer_notified": "1"}}) == {
        "invoice_id": "7",
        "comment": None,
        "is_customer_notified": True,
        "is_visible_on_front": False,
    }


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({}, ["username", "password"]),
        ({"username": "admin", "password": ""}, ["password"]),
        ({"username": 5, "password": "x"}, ["username"]),
    ],
)
def test_admin_credentials_report_every_missing_field(body, missing):
    assert [(problem.path, problem.kind) for problem in problems(v1.AdminCredentialsInput, body)] == [
        (name, Kind.REQUIRED) for name in missing
    ]


def test_an_order_import_needs_its_entity():
    assert magento_answer(v1.OrderImportInput, {"order": {}}) == {
        "message": REQUIRED,
        "parameters": {"fieldName": "entity"},
    }


@pytest.mark.django_db
def test_the_order_entitys_input_error_reaches_the_client_unchanged():
    serializer = v1.OrderImportInput(data={"entity": {"items": []}}, context={"store_id": lambda: 1})

    with pytest.raises(InputError) as refused:
        serializer.is_valid(raise_exception=True)
    assert refused.value.template == AGGREGATE  # parse_order's own, every problem of the entity


# -- /api2 ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ([], "The body must be a JSON object"),
        ({"order_id": 1, "zz": 1, "yy": 2}, "Unknown field: yy"),
        ({"order_id": 1, "comment": "a\x00"}, "Invalid comment: a NUL character"),
        ({"order_id": 1, "order_increment_id": "1"}, "Use either order_id or order_increment_id, not both"),
        ({"capture": "online"}, "Missing order_id or order_increment_id"),
        ({"order_id": "1"}, "Invalid order_id: expected an integer"),
        ({"order_id": True}, "Invalid order_id: expected an integer"),
        ({"order_increment_id": ["1"]}, "Invalid order_increment_id: expected a string"),
        ({"order_id": 1, "capture": "later"}, "Invalid capture: expected online, offline or no_capture"),
        ({"order_id": 1, "capture": ["online"]}, "Invalid capture: expected online, offline or no_capture"),
        ({"order_id": 1, "send_email": 1}, "Invalid send_email: expected true or false"),
        ({"order_id": 1, "send_email": "true"}, "Invalid send_email: expected true or false"),
        ({"order_id": 1, "comment": 5}, "Invalid comment: expected a string"),
        ({"order_id": 1, "items": {"sku": "a"}}, "Invalid items: expected a list"),
        ({"order_id": 1, "send_email": None, "comment": 5}, "Invalid send_email: expected true or false"),
    ],
)
def test_api2_create_refusals_have_seed_004s_texts(body, text):
    assert api2_answer(api2.Api2InvoiceCreateInput, body) == text


@pytest.mark.parametrize(
    "item",
    [
        "row",
        {"order_item_id": 1, "qty": 1, "price": 2},
        {"qty": 1},
        {"sku": "", "qty": 1},
        {"order_item_id": "1", "qty": 1},
        {"order_item_id": True, "qty": 1},
        {"sku": 5, "qty": 1},
        {"sku": "A"},
        {"sku": "A", "qty": 0},
        {"sku": "A", "qty": "-1"},
        {"sku": "A", "qty": 1.5},
    ],
)
def test_every_bad_api2_row_is_invalid_item(item):
    assert api2_answer(api2.Api2InvoiceCreateInput, {"order_id": 1, "items": [{"sku": "OK", "qty": 1}, item]}) == (
        "Invalid item"
    )


def test_api2_create_input_yields_the_services_arguments():
    body = {
        "order_id": 9,
        "capture": "no_capture",
        "send_email": True,
        "comment": "From the ERP",
        "items": [{"order_item_id": 4, "sku": "ignored", "qty": "2"}, {"sku": "B", "qty": 1}],
    }

    assert validated(api2.Api2InvoiceCreateInput, body) == {
        "order_id": 9,
        "capture_case": CaptureCase.NOT_CAPTURE,
        "items": [
            InvoiceLineRequest(order_item_id=4, sku=None, qty=Decimal("2")),
            InvoiceLineRequest(order_item_id=None, sku="B", qty=Decimal("1")),
        ],
        "notify": True,
        "comment": InvoiceCommentRequest(comment="From the ERP"),
    }
    assert validated(api2.Api2InvoiceCreateInput, {"order_id": 9, "comment": ""}) == {
        "order_id": 9,
        "capture_case": CaptureCase.OFFLINE,
        "items": [],
        "notify": False,
        "comment": None,
    }


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({}, "Name the invoice with one of invoice_id, id or increment_id"),
        ({"id": 1, "invoice_id": 1}, "Name the invoice with one of invoice_id, id or increment_id"),
        ({"id": "1"}, "Invalid id: expected an integer"),
        ({"invoice_id": None}, "Invalid invoice_id: expected an integer"),
        ({"increment_id": False}, "Invalid increment_id: expected a string"),
        ({"id": 1, "comment": []}, "Invalid comment: expected a string"),
        ({"id": 1, "cc": "x"}, "Unknown field: cc"),
    ],
)
def test_api2_email_refusals_have_seed_004s_texts(body, text):
    assert api2_answer(api2.Api2InvoiceEmailInput, body) == text


@pytest.mark.django_db
def test_an_increment_id_is_resolved_to_its_id_and_an_unknown_one_is_not_found():
    invoice = Invoice.objects.get(order=OrderFactory(invoiced=True))

    assert validated(api2.Api2InvoiceEmailInput, {"increment_id": invoice.increment_id}) == {
        "invoice_id": invoice.pk,
        "comment": None,
    }
    serializer = api2.Api2InvoiceCreateInput(data={"order_increment_id": "no-such-order", "capture": "later"})
    with pytest.raises(NoSuchEntityError) as refused:  # before the bad capture: the door always answered the 404
        serializer.is_valid(raise_exception=True)
    assert refused.value.entity == "order"


# -- /V1 inventory: source items and the {stockId} of a path -------------------------------------------------


def test_source_items_are_handed_to_the_service_as_sent():
    body = {"sourceItems": [{"sku": "vp1", "source_code": "default", "quantity": "4.5", "status": 1}, {"sku": " "}]}

    assert validated(v1.SourceItemsSaveInput, body) == {
        "items": [
            SourceItemData(sku="vp1", source_code="default", quantity="4.5", status=1),
            SourceItemData(sku=" ", source_code=None, quantity=None, status=None),  # the service's to refuse
        ]
    }
    assert validated(v1.SourceItemsSaveInput, {"sourceItems": []}) == {"items": []}  # "Input data is empty" too


@pytest.mark.parametrize("body", [{}, {"sourceItems": None}])
def test_source_items_are_required(body):
    assert magento_answer(v1.SourceItemsSaveInput, body) == {
        "message": REQUIRED,
        "parameters": {"fieldName": "sourceItems"},
    }


def test_source_items_that_are_not_a_list_are_named_by_their_type():
    assert magento_answer(v1.SourceItemsSaveInput, {"sourceItems": {"sku": "vp1"}}) == {
        "message": INVALID,
        "parameters": {"value": "dict", "fieldName": "sourceItems"},
    }


def test_every_source_item_that_is_not_an_object_is_reported_in_magentos_aggregate():
    body = {"sourceItems": ["vp1", {"sku": "vp2"}, 5]}

    assert magento_answer(v1.SourceItemsSaveInput, body) == {
        "message": AGGREGATE,
        "errors": [
            {"message": INVALID, "parameters": {"value": "str", "fieldName": "sourceItems[0]"}},
            {"message": INVALID, "parameters": {"value": "int", "fieldName": "sourceItems[2]"}},
        ],
    }


@pytest.mark.parametrize(("sent", "read"), [("1", 1), ("42", 42), (7, 7)])
def test_a_paths_stock_id_is_a_positive_integer(sent, read):
    assert validated(v1.StockPathInput, {"stockId": sent}) == read


@pytest.mark.parametrize("sent", ["one", "0", "-1", "1.5", ""])
def test_any_other_stock_id_is_magentos_invalid_value_naming_it(sent):
    assert magento_answer(v1.StockPathInput, {"stockId": sent}) == {
        "message": INVALID,
        "parameters": {"value": sent, "fieldName": "stockId"},
    }


# -- /api2's list query string ---------------------------------------------------------------------------------


def query(text: str) -> QueryDict:
    return QueryDict(text)


def test_an_empty_list_query_takes_every_default():
    assert validated(api2.Api2InvoiceListQuery, query("")) == api2.InvoiceListQuery(
        page=1, limit=50, sort="entity_id", direction="desc", include_pagination=False, cursor=None
    )


def test_a_list_query_yields_its_page_order_and_cursor():
    read = validated(api2.Api2InvoiceListQuery, query("page=%2007%20&limit=200&sort=grand_total&direction=ASC"))

    assert (read.page, read.limit, read.sort, read.direction, read.descending) == (7, 200, "grand_total", "asc", False)
    assert validated(api2.Api2InvoiceListQuery, query("include_pagination=true")).include_pagination
    assert not validated(api2.Api2InvoiceListQuery, query("include_pagination=0")).include_pagination
    assert validated(api2.Api2InvoiceListQuery, query("cursor=&state=2")).cursor == ""  # Cursor.decode refuses it


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("zz=1&aa=1&page=0", "Unknown parameter: aa"),
        ("page=1&cursor=abc", "Invalid cursor"),
        ("page=0", "Invalid page: expected a whole number from 1 to 1000000000"),
        ("page=1000000001", "Invalid page: expected a whole number from 1 to 1000000000"),
        ("page=%C2%B2", "Invalid page: expected a whole number from 1 to 1000000000"),  # "²" is no ASCII digit
        ("page=1.0", "Invalid page: expected a whole number from 1 to 1000000000"),
        ("limit=201&sort=x", "Invalid limit: expected a whole number from 1 to 200"),
        ("sort=Grand_total&direction=up", "Invalid sort: expected one of " + ", ".join(SORT_FIELDS)),
        ("direction=up&include_pagination=yes", "Invalid direction: expected asc or desc"),
        ("include_pagination=TRUE", "Invalid include_pagination: expected 0 or 1"),
    ],
)
def test_list_query_refusals_have_seed_004s_texts_in_the_doors_order(text, error):
    assert api2_answer(api2.Api2InvoiceListQuery, query(text)) == error


def test_the_last_of_a_repeated_parameter_counts():
    assert validated(api2.Api2InvoiceListQuery, query("limit=500&limit=5")).limit == 5


@pytest.mark.parametrize("text", ["", "page=2&limit=10&direction=ASC&state=1", "cursor=x&sort=created_at", "limit=0"])
def test_the_class_level_parse_the_view_uses_answers_as_is_valid_does(text):
    serializer = api2.Api2InvoiceListQuery(data=query(text))
    try:
        expected = (serializer.validated_data if serializer.is_valid(raise_exception=True) else None), None
    except InputInvalid as refused:
        expected = None, refused.problems
    try:
        got = api2.Api2InvoiceListQuery.parse(query(text)), None
    except InputInvalid as refused:
        got = None, refused.problems

    assert got == expected


def test_a_lookup_query_yields_the_invoice_id():
    assert validated(api2.Api2InvoiceLookupQuery, query("id=42&page=0&sort=x")) == 42  # the list's are not read


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("id=1&nope=1", "Unknown parameter: nope"),
        ("id=1&increment_id=1", "Use either id or increment_id, not both"),
        ("id=0", "Invalid id: expected a whole number of at least 1"),
        ("id=abc", "Invalid id: expected a whole number of at least 1"),
    ],
)
def test_lookup_query_refusals_have_seed_004s_texts(text, error):
    assert api2_answer(api2.Api2InvoiceLookupQuery, query(text)) == error


@pytest.mark.django_db
def test_a_lookup_by_number_resolves_the_id_and_an_unknown_number_is_not_found():
    invoice = Invoice.objects.get(order=OrderFactory(invoiced=True))

    assert validated(api2.Api2InvoiceLookupQuery, query(f"increment_id={invoice.increment_id}")) == invoice.pk
    with pytest.raises(NoSuchEntityError):
        validated(api2.Api2InvoiceLookupQuery, query("increment_id=nobody"))


# -- the OpenAPI document ------------------------------------------------------------------------------------

WRITE_ROUTES = {
    ("/rest/V1/integration/admin/token", "post"): v1.AdminCredentialsInput,
    ("/rest/V1/orders", "post"): v1.OrderImportInput,
    ("/rest/V1/orders/create", "put"): v1.OrderImportInput,
    ("/rest/V1/orders/{order_id}/comments", "post"): v1.OrderCommentAddInput,
    ("/rest/V1/order/{order_id}/invoice", "post"): v1.InvoiceOrderInput,
    ("/rest/V1/invoices/comments", "post"): v1.InvoiceCommentAddInput,
    ("/rest/V1/inventory/source-items", "post"): v1.SourceItemsSaveInput,
    ("/api2/invoice/create", "post"): api2.Api2InvoiceCreateInput,
    ("/api2/invoice/email", "post"): api2.Api2InvoiceEmailInput,
}


def component(input_class) -> str:
    """A request body's component: the input serializer's name for its body (COMPONENT_SPLIT_REQUEST)."""
    return input_class.__name__.removesuffix("Input") + "Request"


@pytest.fixture(scope="module")
def document() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_each_write_routes_request_schema_is_its_input_serializer(document):
    for (path, method), input_class in WRITE_ROUTES.items():
        for door_path in (path, path.replace("/rest/V1/", "/rest/{store_code}/V1/")):
            body = document["paths"][door_path][method]["requestBody"]["content"]["application/json"]["schema"]
            assert body == {"$ref": f"#/components/schemas/{component(input_class)}"}, (method, door_path)


def test_the_input_serializers_document_the_fields_they_parse(document):
    schemas = document["components"]["schemas"]
    for input_class in set(WRITE_ROUTES.values()):
        assert set(schemas[component(input_class)]["properties"]) == set(input_class().fields), input_class
    assert schemas[component(v1.InvoiceLineInput)]["properties"]["order_item_id"]["minimum"] == 1
    assert schemas[component(v1.InvoiceOrderInput)]["properties"]["capture"]["type"] == "boolean"
    capture = schemas[component(api2.Api2InvoiceCreateInput)]["properties"]["capture"]
    assert capture["allOf"] == [{"$ref": "#/components/schemas/CaptureEnum"}]
    assert schemas["CaptureEnum"]["enum"] == ["online", "offline", "no_capture"]
    source_item = schemas[component(v1.SourceItemsSaveInput)]["properties"]["sourceItems"]["items"]
    assert source_item == {"$ref": "#/components/schemas/SourceItemInputRequest"}  # "SourceItem" is the answer's row
    assert schemas["SourceItemInputRequest"]["properties"]["sku"]["maxLength"] == 64
    entity = schemas[component(v1.OrderImportInput)]["properties"]["entity"]
    assert entity == {"$ref": "#/components/schemas/ImportOrderRequest"}


def test_the_list_query_parameters_are_documented_by_their_input_serializers(document):
    operation = document["paths"]["/api2/invoice"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    filters = set(InvoiceFilter.base_filters)

    assert set(parameters) == set(api2.INVOICE_PARAMETERS)
    assert set(parameters) - filters == {*api2.Api2InvoiceLookupQuery().fields, *api2.Api2InvoiceListQuery().fields}
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1_000_000_000}
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert parameters["id"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["sort"]["schema"] == {"type": "string", "enum": list(SORT_FIELDS)}
    assert parameters["direction"] == {
        "in": "query",
        "name": "direction",
        "schema": {"type": "string", "enum": ["asc", "desc"]},
        "description": "Default desc.",
    }
    assert parameters["increment_id"]["schema"] == {"type": "string"}  # a blank number is looked up (404)


def test_the_describe_only_request_serializers_are_gone():
    for name in (
        "InvoiceOrderSerializer",
        "Api2InvoiceCreateSerializer",
        "AdminCredentialsSerializer",
        "SourceItemsSaveSerializer",
        "SourceItemInputSerializer",
    ):
        assert not hasattr(schema, name)
