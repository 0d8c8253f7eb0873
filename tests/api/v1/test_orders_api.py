"""/V1 orders and invoice reads: import, validation in Magento's shape, search, statuses and comments."""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from payments.models import Payment
from sales.api.json import dumps
from sales.errors import render_template
from sales.models import Invoice, InvoiceComment, Order, OrderAddress, OrderItem, OrderStatusHistory
from sales.services import CaptureCase, invoice_order
from tests.conftest import load_seed_order
from tests.helpers import parse, post_json

pytestmark = pytest.mark.django_db

NO_SUCH_ENTITY = {"message": "The entity that was requested doesn't exist. Verify the entity and try again."}
REQUIRED = '"%fieldName" is required. Enter and try again.'
INVALID_VALUE = 'Invalid value of "%value" provided for the %fieldName field.'
SEVERAL = "One or more input exceptions have occurred."


# -- helpers -------------------------------------------------------------------------------------


def seed_entity(name: str = "000") -> dict:
    return copy.deepcopy(load_seed_order(name)["entity"])


def problems(body: dict) -> list[tuple[str, dict]]:
    """Every (template, parameters) of a /V1 error body, single or aggregated."""
    if "errors" in body:
        return [(error["message"], error.get("parameters") or {}) for error in body["errors"]]
    return [(body["message"], body.get("parameters") or {})]


def field_names(body: dict) -> set[str]:
    return {parameters["fieldName"] for _, parameters in problems(body) if "fieldName" in parameters}


def rendered(body: dict) -> list[str]:
    return [render_template(template, parameters) for template, parameters in problems(body)]


def search_params(*filters, sort=(), page_size=None, current_page=None) -> str:
    """``searchCriteria`` query string: one filter group per (field, value, condition_type)."""
    pairs = [("searchCriteria", "")]
    for group, (field, value, condition) in enumerate(filters):
        prefix = f"searchCriteria[filter_groups][{group}][filters][0]"
        pairs += [(f"{prefix}[field]", field), (f"{prefix}[value]", value), (f"{prefix}[condition_type]", condition)]
    for index, (field, direction) in enumerate(sort):
        pairs += [(f"searchCriteria[sortOrders][{index}][field]", field)]
        pairs += [(f"searchCriteria[sortOrders][{index}][direction]", direction)]
    if page_size is not None:
        pairs.append(("searchCriteria[pageSize]", page_size))
    if current_page is not None:
        pairs.append(("searchCriteria[currentPage]", current_page))
    return urlencode(pairs)


def stored_rows() -> tuple[int, ...]:
    return (
        Order.objects.count(),
        OrderItem.objects.count(),
        OrderAddress.objects.count(),
        Payment.objects.count(),
    )


# -- import: POST /V1/orders and PUT /V1/orders/create -------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("post", "/rest/default/V1/orders"), ("put", "/rest/default/V1/orders/create")],
)
def test_import_answers_the_stored_order_new_and_pending(v1, method, url):
    entity = seed_entity()

    response = getattr(v1, method)(url, dumps({"entity": entity}), content_type="application/json")

    assert response.status_code == 200, response.content
    data = parse(response)
    order = Order.objects.get()
    assert data["entity_id"] == order.pk
    assert (data["state"], data["status"]) == ("new", "pending")
    assert data["increment_id"] == "000000003"
    assert data["store_id"] == 1
    assert data["grand_total"] == Decimal("165")
    assert data["customer_email"] == "roni_cost@example.com"
    assert data["payment"]["method"] == "checkmo"
    assert data["billing_address"]["city"] == "Calder"
    assert data["billing_address"]["street"] == ["6146 Honey Bluff Parkway"]
    assert data["billing_address"]["address_type"] == "billing"
    shipping = data["extension_attributes"]["shipping_assignments"][0]["shipping"]
    assert shipping["method"] == "flatrate_flatrate"
    assert shipping["address"]["address_type"] == "shipping"
    assert shipping["address"]["postcode"] == "49628-7978"


def test_import_stores_items_in_payload_order_with_children_linked_to_their_parents(v1):
    entity = seed_entity()

    response = post_json(v1, "/rest/default/V1/orders", {"entity": entity})

    assert response.status_code == 200, response.content
    items = parse(response)["items"]
    assert [item["sku"] for item in items] == [item["sku"] for item in entity["items"]]
    assert all(isinstance(item["item_id"], int) for item in items)
    assert len({item["item_id"] for item in items}) == len(items)
    # The payload's item_ids (3..11) are its own; parents are re-linked to the stored ids.
    stored_id_of = {sent["item_id"]: item["item_id"] for sent, item in zip(entity["items"], items, strict=True)}
    for sent, item in zip(entity["items"], items, strict=True):
        if "parent_item_id" in sent:
            assert item["parent_item_id"] == stored_id_of[sent["parent_item_id"]]
            assert item["parent_item"]["item_id"] == stored_id_of[sent["parent_item_id"]]
        else:
            assert "parent_item_id" not in item
    stored = {item.pk: item.parent_item_id for item in OrderItem.objects.all()}
    assert stored == {item["item_id"]: item.get("parent_item_id") for item in items}


def test_import_assigns_a_nine_digit_increment_id_when_none_is_given(v1):
    entity = seed_entity()
    del entity["increment_id"]

    first = post_json(v1, "/rest/default/V1/orders", {"entity": entity})
    second = post_json(v1, "/rest/default/V1/orders", {"entity": entity})

    assert (first.status_code, second.status_code) == (200, 200)
    numbers = [parse(first)["increment_id"], parse(second)["increment_id"]]
    assert all(re.fullmatch(r"[0-9]{9}", number) for number in numbers), numbers
    assert numbers[0] != numbers[1]


def test_import_keeps_a_given_increment_id_and_refuses_it_twice(v1):
    entity = seed_entity()
    first = post_json(v1, "/rest/default/V1/orders", {"entity": entity})
    before = stored_rows()

    again = post_json(v1, "/rest/default/V1/orders", {"entity": entity})

    assert parse(first)["increment_id"] == "000000003"
    assert again.status_code == 400
    assert parse(again) == {
        "message": INVALID_VALUE,
        "parameters": {"value": "000000003", "fieldName": "increment_id"},
    }
    assert stored_rows() == before


def test_import_without_entity_is_required(v1):
    response = post_json(v1, "/rest/default/V1/orders", {})

    assert response.status_code == 400
    assert parse(response) == {"message": REQUIRED, "parameters": {"fieldName": "entity"}}


def test_import_takes_money_sent_as_numeric_strings_exactly(v1):
    entity = seed_entity("001")
    entity["grand_total"] = "1917.60"

    response = post_json(v1, "/rest/default/V1/orders", {"entity": entity})

    assert response.status_code == 200, response.content
    assert b'"grand_total":1917.6,' in response.content
    assert Order.objects.get().grand_total == Decimal("1917.6")


def _drop_items(entity):
    del entity["items"]


def _empty_items(entity):
    entity["items"] = []


def _unknown_product_type(entity):
    entity["items"][0]["product_type"] = "gift_card"


def _parent_naming_nothing(entity):
    entity["items"][3]["parent_item_id"] = 999


def _configurable_without_child(entity):
    entity["items"] = [item for item in entity["items"] if item.get("parent_item_id") != 10]


def _qty_zero(entity):
    entity["items"][0]["qty_ordered"] = 0


def _qty_negative(entity):
    entity["items"][0]["qty_ordered"] = -1


def _grand_total_off(entity):
    entity["grand_total"] = Decimal("170")


def _subtotal_off_the_rows(entity):
    entity["subtotal"], entity["grand_total"] = Decimal("170"), Decimal("175")


def _no_payment_method(entity):
    entity["payment"] = {"additional_information": []}


def _no_payment(entity):
    del entity["payment"]


def _no_billing_address(entity):
    del entity["billing_address"]


def _letters_for_money(entity):
    entity["shipping_amount"] = "abc"


def _letters_for_item_price(entity):
    entity["items"][0]["price"] = "abc"


def _not_a_number_for_money(entity):
    entity["grand_total"] = "NaN"


def _infinity_for_money(entity):
    entity["discount_amount"] = "Infinity"


def _comma_decimal_for_money(entity):
    entity["shipping_amount"] = "5,00"


def _object_for_parent_item_id(entity):  # found by schemathesis: was a 500
    entity["items"][3]["parent_item_id"] = {}


def _list_for_item_id(entity):
    entity["items"][2]["item_id"] = [1]


def _text_for_extension_attributes(entity):
    entity["extension_attributes"] = "x"


def _text_for_shipping(entity):
    entity["extension_attributes"]["shipping_assignments"] = [{"shipping": "x"}]


@pytest.mark.parametrize(
    ("break_entity", "field_name"),
    [
        (_drop_items, "items"),
        (_empty_items, "items"),
        (_unknown_product_type, "items[0].product_type"),
        (_parent_naming_nothing, "items[3].parent_item_id"),
        (_configurable_without_child, "items[7].product_type"),
        (_qty_zero, "items[0].qty_ordered"),
        (_qty_negative, "items[0].qty_ordered"),
        (_grand_total_off, "grand_total"),
        (_subtotal_off_the_rows, "subtotal"),
        (_no_payment_method, "payment.method"),
        (_no_payment, "payment.method"),
        (_no_billing_address, "billing_address"),
        (_letters_for_money, "shipping_amount"),
        (_letters_for_item_price, "items[0].price"),
        (_not_a_number_for_money, "grand_total"),
        (_infinity_for_money, "discount_amount"),
        (_comma_decimal_for_money, "shipping_amount"),
        (_object_for_parent_item_id, "items[3].parent_item_id"),
        (_list_for_item_id, "items[2].item_id"),
        (_text_for_extension_attributes, "extension_attributes"),
        (_text_for_shipping, "extension_attributes.shipping_assignments[0].shipping"),
    ],
)
def test_an_invalid_order_is_refused_with_magentos_error_and_nothing_is_written(v1, break_entity, field_name):
    entity = seed_entity()
    break_entity(entity)
    before = stored_rows()

    response = post_json(v1, "/rest/default/V1/orders", {"entity": entity})

    assert response.status_code == 400, response.content
    body = parse(response)
    assert field_name in field_names(body), body
    assert any(field_name in message for message in rendered(body)), body
    for template, _parameters in problems(body):
        assert template in (REQUIRED, INVALID_VALUE), body
    assert stored_rows() == before


def test_a_grand_total_that_does_not_add_up_is_one_error_naming_grand_total(v1):
    entity = seed_entity()
    _grand_total_off(entity)

    response = post_json(v1, "/rest/default/V1/orders", {"entity": entity})

    assert response.status_code == 400
    body = parse(response)
    assert body["message"] == INVALID_VALUE
    assert body["parameters"]["fieldName"] == "grand_total"
    assert "grand_total" in render_template(body["message"], body["parameters"])
    assert Order.objects.count() == 0


def test_several_problems_are_reported_together(v1):
    entity = seed_entity()
    _no_billing_address(entity)
    _no_payment_method(entity)
    _qty_zero(entity)
    _unknown_product_type(entity)

    response = post_json(v1, "/rest/default/V1/orders", {"entity": entity})

    assert response.status_code == 400
    body = parse(response)
    assert set(body) == {"message", "errors"}
    assert body["message"] == SEVERAL
    assert all(set(error) == {"message", "parameters"} for error in body["errors"])
    assert field_names(body) >= {
        "billing_address",
        "payment.method",
        "items[0].qty_ordered",
        "items[0].product_type",
    }
    assert stored_rows() == (0, 0, 0, 0)


def test_a_body_that_is_not_json_is_a_400(v1):
    response = v1.post("/rest/default/V1/orders", b'{"entity": ', content_type="application/json")

    assert response.status_code == 400
    assert "message" in parse(response)
    assert Order.objects.count() == 0


# -- GET /V1/orders/{id} ---------------------------------------------------------------------------


def test_get_order_answers_what_the_import_answered(v1):
    created = post_json(v1, "/rest/default/V1/orders", {"entity": seed_entity("001")})
    order_id = parse(created)["entity_id"]

    response = v1.get(f"/rest/default/V1/orders/{order_id}")

    assert response.status_code == 200
    assert response.content == created.content


def test_get_unknown_order_is_404(v1):
    response = v1.get("/rest/default/V1/orders/987654")

    assert response.status_code == 404
    assert parse(response) == NO_SUCH_ENTITY


def test_get_order_shows_its_status_history(v1, import_order):
    order = import_order(load_seed_order("000"))
    post_json(v1, f"/rest/default/V1/orders/{order.pk}/comments", {"statusHistory": {"comment": "Called the customer"}})

    response = v1.get(f"/rest/default/V1/orders/{order.pk}")

    assert response.status_code == 200, response.content
    histories = parse(response)["status_histories"]
    assert [history["comment"] for history in histories] == ["Called the customer"]
    assert histories[0]["entity_id"] == OrderStatusHistory.objects.get().pk
    assert histories[0]["parent_id"] == order.pk


# -- GET /V1/orders (searchCriteria) -----------------------------------------------------------------


@pytest.fixture
def three_orders(import_order):
    """2017 (#000000003), 2020 (#000000004) and 2024 (#000000100, invoiced: processing)."""
    old = import_order(load_seed_order("000"))
    middle = import_order(load_seed_order("001"))
    recent = import_order(load_seed_order("000"), increment_id="000000100", created_at="2024-03-01 12:00:00")
    invoice_order(order_id=recent.pk)
    return old, middle, recent


def order_search(v1, query: str):
    response = v1.get(f"/rest/default/V1/orders?{query}")
    assert response.status_code == 200, response.content
    return parse(response)


def test_order_search_answers_items_search_criteria_and_total_count(v1, three_orders):
    data = order_search(v1, search_params())

    assert set(data) == {"items", "search_criteria", "total_count"}
    assert data["total_count"] == 3
    assert data["search_criteria"] == {"filter_groups": []}
    assert {item["increment_id"] for item in data["items"]} == {"000000003", "000000004", "000000100"}


def test_order_search_by_increment_id(v1, three_orders):
    data = order_search(v1, search_params(("increment_id", "000000004", "eq")))

    assert [item["increment_id"] for item in data["items"]] == ["000000004"]
    assert data["total_count"] == 1
    assert data["search_criteria"]["filter_groups"] == [
        {"filters": [{"field": "increment_id", "value": "000000004", "condition_type": "eq"}]}
    ]


def test_order_search_by_state(v1, three_orders):
    processing = order_search(v1, search_params(("state", "processing", "eq")))
    new = order_search(v1, search_params(("state", "new", "eq")))

    assert [item["increment_id"] for item in processing["items"]] == ["000000100"]
    assert {item["increment_id"] for item in new["items"]} == {"000000003", "000000004"}


def test_order_search_by_created_at_from_and_to(v1, three_orders):
    data = order_search(
        v1,
        search_params(("created_at", "2018-01-01 00:00:00", "from"), ("created_at", "2021-01-01", "to")),
    )

    assert [item["increment_id"] for item in data["items"]] == ["000000004"]
    assert data["items"][0]["created_at"] == "2020-07-23 16:55:10"


def test_order_search_sorts_and_pages(v1, three_orders):
    ascending = order_search(v1, search_params(sort=[("created_at", "ASC")]))
    descending = order_search(v1, search_params(sort=[("created_at", "DESC")]))
    second_page = order_search(v1, search_params(sort=[("created_at", "ASC")], page_size=2, current_page=2))

    assert [item["increment_id"] for item in ascending["items"]] == ["000000003", "000000004", "000000100"]
    assert [item["increment_id"] for item in descending["items"]] == ["000000100", "000000004", "000000003"]
    assert [item["increment_id"] for item in second_page["items"]] == ["000000100"]
    assert second_page["total_count"] == 3
    assert second_page["search_criteria"]["page_size"] == 2
    assert second_page["search_criteria"]["current_page"] == 2


def test_order_search_without_search_criteria_is_required(v1, three_orders):
    response = v1.get("/rest/default/V1/orders")

    assert response.status_code == 400
    body = parse(response)
    assert body == {"message": REQUIRED, "parameters": {"fieldName": "searchCriteria"}}
    assert render_template(body["message"], body["parameters"]) == '"searchCriteria" is required. Enter and try again.'


def test_order_search_on_a_field_the_route_does_not_allow_is_a_400(v1, three_orders):
    response = v1.get(f"/rest/default/V1/orders?{search_params(('protect_code', 'x', 'eq'))}")

    assert response.status_code == 400
    assert parse(response) == {
        "message": INVALID_VALUE,
        "parameters": {"value": "protect_code", "fieldName": "field"},
    }


# -- statuses and comments -------------------------------------------------------------------------


def test_order_status_is_a_bare_string(v1, import_order):
    order = import_order(load_seed_order("000"))

    response = v1.get(f"/rest/default/V1/orders/{order.pk}/statuses")

    assert response.status_code == 200
    assert response.content == b'"pending"'


def test_status_of_an_unknown_order_is_404(v1):
    response = v1.get("/rest/default/V1/orders/987654/statuses")

    assert response.status_code == 404
    assert parse(response) == NO_SUCH_ENTITY


def test_posting_an_order_comment_answers_true_and_stores_it(v1, import_order):
    order = import_order(load_seed_order("000"))
    history = {"comment": "Customer asked for gift wrap", "is_customer_notified": 0, "is_visible_on_front": 1}

    response = post_json(v1, f"/rest/default/V1/orders/{order.pk}/comments", {"statusHistory": history})

    assert response.status_code == 200
    assert response.content == b"true"
    stored = OrderStatusHistory.objects.get(order=order)
    assert (stored.comment, stored.is_customer_notified, stored.is_visible_on_front) == (
        "Customer asked for gift wrap",
        False,
        True,
    )
    assert stored.status == "pending"


def test_order_comments_list_what_was_posted(v1, import_order):
    order = import_order(load_seed_order("000"))
    post_json(
        v1,
        f"/rest/default/V1/orders/{order.pk}/comments",
        {
            "statusHistory": {
                "comment": "Customer asked for gift wrap",
                "is_customer_notified": 0,
                "is_visible_on_front": 1,
            }
        },
    )

    response = v1.get(f"/rest/default/V1/orders/{order.pk}/comments")

    assert response.status_code == 200, response.content
    data = parse(response)
    assert data["total_count"] == 1
    (comment,) = data["items"]
    assert comment["comment"] == "Customer asked for gift wrap"
    assert (comment["is_customer_notified"], comment["is_visible_on_front"]) == (0, 1)
    assert comment["parent_id"] == order.pk
    assert comment["status"] == "pending"
    assert comment["entity_id"] == OrderStatusHistory.objects.get().pk


def test_an_order_comment_with_a_status_the_state_does_not_allow_is_refused(v1, import_order):
    order = import_order(load_seed_order("000"))

    response = post_json(
        v1, f"/rest/default/V1/orders/{order.pk}/comments", {"statusHistory": {"comment": "Done", "status": "complete"}}
    )

    assert response.status_code == 400
    assert parse(response) == {
        "message": INVALID_VALUE,
        "parameters": {"value": "complete", "fieldName": "statusHistory.status"},
    }
    assert not OrderStatusHistory.objects.exists()
    order.refresh_from_db()
    assert order.status == "pending"


def test_an_order_comment_without_status_history_is_required(v1, import_order):
    order = import_order(load_seed_order("000"))

    response = post_json(v1, f"/rest/default/V1/orders/{order.pk}/comments", {"comment": "wrong shape"})

    assert response.status_code == 400
    assert parse(response) == {"message": REQUIRED, "parameters": {"fieldName": "statusHistory"}}


def test_comments_of_an_unknown_order_are_404(v1):
    listed = v1.get("/rest/default/V1/orders/987654/comments")
    posted = post_json(v1, "/rest/default/V1/orders/987654/comments", {"statusHistory": {"comment": "Hello"}})

    assert (listed.status_code, posted.status_code) == (404, 404)
    assert parse(listed) == parse(posted) == NO_SUCH_ENTITY


# -- invoices: list, comments ------------------------------------------------------------------------


@pytest.fixture
def paid_and_open_invoices(v1, import_order):
    """An invoice paid through the API (state 2) and one left open by the service (state 1)."""
    paid_order = import_order(load_seed_order("000"))
    open_order = import_order(load_seed_order("001"))
    response = post_json(v1, f"/rest/default/V1/order/{paid_order.pk}/invoice", {"capture": True})
    assert response.status_code == 200, response.content
    paid = Invoice.objects.get(pk=parse(response))
    open_ = invoice_order(order_id=open_order.pk, capture_case=CaptureCase.NOT_CAPTURE)
    return paid, open_


def invoice_search(v1, query: str):
    response = v1.get(f"/rest/default/V1/invoices?{query}")
    assert response.status_code == 200, response.content
    return parse(response)


def test_invoice_search_by_order_id(v1, paid_and_open_invoices):
    paid, open_ = paid_and_open_invoices

    data = invoice_search(v1, search_params(("order_id", str(open_.order_id), "eq")))

    assert set(data) == {"items", "search_criteria", "total_count"}
    assert [item["entity_id"] for item in data["items"]] == [open_.pk]
    assert data["items"][0]["order_id"] == open_.order_id
    assert data["total_count"] == 1


def test_invoice_search_by_state(v1, paid_and_open_invoices):
    paid, open_ = paid_and_open_invoices

    paid_found = invoice_search(v1, search_params(("state", "2", "eq")))
    open_found = invoice_search(v1, search_params(("state", "1", "eq")))

    assert [(item["entity_id"], item["state"]) for item in paid_found["items"]] == [(paid.pk, 2)]
    assert [(item["entity_id"], item["state"]) for item in open_found["items"]] == [(open_.pk, 1)]


def test_invoice_search_without_search_criteria_is_required(v1, paid_and_open_invoices):
    response = v1.get("/rest/default/V1/invoices")

    assert response.status_code == 400
    assert parse(response) == {"message": REQUIRED, "parameters": {"fieldName": "searchCriteria"}}


def test_invoice_comments_start_empty(v1, paid_and_open_invoices):
    paid, _ = paid_and_open_invoices

    response = v1.get(f"/rest/default/V1/invoices/{paid.pk}/comments")

    assert response.status_code == 200
    assert parse(response) == {"items": [], "total_count": 0}


def test_posting_an_invoice_comment_answers_it_and_lists_it(v1, paid_and_open_invoices):
    paid, _ = paid_and_open_invoices
    entity = {"parent_id": paid.pk, "comment": "Paid by cheque no. 1042", "is_visible_on_front": 1}

    response = post_json(v1, "/rest/default/V1/invoices/comments", {"entity": entity})

    assert response.status_code == 200, response.content
    comment = parse(response)
    stored = InvoiceComment.objects.get()
    assert comment["entity_id"] == stored.pk
    assert comment["parent_id"] == paid.pk
    assert comment["comment"] == "Paid by cheque no. 1042"
    assert comment["is_visible_on_front"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", comment["created_at"])

    listed = parse(v1.get(f"/rest/default/V1/invoices/{paid.pk}/comments"))
    assert listed == {"items": [comment], "total_count": 1}
    detail = parse(v1.get(f"/rest/default/V1/invoices/{paid.pk}"))
    assert detail["comments"] == [comment]


def test_an_invoice_comment_without_parent_id_is_refused(v1, paid_and_open_invoices):
    response = post_json(v1, "/rest/default/V1/invoices/comments", {"entity": {"comment": "Orphan"}})

    assert response.status_code == 400
    assert parse(response) == {"message": 'Cannot save comment:\n"Parent Invoice Id" is required. Enter and try again.'}
    assert not InvoiceComment.objects.exists()


def test_a_blank_invoice_comment_is_refused(v1, paid_and_open_invoices):
    paid, _ = paid_and_open_invoices

    response = post_json(v1, "/rest/default/V1/invoices/comments", {"entity": {"parent_id": paid.pk, "comment": "  "}})

    assert response.status_code == 400
    assert parse(response) == {"message": "Cannot save comment:\nComment can not be empty"}
    assert not InvoiceComment.objects.exists()


def test_an_invoice_comment_missing_both_fields_lists_both(v1, paid_and_open_invoices):
    response = post_json(v1, "/rest/default/V1/invoices/comments", {"entity": {}})

    assert response.status_code == 400
    assert parse(response) == {
        "message": 'Cannot save comment:\n"Parent Invoice Id" is required. Enter and try again.\n'
        '"Comment" is required. Enter and try again.'
    }


def test_invoice_comments_of_an_unknown_invoice_are_404(v1, paid_and_open_invoices):
    listed = v1.get("/rest/default/V1/invoices/987654/comments")
    posted = post_json(v1, "/rest/default/V1/invoices/comments", {"entity": {"parent_id": 987654, "comment": "Hello"}})

    assert (listed.status_code, posted.status_code) == (404, 404)
    assert parse(listed) == parse(posted) == NO_SUCH_ENTITY
    assert not InvoiceComment.objects.exists()
