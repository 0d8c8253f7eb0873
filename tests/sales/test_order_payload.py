"""Reading an order entity into a frozen draft (sales.payloads.order) apart from storing it
(sales.services.order_import.order_create)."""

from __future__ import annotations

import copy
import dataclasses
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sales.errors import InputError
from sales.models import Order, OrderItem
from sales.payloads.order import parse_order
from sales.services import order_create
from tests.conftest import load_seed_order

pytestmark = pytest.mark.django_db

SHIPPING_ADDRESS = "extension_attributes.shipping_assignments[0].shipping.address"


def seed_entity() -> dict:
    """Seed 000: a tee, a download, a bundle with four children (rows 3-6), a configurable with one (row 8)."""
    entity = copy.deepcopy(load_seed_order("000")["entity"])
    entity.pop("increment_id")
    return entity


def test_a_parsed_order_is_a_frozen_draft_whose_rows_name_their_parents_by_position(default_store):
    draft = parse_order(seed_entity(), store_id=default_store.id)

    assert [item.parent for item in draft.items] == [None, None, None, 2, 2, 2, 2, None, 7]
    with pytest.raises(dataclasses.FrozenInstanceError):
        draft.store_id = 2
    with pytest.raises(TypeError):
        draft.header["grand_total"] = Decimal(0)
    with pytest.raises(TypeError):
        draft.items[0].values["sku"] = "changed"


def test_reading_an_order_writes_nothing_and_only_asks_whether_its_store_exists(default_store):
    with CaptureQueriesContext(connection) as queries:
        parse_order(seed_entity(), store_id=default_store.id)

    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["SELECT"]
    assert "sales_store" in queries.captured_queries[0]["sql"]


def test_every_problem_of_an_entity_is_reported_at_once_in_the_entitys_order(default_store):
    entity = seed_entity()
    entity.update(created_at="yesterday", store_id=999, customer_email=None, payment={})
    entity["items"][3]["qty_ordered"] = 0
    entity["items"][8]["parent_item_id"] = 3  # the tee, which is not composite: the configurable has no child left
    del entity["billing_address"]["city"]
    del entity["extension_attributes"]

    with pytest.raises(InputError) as refused:
        parse_order(entity, store_id=default_store.id)

    assert [(problem.code, problem.parameters) for problem in refused.value.errors] == [
        ("invalid_value", {"value": "yesterday", "fieldName": "created_at"}),
        ("invalid_value", {"value": 999, "fieldName": "store_id"}),
        ("required", {"fieldName": "customer_email"}),
        ("invalid_value", {"value": Decimal(0), "fieldName": "items[3].qty_ordered"}),
        ("invalid_value", {"value": 3, "fieldName": "items[8].parent_item_id"}),
        ("invalid_value", {"value": "configurable without child items", "fieldName": "items[7].product_type"}),
        ("required", {"fieldName": "billing_address.city"}),
        ("required", {"fieldName": "payment.method"}),
        ("required", {"fieldName": SHIPPING_ADDRESS}),
    ]


def test_totals_are_the_services_rule_and_a_draft_that_does_not_add_up_writes_nothing(default_store):
    entity = seed_entity()
    entity["grand_total"] += 1
    draft = parse_order(entity, store_id=default_store.id)  # every value fits its column

    with pytest.raises(InputError) as refused:
        order_create(draft=draft)

    assert refused.value.parameters["fieldName"] == "grand_total"
    assert not Order.objects.exists()


def test_one_draft_stored_twice_makes_two_equal_orders_so_a_re_run_starts_from_the_same_draft(default_store):
    draft = parse_order(seed_entity(), store_id=default_store.id)

    first, second = order_create(draft=draft), order_create(draft=draft)

    def shape(order):
        rows = list(OrderItem.objects.filter(order=order).order_by("pk"))
        position = {row.pk: index for index, row in enumerate(rows)}
        return [(row.sku, position.get(row.parent_item_id)) for row in rows], order.grand_total

    assert first.increment_id != second.increment_id
    assert shape(first) == shape(second)
    children = [parent for _sku, parent in shape(first)[0]]
    assert children == [None, None, None, 2, 2, 2, 2, None, 7]
