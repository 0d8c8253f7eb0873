"""Seed 004's "Supported usage patterns" of ``/api2/invoice``, each sent as the seed writes it, plus its list rules.

Ids and numbers are ours: the order the seed calls ``100000123`` is imported under that number, and
the seed's invoice ``100000045`` / ``456`` and order item ``10`` / ``PRODUCT-001`` become the ones we created.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from payments.gateways.sandbox import LEDGER
from payments.models import Transaction
from sales.models import Invoice, InvoiceState, OrderItem
from sales.services import CaptureCase, InvoiceCommentRequest, InvoiceLineRequest, invoice_order
from tests.conftest import load_seed_order
from tests.factories import OrderFactory
from tests.helpers import V1, parse, post_json

pytestmark = pytest.mark.django_db

ORDER_NUMBER = "100000123"
FULL_CAPTURE_COMMENT = "Invoice created by integration."
UTC = datetime.UTC


@pytest.fixture(autouse=True)
def fresh_sandbox():
    LEDGER.reset()
    yield
    LEDGER.reset()


def ids(body: dict) -> list[int]:
    return [invoice["entity_id"] for invoice in body["invoices"]]


def invoice(order, capture=CaptureCase.OFFLINE, **lines: int) -> Invoice:
    """Invoice ``order`` through the service; ``lines`` maps SKU -> qty (empty: everything left)."""
    items = [InvoiceLineRequest(order_item_id=None, sku=sku, qty=Decimal(qty)) for sku, qty in lines.items()]
    return invoice_order(order_id=order.pk, capture_case=capture, items=items)


@pytest.fixture
def seed_001(default_store):
    """Seed 001's order (24-WB03 x 20, 24-WB01 x 40, 240-LV06 x 1) from ``OrderFactory``, a new number each call."""
    return lambda **overrides: OrderFactory(seed_001=True, **overrides)


def one_unit_invoices(order, count: int, capture=CaptureCase.OFFLINE) -> list[Invoice]:
    return [invoice(order, capture, **{"24-WB01": 1}) for _ in range(count)]


# -- the six supported usage patterns ----------------------------------------------------------------


def test_pending_list_with_pagination_has_only_state_1_and_the_page_block(v1, seed_001):
    order = seed_001()
    pending = [invoice(order, CaptureCase.NOT_CAPTURE, **{"24-WB01": 1}) for _ in range(2)]
    one_unit_invoices(order, 2)  # Paid

    response = v1.get("/api2/invoice?state=1&include_pagination=1")

    assert response.status_code == 200, response.content
    body = parse(response)
    assert sorted(body) == ["invoices", "next_cursor", "pagination"]
    assert body["next_cursor"] is None  # the last page
    assert ids(body) == sorted((i.pk for i in pending), reverse=True)
    assert {i["state"] for i in body["invoices"]} == {InvoiceState.OPEN}
    assert body["pagination"] == {"page": 1, "limit": 50, "total": 2, "pages": 1}


def test_list_by_order_increment_id_has_that_orders_invoices_only(v1, seed_001):
    wanted = seed_001(increment_id=ORDER_NUMBER)
    theirs = one_unit_invoices(wanted, 2)
    one_unit_invoices(seed_001(), 1)

    response = v1.get(f"/api2/invoice?order_increment_id={ORDER_NUMBER}")

    assert response.status_code == 200, response.content
    body = parse(response)
    assert sorted(body) == ["invoices", "next_cursor"]
    assert ids(body) == sorted((i.pk for i in theirs), reverse=True)
    assert {i["order_increment_id"] for i in body["invoices"]} == {ORDER_NUMBER}
    assert {i["order_id"] for i in body["invoices"]} == {wanted.pk}


@pytest.mark.parametrize("by", ["increment_id", "id"])
def test_lookup_answers_the_v1_invoice_plus_order_increment_id_under_invoice(v1, seed_001, by):
    order = seed_001(increment_id=ORDER_NUMBER)
    wanted = invoice_order(
        order_id=order.pk,
        comment=InvoiceCommentRequest(comment="noted"),
        items=[InvoiceLineRequest(order_item_id=None, sku="24-WB03", qty=Decimal(2))],
    )
    one_unit_invoices(order, 1)
    key = wanted.increment_id if by == "increment_id" else wanted.pk

    response = v1.get(f"/api2/invoice?{by}={key}")

    assert response.status_code == 200, response.content
    body = parse(response)
    assert sorted(body) == ["invoice"]
    v1_invoice = parse(v1.get(f"{V1}/invoices/{wanted.pk}"))
    assert body["invoice"] == {**v1_invoice, "order_increment_id": ORDER_NUMBER}
    assert body["invoice"]["increment_id"] == wanted.increment_id
    assert [c["comment"] for c in body["invoice"]["comments"]] == ["noted"]


def test_full_capture_offline_pays_everything_and_keeps_the_comment_in_invoice_and_order_history(v1, import_order):
    order = import_order(load_seed_order("000"), increment_id=ORDER_NUMBER)
    body = {
        "order_increment_id": ORDER_NUMBER,
        "capture": "offline",
        "send_email": True,
        "comment": FULL_CAPTURE_COMMENT,
    }

    response = post_json(v1, "/api2/invoice/create", body)

    assert response.status_code == 201, response.content
    created = parse(response)["invoice"]
    assert created["state"] == InvoiceState.PAID
    assert created["order_id"] == order.pk and created["order_increment_id"] == ORDER_NUMBER
    assert created["grand_total"] == Decimal("165")
    assert [c["comment"] for c in created["comments"]] == [FULL_CAPTURE_COMMENT]
    saved = Invoice.objects.get(pk=created["entity_id"])
    assert saved.send_email == 1 and saved.email_sent is None
    v1_order = parse(v1.get(f"{V1}/orders/{order.pk}"))
    assert FULL_CAPTURE_COMMENT in [h["comment"] for h in v1_order["status_histories"]]
    assert v1_order["total_paid"] == v1_order["total_invoiced"] == Decimal("165")
    assert all(i["qty_invoiced"] == i["qty_ordered"] for i in v1_order["items"])


def test_partial_no_capture_invoices_only_the_named_rows_and_stays_pending(v1, seed_001):
    order = seed_001()
    by_id = OrderItem.objects.get(order=order, sku="24-WB03")
    body = {
        "order_id": order.pk,
        "items": [{"order_item_id": by_id.pk, "qty": 1}, {"sku": "24-WB01", "qty": 2}],
        "capture": "no_capture",
    }

    response = post_json(v1, "/api2/invoice/create", body)

    assert response.status_code == 201, response.content
    created = parse(response)["invoice"]
    assert created["state"] == InvoiceState.OPEN
    assert sorted((row["sku"], row["qty"]) for row in created["items"]) == [("24-WB01", 2), ("24-WB03", 1)]
    assert created["total_qty"] == 3
    order.refresh_from_db()
    assert not order.total_paid
    assert {i.sku: i.qty_invoiced for i in order.items.all()} == {"24-WB03": 1, "24-WB01": 2, "240-LV06": 0}


def test_email_resend_answers_202_queued_and_asks_the_worker_again(v1, seed_001):
    sent = one_unit_invoices(seed_001(), 1)[0]
    Invoice.objects.filter(pk=sent.pk).update(send_email=None, email_sent=1)

    body = {"invoice_id": sent.pk, "comment": "Resend requested by integration."}
    response = post_json(v1, "/api2/invoice/email", body)

    assert response.status_code == 202, response.content
    assert parse(response) == {"invoice_id": sent.pk, "queued": True}
    sent.refresh_from_db()
    assert sent.send_email == 1 and sent.email_sent is None
    assert [c.comment for c in sent.comments.all()] == ["Resend requested by integration."]


# -- list rules ---------------------------------------------------------------------------------------


def test_plural_alias_answers_as_the_singular(v1, seed_001):
    one_unit_invoices(seed_001(), 3)
    query = "?include_pagination=1&limit=2&page=2"

    plural = v1.get(f"/api2/invoices{query}")

    assert plural.status_code == 200, plural.content
    assert parse(plural) == parse(v1.get(f"/api2/invoice{query}"))
    assert parse(plural)["pagination"] == {"page": 2, "limit": 2, "total": 3, "pages": 2}


def test_page_two_of_limit_one_is_the_second_newest(v1, seed_001):
    made = one_unit_invoices(seed_001(), 3)

    body = parse(v1.get("/api2/invoice?page=2&limit=1&include_pagination=1"))

    assert ids(body) == [made[1].pk]
    assert body["pagination"] == {"page": 2, "limit": 1, "total": 3, "pages": 3}


def test_page_past_the_end_is_empty(v1, seed_001):
    one_unit_invoices(seed_001(), 1)

    body = parse(v1.get("/api2/invoice?page=3&include_pagination=1"))

    assert body == {
        "invoices": [],
        "next_cursor": None,
        "pagination": {"page": 3, "limit": 50, "total": 1, "pages": 1},
    }


def test_limit_200_is_the_maximum(v1):
    assert v1.get("/api2/invoice?limit=200").status_code == 200


@pytest.mark.parametrize("query", ["limit=201", "limit=0", "limit=-1", "limit=x"])
def test_limit_outside_1_to_200_is_400(v1, query):
    response = v1.get(f"/api2/invoice?{query}")

    assert response.status_code == 400
    assert parse(response) == {"error": "Invalid limit: expected a whole number from 1 to 200"}


@pytest.mark.parametrize("query", ["page=0", "page=abc"])
def test_page_below_1_is_400(v1, query):
    response = v1.get(f"/api2/invoice?{query}")

    assert response.status_code == 400
    assert parse(response) == {"error": "Invalid page: expected a whole number from 1 to 1000000000"}


def test_unknown_parameter_is_400_naming_it(v1):
    response = v1.get("/api2/invoice?state=1&searchCriteria=1")

    assert response.status_code == 400
    assert parse(response) == {"error": "Unknown parameter: searchCriteria"}


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


# Both ends of the seed's range are whole days: the last microsecond of 2026-12-31 is in, 2027 is out.
AROUND_2026 = ["2025-12-31T23:59:59.999999", "2026-01-01T00:00:00", "2026-12-31T23:59:59.999999", "2027-01-01T00:00:00"]


@pytest.mark.parametrize("field", ["created", "updated"])
def test_date_filters_are_inclusive_whole_utc_days(v1, seed_001, field):
    made = one_unit_invoices(seed_001(increment_id=ORDER_NUMBER), 4)
    for made_invoice, moment in zip(made, AROUND_2026, strict=True):
        Invoice.objects.filter(pk=made_invoice.pk).update(**{f"{field}_at": at(moment)})
    pks = [i.pk for i in made]

    both = parse(v1.get(f"/api2/invoice?{field}_from=2026-01-01&{field}_to=2026-12-31"))
    since = parse(v1.get(f"/api2/invoice?{field}_from=2026-01-01"))
    until = parse(v1.get(f"/api2/invoice?{field}_to=2026-12-31"))
    one_day = parse(v1.get(f"/api2/invoice?{field}_from=2026-12-31&{field}_to=2026-12-31"))

    assert ids(both) == [pks[2], pks[1]]
    assert ids(since) == [pks[3], pks[2], pks[1]]
    assert ids(until) == [pks[2], pks[1], pks[0]]
    assert ids(one_day) == [pks[2]]


def test_seed_list_example_combines_paging_order_number_and_dates(v1, seed_001):
    made = one_unit_invoices(seed_001(increment_id=ORDER_NUMBER), 4)
    one_unit_invoices(seed_001(), 1)
    for made_invoice, moment in zip(made, AROUND_2026, strict=True):
        Invoice.objects.filter(pk=made_invoice.pk).update(created_at=at(moment))

    body = parse(
        v1.get(
            "/api2/invoice?page=1&limit=50&include_pagination=1&order_increment_id=100000123"
            "&created_from=2026-01-01&created_to=2026-12-31"
        )
    )

    assert ids(body) == [made[2].pk, made[1].pk]
    assert body["pagination"] == {"page": 1, "limit": 50, "total": 2, "pages": 1}


def test_invalid_date_is_400_naming_the_parameter(v1):
    response = v1.get("/api2/invoice?created_from=2026-13-01")

    assert response.status_code == 400
    assert parse(response)["error"].startswith("Invalid created_from: ")


def test_order_id_filter_keeps_that_orders_invoices(v1, seed_001):
    first, second = seed_001(), seed_001()
    one_unit_invoices(first, 2)
    theirs = one_unit_invoices(second, 2)

    body = parse(v1.get(f"/api2/invoice?order_id={second.pk}"))

    assert ids(body) == [theirs[1].pk, theirs[0].pk]


@pytest.mark.parametrize("state", [InvoiceState.OPEN, InvoiceState.PAID, InvoiceState.CANCELED])
def test_state_filter_keeps_that_state(v1, seed_001, state):
    order = seed_001()
    made = {
        InvoiceState.OPEN: invoice(order, CaptureCase.NOT_CAPTURE, **{"24-WB01": 1}),
        InvoiceState.PAID: invoice(order, **{"24-WB01": 1}),
    }
    made[InvoiceState.CANCELED] = invoice(order, CaptureCase.NOT_CAPTURE, **{"24-WB01": 1})
    Invoice.objects.filter(pk=made[InvoiceState.CANCELED].pk).update(state=InvoiceState.CANCELED)

    body = parse(v1.get(f"/api2/invoice?state={state.value}"))

    assert ids(body) == [made[state].pk]


def test_unknown_state_is_400(v1):
    response = v1.get("/api2/invoice?state=9")

    assert response.status_code == 400
    assert parse(response)["error"].startswith("Invalid state: ")


# Each field's values put the three invoices (oldest id first) in an order that is not their id order.
SORT_VALUES = {
    "created_at": {"created_at": [at("2026-03-01T00:00:00"), at("2026-01-01T00:00:00"), at("2026-02-01T00:00:00")]},
    "updated_at": {"updated_at": [at("2026-02-01T00:00:00"), at("2026-03-01T00:00:00"), at("2026-01-01T00:00:00")]},
    "increment_id": {"increment_id": ["900000002", "900000003", "900000001"]},
    "grand_total": {"grand_total": [Decimal("10.50"), Decimal("9.99"), Decimal("100.00")]},
}


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort", ["entity_id", *SORT_VALUES])
def test_sort_orders_by_the_field_in_the_direction(v1, seed_001, sort, direction):
    made = one_unit_invoices(seed_001(), 3)
    for field, values in SORT_VALUES.get(sort, {}).items():
        for made_invoice, value in zip(made, values, strict=True):
            Invoice.objects.filter(pk=made_invoice.pk).update(**{field: value})
    key = "pk" if sort == "entity_id" else sort
    expected = [i.pk for i in sorted(Invoice.objects.all(), key=lambda i: getattr(i, key), reverse=direction == "desc")]

    body = parse(v1.get(f"/api2/invoice?sort={sort}&direction={direction}"))

    assert ids(body) == expected
    assert len(set(expected)) == 3 and (
        sort == "entity_id" or expected not in ([i.pk for i in made], [i.pk for i in made][::-1])
    )


def test_default_sort_is_entity_id_desc(v1, seed_001):
    made = one_unit_invoices(seed_001(), 3)

    assert ids(parse(v1.get("/api2/invoice"))) == [made[2].pk, made[1].pk, made[0].pk]


def test_unknown_sort_field_is_400(v1):
    response = v1.get("/api2/invoice?sort=customer_id")

    assert response.status_code == 400
    assert parse(response) == {
        "error": "Invalid sort: expected one of entity_id, created_at, updated_at, increment_id, grand_total"
    }


# -- capture online and SKUs ----------------------------------------------------------------------------


def test_capture_online_with_a_gateway_method_pays_with_a_capture_transaction(v1, seed_001):
    order = seed_001(gateway_paid=True, sandbox_outcome="approve")

    response = post_json(v1, "/api2/invoice/create", {"order_id": order.pk, "capture": "online"})

    assert response.status_code == 201, response.content
    created = parse(response)["invoice"]
    assert created["state"] == InvoiceState.PAID
    capture = Transaction.objects.get(order_id=order.pk, txn_type=Transaction.Type.CAPTURE)
    assert created["transaction_id"] == capture.txn_id
    assert capture.amount == created["base_grand_total"]
    order.refresh_from_db()
    assert order.total_paid == order.grand_total
    assert LEDGER.movements["capture"] == 1


def test_sku_of_a_configurable_invoices_the_priced_parent_and_its_child_follows(v1, import_order):
    order = import_order(load_seed_order("000"), increment_id=ORDER_NUMBER)
    parent = OrderItem.objects.get(order=order, sku="MH01-S-Gray", parent_item__isnull=True)
    child = OrderItem.objects.get(order=order, sku="MH01-S-Gray", parent_item=parent)

    body = {"order_id": order.pk, "items": [{"sku": "MH01-S-Gray", "qty": 1}]}
    response = post_json(v1, "/api2/invoice/create", body)

    assert response.status_code == 201, response.content
    rows = {row["order_item_id"]: row for row in parse(response)["invoice"]["items"]}
    assert set(rows) == {parent.pk, child.pk}
    assert rows[parent.pk]["row_total"] == Decimal("52") and rows[parent.pk]["qty"] == 1
    assert parse(response)["invoice"]["subtotal"] == Decimal("52")
    parent.refresh_from_db()
    child.refresh_from_db()
    assert parent.qty_invoiced == child.qty_invoiced == 1


def test_a_lookup_by_an_id_no_column_can_hold_is_404_not_a_server_error(v1):
    response = v1.get("/api2/invoice", {"id": "99999999999999999999"})

    assert response.status_code == 404
