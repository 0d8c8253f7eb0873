"""Order import refuses what it cannot store and bounds its size (issue 17).

Every string the import stores is held to its model field's ``max_length``, every integer to its
column's range and every date to what UTC can hold: a value that does not fit is Magento's 400 naming
the field, and nothing is written (PostgreSQL would refuse it with a 500). An order has at most
``ORDER_MAX_ITEMS`` items, checked before any item is read.
"""

from __future__ import annotations

import copy
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import Payment
from sales.models import Invoice, Order, OrderAddress, OrderItem
from sales.services import invoice_order
from tests.conftest import load_seed_order
from tests.helpers import answer, post_json

pytestmark = pytest.mark.django_db

IMPORT = "/rest/default/V1/orders"
INVALID_VALUE = 'Invalid value of "%value" provided for the %fieldName field.'
SHIPPING_METHOD = "extension_attributes.shipping_assignments[0].shipping.method"
TOO_MANY_ITEMS = "An order may have at most %limit items; this one has %count."


def seed_entity(name: str = "000") -> dict:
    return copy.deepcopy(load_seed_order(name)["entity"])


def send(v1, entity: dict):
    return answer(post_json(v1, IMPORT, {"entity": entity}))


def stored_rows() -> tuple[int, ...]:
    return Order.objects.count(), OrderItem.objects.count(), OrderAddress.objects.count(), Payment.objects.count()


def max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def one_too_many(model, name: str) -> str:
    return "x" * (max_length(model, name) + 1)


# -- strings longer than their column ----------------------------------------------------------------


def test_a_po_number_longer_than_its_column_is_refused_naming_it(v1):
    entity = seed_entity()
    entity["payment"]["po_number"] = "P" * 33  # payment.po_number is 32 characters

    assert send(v1, entity) == (
        400,
        {"message": INVALID_VALUE, "parameters": {"value": "P" * 33, "fieldName": "payment.po_number"}},
    )
    assert stored_rows() == (0, 0, 0, 0)


def test_a_po_number_that_fits_its_column_is_stored(v1):
    entity = seed_entity()
    entity["payment"]["po_number"] = "P" * 32

    status, body = send(v1, entity)

    assert status == 200, body
    assert Payment.objects.get().po_number == "P" * 32


def test_a_payment_method_of_300_characters_is_refused_naming_it(v1):
    entity = seed_entity()
    entity["payment"]["method"] = "m" * 300

    assert send(v1, entity) == (
        400,
        {"message": INVALID_VALUE, "parameters": {"value": "m" * 300, "fieldName": "payment.method"}},
    )
    assert stored_rows() == (0, 0, 0, 0)


def _set_header(entity, value):
    entity["customer_firstname"] = value


def _set_item_sku(entity, value):
    entity["items"][0]["sku"] = value


def _set_item_name(entity, value):
    entity["items"][2]["name"] = value


def _set_billing_city(entity, value):
    entity["billing_address"]["city"] = value


def _set_shipping_postcode(entity, value):
    entity["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]["postcode"] = value


def _set_shipping_method(entity, value):
    entity["extension_attributes"]["shipping_assignments"][0]["shipping"]["method"] = value


@pytest.mark.parametrize(
    ("change", "model", "column", "field_name"),
    [
        (_set_header, Order, "customer_firstname", "customer_firstname"),
        (_set_item_sku, OrderItem, "sku", "items[0].sku"),
        (_set_item_name, OrderItem, "name", "items[2].name"),
        (_set_billing_city, OrderAddress, "city", "billing_address.city"),
        (_set_shipping_postcode, OrderAddress, "postcode", "shipping_assignments[0].shipping.address.postcode"),
        (_set_shipping_method, Order, "shipping_method", SHIPPING_METHOD),
    ],
    ids=["header", "item-sku", "item-name", "billing-address", "shipping-address", "shipping-method"],
)
def test_every_stored_string_longer_than_its_column_is_refused_naming_it(v1, change, model, column, field_name):
    entity = seed_entity()
    change(entity, one_too_many(model, column))

    status, body = send(v1, entity)

    assert (status, body["message"], body["parameters"]["fieldName"]) == (400, INVALID_VALUE, field_name), body
    assert stored_rows() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("change", "model", "column"),
    [(_set_item_sku, OrderItem, "sku"), (_set_shipping_method, Order, "shipping_method")],
    ids=["item-sku", "shipping-method"],
)
def test_a_string_as_long_as_its_column_is_stored(v1, change, model, column):
    entity = seed_entity()
    change(entity, "y" * max_length(model, column))

    status, body = send(v1, entity)

    assert status == 200, body


def test_an_integer_beyond_its_column_is_refused_naming_it(v1):
    entity = seed_entity()
    entity["customer_id"] = 2**63  # a PositiveBigIntegerField: a bigint in PostgreSQL

    status, body = send(v1, entity)

    assert (status, body) == (
        400,
        {"message": INVALID_VALUE, "parameters": {"value": 2**63, "fieldName": "customer_id"}},
    )
    assert stored_rows() == (0, 0, 0, 0)


@pytest.mark.parametrize("created_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_date_beyond_what_utc_can_hold_is_refused_and_the_orders_still_read(v1, created_at):
    """Stored, 9999-12-31 at UTC-14 is in year 10000 and every later read of the order list was a 500."""
    entity = seed_entity()
    entity["created_at"] = created_at

    assert send(v1, entity) == (
        400,
        {"message": INVALID_VALUE, "parameters": {"value": created_at, "fieldName": "created_at"}},
    )
    assert v1.get("/rest/default/V1/orders?searchCriteria").status_code == 200
    assert stored_rows() == (0, 0, 0, 0)


def test_names_and_streets_as_long_as_their_columns_can_be_invoiced(v1):
    """The invoice grid joins names and address lines into columns of their own; a joined value longer
    than its grid column is cut to fit rather than refusing the invoice."""
    entity = seed_entity("001")
    entity["customer_firstname"] = "F" * max_length(Order, "customer_firstname")
    entity["customer_lastname"] = "L" * max_length(Order, "customer_lastname")
    entity["billing_address"]["firstname"] = "f" * max_length(OrderAddress, "firstname")
    entity["billing_address"]["lastname"] = "l" * max_length(OrderAddress, "lastname")
    entity["billing_address"]["street"] = ["s" * 800, "t" * 800]
    status, body = send(v1, entity)
    assert status == 200, body

    invoice = invoice_order(order_id=body["entity_id"])

    grid = Invoice.objects.select_related("grid_row").get(pk=invoice.pk).grid_row
    assert grid.customer_name.startswith("F" * 128 + " L")
    assert len(grid.billing_name) == 255 and len(grid.billing_address) == 1024


# -- the number of items -------------------------------------------------------------------------------


def test_an_order_of_more_items_than_order_max_items_is_refused_naming_the_limit(v1, settings):
    settings.ORDER_MAX_ITEMS = 2
    entity = seed_entity("001")  # three items

    assert send(v1, entity) == (
        400,
        {"message": TOO_MANY_ITEMS, "parameters": {"limit": 2, "count": 3}},
    )
    assert stored_rows() == (0, 0, 0, 0)


def test_an_order_of_as_many_items_as_order_max_items_is_stored(v1, settings):
    settings.ORDER_MAX_ITEMS = 3
    status, body = send(v1, seed_entity("001"))
    assert status == 200, body


def test_an_order_may_have_1000_items_by_default(v1):
    entity = seed_entity("001")
    entity["items"] = [{} for _ in range(1001)]

    assert send(v1, entity) == (
        400,
        {"message": TOO_MANY_ITEMS, "parameters": {"limit": 1000, "count": 1001}},
    )


def test_a_100000_item_order_is_refused_before_any_item_is_read(v1):
    """Each item is a null that per-item validation would report: the answer is the limit alone, no
    query runs for the order, and it comes back fast (8.5 s of a worker before the limit)."""
    entity = seed_entity("001")
    entity["items"] = [None] * 100_000
    send(v1, {})  # the first request of the process imports the URL modules: not the import's time

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        status, body = send(v1, entity)
    elapsed = time.perf_counter() - started

    assert (status, body) == (400, {"message": TOO_MANY_ITEMS, "parameters": {"limit": 1000, "count": 100_000}})
    assert not [query for query in queries.captured_queries if "sales_" in query["sql"]], queries.captured_queries
    assert elapsed < 1, f"{elapsed:.2f} s"
