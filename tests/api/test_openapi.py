"""The OpenAPI 3 document of both doors: it generates cleanly, names every route, and is served.

What the live app answers is checked against it by ``test_schemathesis.py`` (PostgreSQL); these tests run
everywhere and fail when a route is added without its schema, or a schema describes a route that is gone.
"""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    """``manage.py spectacular --validate --fail-on-warn``: raises on any warning or error."""
    path = tmp_path_factory.mktemp("openapi") / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def _openapi_path(route: str) -> str:
    """A Django route (``path()`` converters or a regex) as an OpenAPI path template."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)  # (?P<sku>.+) -> {sku}
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)  # <int:order_id> -> {order_id}
    return "/" + route.replace("^", "").replace("$", "")


def _api_routes(resolver: URLResolver, prefix: str = "") -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every DRF view the URL conf routes to, found by walking the resolver."""
    found = set()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found |= _api_routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            if view is None or not issubclass(view, APIView):
                continue  # Django views: the admin, the /rest catch-all 404, the schema views themselves
            found |= {(_openapi_path(route), method) for method in HTTP_METHODS if hasattr(view, method)}
    return found


def _door_routes() -> set[tuple[str, str]]:
    return {(path, method) for path, method in _api_routes(get_resolver()) if path.startswith(("/rest/", "/api2/"))}


def _documented(document: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item if method in HTTP_METHODS}


def test_the_schema_generates_without_warnings_or_errors(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Counterfoil"


def test_every_route_of_both_doors_is_documented_and_nothing_else(document):
    routes = _door_routes()

    assert len(routes) >= 60
    assert _documented(document) == routes


def test_each_v1_route_is_documented_under_rest_v1_and_under_a_store_code(document):
    paths = set(document["paths"])
    v1 = {path for path in paths if path.startswith("/rest/V1/")}

    assert {path.replace("/rest/V1/", "/rest/{store_code}/V1/") for path in v1} == {
        path for path in paths if path.startswith("/rest/{store_code}/")
    }


def test_operation_ids_are_unique(document):
    ids = [operation["operationId"] for item in document["paths"].values() for operation in item.values()]

    assert len(ids) == len(set(ids))


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _ref(response: dict) -> str | None:
    return response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")


def test_every_error_answer_is_the_envelope_of_its_door(document):
    for path, method, operation in _operations(document):
        envelope = (
            "#/components/schemas/Api2Error" if path.startswith("/api2/") else "#/components/schemas/MagentoError"
        )
        errors = {code: response for code, response in operation["responses"].items() if int(code) >= 400}
        assert {"401", "429"} <= set(errors), (method, path)
        assert all(_ref(response) == envelope for response in errors.values()), (method, path)


def test_bodies_and_answers_are_documented(document):
    for path, method, operation in _operations(document):
        success = [response for code, response in operation["responses"].items() if code.startswith("2")]
        assert len(success) == 1 and "application/json" in success[0]["content"], (method, path)
        if method in ("put", "post") and not path.endswith(("/capture", "/void", "/cancel", "/emails")):
            assert "application/json" in operation["requestBody"]["content"], (method, path)


def test_bare_json_answers_are_documented_as_such(document):
    def answer(path, method="get"):
        return document["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]

    assert answer("/rest/V1/integration/admin/token", "post")["type"] == "string"
    assert answer("/rest/V1/order/{order_id}/invoice", "post")["type"] == "integer"
    assert answer("/rest/V1/orders/{order_id}/statuses")["type"] == "string"
    assert answer("/rest/V1/inventory/get-product-salable-quantity/{sku}/{stock_id}")["type"] == "number"
    assert answer("/rest/V1/inventory/source-items", "post") == {
        "type": "array",
        "items": {},
        "maxItems": 0,
        "description": "`[]` (Magento's answer to a void method).",
    }
    assert answer("/rest/V1/invoices/{invoice_id}/capture", "post")["enum"] == [True]


def test_money_is_a_json_number_and_flags_are_0_or_1(document):
    schemas = document["components"]["schemas"]

    for name in ("Invoice", "Order", "OrderItem", "InvoiceItem", "Api2Invoice"):
        properties = schemas[name]["properties"]
        assert properties["base_row_total" if "Item" in name else "grand_total"]["type"] == "number", name
    assert schemas["Order"]["properties"]["is_virtual"] == {"type": "integer", "minimum": 0, "maximum": 1}
    assert schemas["Invoice"]["properties"]["created_at"]["pattern"] == r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"


def test_list_routes_document_search_criteria_and_posts_the_idempotency_key(document):
    parameters = {
        (path, method): {parameter["name"] for parameter in operation.get("parameters", [])}
        for path, method, operation in _operations(document)
    }

    assert "searchCriteria[filter_groups][0][filters][0][field]" in parameters["/rest/V1/invoices", "get"]
    assert "searchCriteria[pageSize]" in parameters["/rest/V1/orders", "get"]
    assert {"state", "created_from", "include_pagination", "increment_id"} <= parameters["/api2/invoice", "get"]
    for route in (
        ("/rest/V1/order/{order_id}/invoice", "post"),
        ("/rest/V1/invoices/{invoice_id}/emails", "post"),
        ("/rest/V1/orders", "post"),
        ("/rest/V1/orders/create", "put"),
        ("/api2/invoice/create", "post"),
        ("/api2/invoice/email", "post"),
    ):
        assert "Idempotency-Key" in parameters[route], route
    assert "Idempotency-Key" not in parameters["/rest/V1/orders", "get"]  # reads take none


def test_the_bearer_token_secures_every_route_but_the_admin_token(document):
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, method, operation in _operations(document):
        expected = [{}] if path.endswith("/integration/admin/token") else [{"bearerAuth": []}]
        assert operation["security"] == expected, (method, path)


# -- served ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_is_served_to_anyone(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    document = response.json()
    assert "/api2/invoice/create" in document["paths"]
    assert "/rest/{store_code}/V1/order/{order_id}/invoice" in document["paths"]


@pytest.mark.django_db
def test_swagger_ui_is_served_from_our_own_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "/api/schema/" in page
    assert "cdn" not in page.lower()  # no CDN: the page works on a closed network


# -- what the schema work found: routes answer only what they document ------------------------------------


@pytest.mark.django_db
def test_orders_create_answers_put_only_and_orders_get_and_post_only(v1):
    # GET /V1/orders/create used to list orders and PUT /V1/orders to import one: neither is Magento's route.
    assert v1.get("/rest/default/V1/orders/create").status_code == 404
    assert v1.put("/rest/default/V1/orders", {}, format="json").status_code == 404
    assert v1.put("/rest/default/V1/orders/create", {}, format="json").status_code == 400  # entity is required


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("post", "/rest/V1/integration/admin/token", {"username": "a\x00", "password": "b"}, "username"),
        (
            "post",
            "/rest/default/V1/invoices/comments",
            {"entity": {"parent_id": 1, "comment": "\x00"}},
            "entity.comment",
        ),
        ("post", "/rest/default/V1/inventory/source-items", {"sourceItems": [{"sku": "a\x00"}]}, "sourceItems[0].sku"),
        (
            "get",
            "/rest/default/V1/invoices?searchCriteria[filter_groups][0][filters][0][field]=increment_id"
            "&searchCriteria[filter_groups][0][filters][0][value]=%00",
            None,
            "searchCriteria[filter_groups][0][filters][0][value]",
        ),
        ("get", "/rest/default/V1/inventory/sources/a%00b", None, "source_code"),
    ],
)
def test_a_nul_character_is_bad_input_on_v1_not_a_server_error(v1, method, url, body, field):
    # PostgreSQL cannot store NUL in text: the door refuses it before any query (a 500 before).
    response = getattr(v1, method)(url, body, format="json") if body is not None else getattr(v1, method)(url)

    assert response.status_code == 400
    assert response.json() == {
        "message": 'Invalid value of "%value" provided for the %fieldName field.',
        "parameters": {"value": "a NUL character", "fieldName": field},
    }


@pytest.mark.django_db
def test_a_nul_character_is_bad_input_on_api2(v1):
    assert v1.get("/api2/invoice?increment_id=%00").json() == {"error": "Invalid increment_id: a NUL character"}
    response = v1.post("/api2/invoice/email", {"increment_id": "1\x00"}, format="json")
    assert (response.status_code, response.json()) == (400, {"error": "Invalid increment_id: a NUL character"})


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/rest/0.5/V1/orders", "/rest/V1/no-such-route", "/rest/default/V1/orders/x"])
def test_a_post_to_no_route_is_magentos_404_not_a_csrf_page(url):
    response = Client(enforce_csrf_checks=True).post(url, "{}", content_type="application/json")

    assert response.status_code == 404
    assert response.json() == {"message": "Request does not match any route."}


def test_every_operation_documents_a_failing_database_and_every_body_its_size_limit(document):
    for path, method, operation in _operations(document):
        assert "503" in operation["responses"], (method, path)
        if "requestBody" in operation:
            assert "413" in operation["responses"], (method, path)
