"""The Inventory /V1 routes: Magento's paths, JSON shapes, ACL resources and errors; bad input writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import SourceItem, SourceItemStatus, StockItemConfiguration
from tests.helpers import V1, parse, post_json
from tests.inventory.conftest import (
    add_source,
    quantity_per_source,
    salable_qty,
    set_source_items,
)

pytestmark = pytest.mark.django_db

UNAUTHORIZED = "The consumer isn't authorized to access %resources."
DEFAULT_SOURCE = {
    "source_code": "default",
    "name": "Default Source",
    "enabled": True,
    "description": "Default Source",
    "latitude": 0,
    "longitude": 0,
    "country_id": "US",
    "postcode": "00000",
    "use_default_carrier_config": True,
    "carrier_links": [],
}


def criteria(*filters: tuple, **extra) -> dict:
    """searchCriteria query parameters: one filter group per (field, value[, condition_type])."""
    params = {}
    for group, (field, value, *condition) in enumerate(filters):
        prefix = f"searchCriteria[filter_groups][{group}][filters][0]"
        params[f"{prefix}[field]"] = field
        params[f"{prefix}[value]"] = value
        if condition:
            params[f"{prefix}[condition_type]"] = condition[0]
    params.update({f"searchCriteria[{key}]": value for key, value in extra.items()})
    return params or {"searchCriteria": ""}


def post_source_items(v1, items):
    return post_json(v1, f"{V1}/inventory/source-items", {"sourceItems": items})


# -- ACL ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "resource"),
    [
        ("get", "inventory/sources", "Magento_InventoryApi::source"),
        ("get", "inventory/sources/default", "Magento_InventoryApi::source"),
        ("get", "inventory/stocks", "Magento_InventoryApi::stock"),
        ("get", "inventory/stock-source-links", "Magento_InventoryApi::stock_source_link"),
        ("get", "inventory/source-items", "Magento_InventoryApi::source"),
        ("post", "inventory/source-items", "Magento_InventoryApi::stock_source_item_assign"),
        ("get", "inventory/get-product-salable-quantity/vp1/1", "Magento_InventorySalesApi::stock"),
    ],
)
def test_each_route_answers_401_naming_magentos_acl_resource_without_a_token(api_client, method, path, resource):
    response = getattr(api_client, method)(f"{V1}/{path}")

    assert response.status_code == 401
    assert parse(response) == {"message": UNAUTHORIZED, "parameters": {"resources": resource}}


# -- sources and stocks --------------------------------------------------------------------------------------------


def test_get_sources_without_search_criteria_lists_every_source_as_magento_does(v1, default_stock):
    response = v1.get(f"{V1}/inventory/sources")

    assert response.status_code == 200
    assert parse(response) == {"items": [DEFAULT_SOURCE], "search_criteria": {"filter_groups": []}, "total_count": 1}


def test_get_sources_filters_and_pages_with_search_criteria(v1, default_stock):
    add_source("east", priority=2)
    add_source("west", priority=3, enabled=False)

    enabled = parse(v1.get(f"{V1}/inventory/sources", criteria(("enabled", "1"), pageSize=1, currentPage=2)))

    assert [source["source_code"] for source in enabled["items"]] == ["east"]
    assert enabled["total_count"] == 2
    assert enabled["search_criteria"]["page_size"] == 1


def test_get_one_source_and_an_unknown_one(v1, default_stock):
    assert parse(v1.get(f"{V1}/inventory/sources/default")) == DEFAULT_SOURCE

    missing = v1.get(f"{V1}/inventory/sources/nowhere")
    assert missing.status_code == 404
    assert parse(missing) == {
        "message": 'Source with code "%value" does not exist.',
        "parameters": {"value": "nowhere"},
    }


def test_stocks_their_links_and_sources_by_priority(v1, default_stock):
    add_source("east", priority=0)

    assert parse(v1.get(f"{V1}/inventory/stocks"))["items"] == [{"stock_id": 1, "name": "Default Stock"}]
    assert parse(v1.get(f"{V1}/inventory/stocks/1")) == {"stock_id": 1, "name": "Default Stock"}
    assert v1.get(f"{V1}/inventory/stocks/9").status_code == 404
    links = parse(v1.get(f"{V1}/inventory/stock-source-links", criteria(("stock_id", "1"))))
    assert links["items"] == [
        {"stock_id": 1, "source_code": "default", "priority": 1},
        {"stock_id": 1, "source_code": "east", "priority": 0},
    ]
    ordered = parse(v1.get(f"{V1}/inventory/get-sources-assigned-to-stock-ordered-by-priority/1"))
    assert [source["source_code"] for source in ordered] == ["east", "default"]


# -- source items ------------------------------------------------------------------------------------------------


def test_post_source_items_sets_quantities_and_answers_an_empty_array(v1, default_stock):
    response = post_source_items(
        v1,
        [
            {"sku": "vp1", "source_code": "default", "quantity": 10000, "status": 1},
            {"sku": "dl1", "source_code": "default", "quantity": "2.5", "status": 0},
        ],
    )

    assert response.status_code == 200 and parse(response) == []
    assert {(i.sku, i.quantity, i.status) for i in SourceItem.objects.all()} == {
        ("vp1", Decimal(10000), SourceItemStatus.IN_STOCK),
        ("dl1", Decimal("2.5"), SourceItemStatus.OUT_OF_STOCK),
    }
    assert set(StockItemConfiguration.objects.values_list("sku", "manage_stock", "min_qty")) == {
        ("vp1", True, Decimal(0)),
        ("dl1", True, Decimal(0)),
    }


def test_post_source_items_again_sets_the_quantity_it_does_not_add(v1, default_stock):
    set_source_items(v1, ("vp1", "default", 10))
    set_source_items(v1, ("vp1", "default", 4))

    assert quantity_per_source(v1, "vp1") == {"default": Decimal(4)}


def test_get_source_items_requires_search_criteria(v1, default_stock):
    response = v1.get(f"{V1}/inventory/source-items")

    assert response.status_code == 400
    assert parse(response) == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "searchCriteria"},
    }


def test_get_source_items_answers_magentos_search_results(v1, default_stock):
    add_source("east", priority=2)
    set_source_items(v1, ("vp1", "default", 3), ("vp1", "east", "1.5"), ("vp2", "default", 0, 0))

    east = parse(v1.get(f"{V1}/inventory/source-items", criteria(("source_code", "east"))))
    vps = parse(v1.get(f"{V1}/inventory/source-items", criteria(("sku", "vp%", "like"), ("quantity", "1", "gt"))))

    assert east == {
        "items": [{"sku": "vp1", "source_code": "east", "quantity": Decimal("1.5"), "status": 1}],
        "search_criteria": {
            "filter_groups": [{"filters": [{"field": "source_code", "value": "east", "condition_type": "eq"}]}]
        },
        "total_count": 1,
    }
    assert [(item["sku"], item["source_code"], item["quantity"]) for item in vps["items"]] == [
        ("vp1", "default", Decimal(3)),
        ("vp1", "east", Decimal("1.5")),
    ]


def test_listing_source_items_runs_the_same_queries_for_1_and_40_items(v1, default_stock, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0  # "token 1" in the count below
    url = f"{V1}/inventory/source-items"
    counts = {}
    for size in (1, 40):
        set_source_items(v1, *[(f"sku-{size}-{n}", "default", n) for n in range(size)])
        with CaptureQueriesContext(connection) as queries:
            response = v1.get(url, criteria(("sku", f"sku-{size}-%", "like")))
        assert len(parse(response)["items"]) == size
        counts[size] = len(queries.captured_queries)
    # token 1 + count 1 + page 1
    assert counts == {1: 3, 40: 3}


@pytest.mark.parametrize(
    ("items", "message", "errors"),
    [
        (
            [{"sku": "", "source_code": "default", "quantity": 1, "status": 1}],
            'Validation Failed: "sourceItems[0].sku" can not be empty.',
            [{"message": '"%field" can not be empty.', "parameters": {"field": "sourceItems[0].sku"}}],
        ),
        (
            [{"sku": "vp1", "source_code": "my source", "quantity": "ten", "status": 3}],
            'Validation Failed: "sourceItems[0].source_code" can not contain whitespaces.',
            [
                {
                    "message": '"%field" can not contain whitespaces.',
                    "parameters": {"field": "sourceItems[0].source_code"},
                },
                {"message": '"%field" should be numeric.', "parameters": {"field": "sourceItems[0].quantity"}},
                {"message": '"%field" should a known status.', "parameters": {"field": "sourceItems[0].status"}},
            ],
        ),
        (
            [
                {"sku": "vp1", "source_code": "default", "quantity": 1, "status": 1},
                {"sku": "vp2", "source_code": "default", "quantity": -1, "status": 1},
            ],
            'Validation Failed: "sourceItems[1].quantity" can not be negative.',
            [{"message": '"%field" can not be negative.', "parameters": {"field": "sourceItems[1].quantity"}}],
        ),
        (
            [{"sku": "vp1", "source_code": "nowhere", "quantity": 1, "status": 1}],
            'Validation Failed: Source with code "nowhere" does not exist.',
            [{"message": 'Source with code "%value" does not exist.', "parameters": {"value": "nowhere"}}],
        ),
        (
            [{"sku": "vp1", "source_code": "default", "quantity": "0.00001", "status": True}],
            'Validation Failed: "sourceItems[0].quantity" should be a quantity of at most 8 digits and 4 decimals.',
            [
                {
                    "message": '"%field" should be a quantity of at most 8 digits and 4 decimals.',
                    "parameters": {"field": "sourceItems[0].quantity"},
                },
                {"message": '"%field" should be numeric.', "parameters": {"field": "sourceItems[0].status"}},
            ],
        ),
        (
            [{"sku": "vp1", "source_code": "nowhere", "quantity": -1, "status": 1}],
            'Validation Failed: "sourceItems[0].quantity" can not be negative.',
            [
                {"message": '"%field" can not be negative.', "parameters": {"field": "sourceItems[0].quantity"}},
                {"message": 'Source with code "%value" does not exist.', "parameters": {"value": "nowhere"}},
            ],
        ),
    ],
    ids=["empty-sku", "several-problems", "negative", "unknown-source", "precision", "negative-and-unknown-source"],
)
def test_invalid_source_items_are_refused_with_magentos_validation_errors_and_nothing_written(
    v1, default_stock, items, message, errors
):
    response = post_source_items(v1, items)

    assert response.status_code == 400
    assert parse(response) == {"message": message, "errors": errors}
    assert not SourceItem.objects.exists() and not StockItemConfiguration.objects.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": "sourceItems"}}),
        ({"sourceItems": []}, {"message": "Input data is empty"}),
        (
            {"sourceItems": {"sku": "vp1"}},
            {
                "message": 'Invalid value of "%value" provided for the %fieldName field.',
                "parameters": {"value": "dict", "fieldName": "sourceItems"},
            },
        ),
    ],
    ids=["missing", "empty", "not-a-list"],
)
def test_a_body_without_source_items_is_400(v1, default_stock, body, expected):
    response = post_json(v1, f"{V1}/inventory/source-items", body)

    assert response.status_code == 400
    assert parse(response) == expected


# -- salable quantity ------------------------------------------------------------------------------------------------


def test_salable_quantity_is_a_bare_json_number(v1, default_stock):
    set_source_items(v1, ("vp1", "default", "9998.5"))

    response = v1.get(f"{V1}/inventory/get-product-salable-quantity/vp1/1")

    assert response.status_code == 200
    assert response.content == b"9998.5"


def test_salable_quantity_of_a_sku_with_a_slash(v1, default_stock):
    set_source_items(v1, ("a/b", "default", 3))

    assert v1.get(f"{V1}/inventory/get-product-salable-quantity/a%2Fb/1").content == b"3"
    assert salable_qty(v1, "a%2Fb") == Decimal(3)


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("vp1/9", 404, {"message": 'Stock with id "%value" does not exist.', "parameters": {"value": 9}}),
        (
            "nobody/1",
            404,
            {"message": "The product that was requested doesn't exist. Verify the product and try again."},
        ),
        (
            "vp1/one",
            400,
            {
                "message": 'Invalid value of "%value" provided for the %fieldName field.',
                "parameters": {"value": "one", "fieldName": "stockId"},
            },
        ),
    ],
    ids=["unknown-stock", "unknown-product", "bad-stock-id"],
)
def test_salable_quantity_errors(v1, default_stock, path, status, expected):
    set_source_items(v1, ("vp1", "default", 3))

    response = v1.get(f"{V1}/inventory/get-product-salable-quantity/{path}")

    assert response.status_code == status
    assert parse(response) == expected
