"""Keyset paging of ``/api2/invoice``: ``next_cursor`` walks every row exactly once, for every sort and direction,
ties included, with filters and across inserts; a cursor that is not one of ours is 400 ``Invalid cursor``."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sales.api.api2.filters import SORT_FIELDS, Cursor
from sales.models import Invoice
from tests.factories import OrderFactory, numbered_lines
from tests.helpers import parse

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
START = datetime.datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
SORTS = list(SORT_FIELDS)


def page_body(response) -> dict:
    assert response.status_code == 200, response.content
    return parse(response)


def make_invoices(order, count: int, *, first: int = 0, state_of=lambda n: 1 + n % 2) -> list[int]:
    """``count`` invoices whose sort values tie in small groups: created_at, updated_at and grand_total repeat
    every 3, 4 and 5 invoices (two amounts are NULL), numbers repeat across stores... within one store they
    are unique, so they tie only in the id order they were made."""
    made = Invoice.objects.bulk_create(
        Invoice(
            order=order,
            store_id=order.store_id,
            increment_id=f"T{(first + n) % 7:03d}-{first + n:04d}",
            state=state_of(first + n),
            created_at=START + datetime.timedelta(minutes=(first + n) // 3),
            grand_total=None if (first + n) % 11 == 10 else Decimal("10.5000") * ((first + n) % 5),
        )
        for n in range(count)
    )
    for n, made_invoice in enumerate(made):  # updated_at is auto_now: set it after the insert
        Invoice.objects.filter(pk=made_invoice.pk).update(updated_at=START - datetime.timedelta(hours=(first + n) % 4))
    return [made_invoice.pk for made_invoice in made]


@pytest.fixture
def order(db):
    return OrderFactory(lines=numbered_lines(1))


def expected_order(sort: str, direction: str, queryset=None) -> list[int]:
    """The list's order, computed in Python: NULL amounts last ascending, first descending; ties by id."""
    rows = list((queryset or Invoice.objects.all()).values_list("pk", SORT_FIELDS[sort]))
    descending = direction == "desc"

    def key(row):
        invoice_id, value = row
        return value is None, value if value is not None else 0, invoice_id  # reversed when descending

    return [invoice_id for invoice_id, _ in sorted(rows, key=key, reverse=descending)]


def walk(client, query: str) -> list[int]:
    return walk_with_cursors(client, query)[0]


def walk_with_cursors(client, query: str) -> tuple[list[int], list[str]]:
    """The ids a walk answered, in order, and the cursors it followed."""
    seen, cursors, url = [], [], f"/api2/invoice?{query}"
    for _ in range(200):
        body = page_body(client.get(url))
        seen += [invoice["entity_id"] for invoice in body["invoices"]]
        if body["next_cursor"] is None:
            return seen, cursors
        assert len(body["invoices"]) > 0
        cursors.append(body["next_cursor"])
        url = f"/api2/invoice?{query}&cursor={body['next_cursor']}"
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort", SORTS)
def test_cursor_walks_every_invoice_exactly_once_in_the_lists_order(v1, order, sort, direction):
    make_invoices(order, 40)

    seen = walk(v1, f"limit=7&sort={sort}&direction={direction}")

    assert seen == expected_order(sort, direction)
    assert len(seen) == len(set(seen)) == 40


# Six invoices without an amount among amounts that tie in threes.
AMOUNTS = [None, "10.5", None, "0", "10.5", None, "21", None, "0", "10.5", None, "0", None]


@pytest.mark.parametrize("limit", [1, 2, 4, 5])
@pytest.mark.parametrize("direction", ["desc", "asc"])
def test_a_grand_total_walk_whose_cursor_sits_on_a_null_amount_answers_every_invoice_once_in_order(
    v1, order, direction, limit
):
    made = Invoice.objects.bulk_create(
        Invoice(
            order=order,
            store_id=order.store_id,
            increment_id=f"NULL-{n:03d}",
            state=1,
            created_at=START,
            grand_total=None if amount is None else Decimal(amount),
        )
        for n, amount in enumerate(AMOUNTS)
    )
    ids = [invoice.pk for invoice in made]

    def having(amount):
        return [invoice_id for invoice_id, stored in zip(ids, AMOUNTS, strict=True) if stored == amount]

    seen, cursors = walk_with_cursors(v1, f"limit={limit}&sort=grand_total&direction={direction}")

    # PostgreSQL's order, on both databases: NULLs first descending and last ascending; ties by id, same direction.
    if direction == "desc":
        expected = having(None)[::-1] + having("21") + having("10.5")[::-1] + having("0")[::-1]
    else:
        expected = having("0") + having("10.5") + having("21") + having(None)
    assert seen == expected
    descending = direction == "desc"
    on_a_null = [
        text for text in cursors if Cursor.decode(text, sort="grand_total", descending=descending).value is None
    ]
    assert on_a_null  # the walk did go on from a cursor inside the NULLs


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort", SORTS)
def test_cursor_pages_are_the_numbered_pages(v1, order, sort, direction):
    make_invoices(order, 25)
    by_number = []
    for page in range(1, 6):
        by_number += [
            i["entity_id"]
            for i in page_body(v1.get(f"/api2/invoice?limit=6&page={page}&sort={sort}&direction={direction}"))[
                "invoices"
            ]
        ]

    assert walk(v1, f"limit=6&sort={sort}&direction={direction}") == by_number


@pytest.mark.parametrize("sort", ["created_at", "grand_total"])
def test_cursor_keeps_the_filter(v1, order, sort):
    make_invoices(order, 30)

    seen = walk(v1, f"limit=4&sort={sort}&direction=asc&state=2")

    assert seen == expected_order(sort, "asc", Invoice.objects.filter(state=2))


def test_invoices_inserted_during_a_walk_do_not_repeat_or_hide_the_others(v1, order):
    before = make_invoices(order, 12)
    first = page_body(v1.get("/api2/invoice?limit=5&sort=entity_id&direction=desc"))
    newer = make_invoices(order, 4, first=100)  # ahead of the walk: a newest-first walk does not see them

    seen = [i["entity_id"] for i in first["invoices"]]
    seen += walk_from(v1, "limit=5&sort=entity_id&direction=desc", first["next_cursor"])

    assert seen == sorted(before, reverse=True)
    assert not set(newer) & set(seen)


def test_invoices_inserted_behind_the_cursor_are_reached_by_an_ascending_walk(v1, order):
    before = make_invoices(order, 10)
    first = page_body(v1.get("/api2/invoice?limit=4&sort=entity_id&direction=asc"))
    newer = make_invoices(order, 3, first=50)

    seen = [i["entity_id"] for i in first["invoices"]]
    seen += walk_from(v1, "limit=4&sort=entity_id&direction=asc", first["next_cursor"])

    assert seen == sorted(before + newer)


def walk_from(client, query: str, cursor: str) -> list[int]:
    seen = []
    while cursor is not None:
        body = page_body(client.get(f"/api2/invoice?{query}&cursor={cursor}"))
        seen += [invoice["entity_id"] for invoice in body["invoices"]]
        cursor = body["next_cursor"]
    return seen


def test_the_last_page_has_a_null_cursor_and_a_full_last_page_says_so_too(v1, order):
    make_invoices(order, 6)

    assert page_body(v1.get("/api2/invoice?limit=6"))["next_cursor"] is None
    assert page_body(v1.get("/api2/invoice?limit=5"))["next_cursor"] is not None
    assert page_body(v1.get("/api2/invoice?limit=5&page=2"))["next_cursor"] is None


def test_the_total_is_counted_on_a_numbered_page_not_again_on_every_cursor_page(v1, order):
    make_invoices(order, 5)
    first = page_body(v1.get("/api2/invoice?limit=2&include_pagination=1"))

    with CaptureQueriesContext(connection) as queries:
        body = page_body(v1.get(f"/api2/invoice?limit=2&cursor={first['next_cursor']}&include_pagination=1"))

    assert first["pagination"] == {"page": 1, "limit": 2, "total": 5, "pages": 3}
    assert "pagination" not in body
    assert len(body["invoices"]) == 2
    assert not [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]


def test_a_cursor_page_runs_the_queries_of_a_numbered_page(v1, order):
    make_invoices(order, 8)
    cursor = page_body(v1.get("/api2/invoice?limit=3&sort=created_at"))["next_cursor"]
    counts = []
    for url in ("/api2/invoice?limit=3&sort=created_at", f"/api2/invoice?limit=3&sort=created_at&cursor={cursor}"):
        with CaptureQueriesContext(connection) as queries:
            page_body(v1.get(url))
        counts.append(len(queries.captured_queries))

    assert counts[0] == counts[1]


def test_the_cursor_is_url_safe_text(v1, order):
    make_invoices(order, 3)

    for sort in SORTS:
        cursor = page_body(v1.get(f"/api2/invoice?limit=1&sort={sort}"))["next_cursor"]
        assert cursor and set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def good_cursor(sort="entity_id", descending=True, value=None) -> str:
    return Cursor(sort, descending, 5, value).encode()


@pytest.mark.parametrize(
    "query",
    [
        "cursor=not-a-cursor!",
        "cursor=",
        "cursor=e30",  # {}
        "cursor=WzEsMiwzXQ",  # [1,2,3]
        f"cursor={good_cursor()}&page=2",
        f"cursor={good_cursor()}&page=1",
        f"cursor={good_cursor()}&direction=asc",  # made for desc
        f"cursor={good_cursor()}&sort=created_at",  # made for entity_id
        f"cursor={good_cursor('created_at', value='yesterday')}&sort=created_at",
        f"cursor={good_cursor('created_at', value='2026-01-01T10:00:00')}&sort=created_at",  # no time zone
        f"cursor={good_cursor('grand_total', value='NaN')}&sort=grand_total",
        f"cursor={good_cursor('grand_total', value='1.5x')}&sort=grand_total",
        f"cursor={good_cursor('increment_id', value=None)}&sort=increment_id",
        f"cursor={good_cursor('entity_id', value='7')}",
        f"cursor={Cursor('entity_id', True, 0).encode()}",
    ],
)
def test_a_cursor_that_is_not_ours_is_400_invalid_cursor(v1, order, query):
    response = v1.get(f"/api2/invoice?{query}")

    assert (response.status_code, json.loads(response.content)) == (400, {"error": "Invalid cursor"})


@pytest.mark.postgres
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort", SORTS)
def test_a_cursor_page_of_a_large_table_is_an_index_range_scan(v1, order, sort, direction):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sales_invoice (order_id, store_id, increment_id, state, grand_total, base_grand_total,"
            " total_qty, created_at, updated_at)"
            " SELECT %s, 1, lpad((300000000 + n)::text, 9, '0'), 1 + n %% 3, ((n * 7919) %% 100000) / 100.0,"
            " 0, 1, timestamptz '2020-01-01' + n * interval '1 minute',"
            " timestamptz '2020-01-01' + ((n * 104729) %% 20000) * interval '1 minute'"
            " FROM generate_series(1, 20000) AS n",
            [order.pk],
        )
        cursor.execute("ANALYZE sales_invoice")
    cursor_text = page_body(v1.get(f"/api2/invoice?limit=50&page=200&sort={sort}&direction={direction}"))["next_cursor"]

    with CaptureQueriesContext(connection) as queries:
        page_body(v1.get(f"/api2/invoice?limit=50&sort={sort}&direction={direction}&cursor={cursor_text}"))

    [page_sql] = [q["sql"] for q in queries.captured_queries if "LIMIT 51" in q["sql"]]
    assert "OFFSET" not in page_sql
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {page_sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    assert "Index Cond" in plan, plan
    # No sort of the whole range: at most an incremental one over the index's order (a small table may pick
    # the unique (increment_id, store) index; 1,000,000 invoices use (increment_id, id) with no sort at all).
    assert not re.search(r"(^|->)\s*Sort\s+\(", plan, re.MULTILINE), plan


@pytest.mark.parametrize(
    "cursor_payload",
    [["entity_id", "desc", None, 2**63], ["created_at", "desc", "0001-01-01T00:00:00+01:00", 5]],
    ids=["id_past_bigint", "date_before_year_1_in_utc"],
)
def test_a_cursor_no_column_can_hold_is_invalid_not_a_server_error(v1, order, cursor_payload):
    import base64
    import json

    text = base64.urlsafe_b64encode(json.dumps(cursor_payload).encode()).decode().rstrip("=")
    sort = cursor_payload[0]
    response = v1.get("/api2/invoice", {"cursor": text, "sort": sort, "direction": "desc"})

    assert (response.status_code, response.json()) == (400, {"error": "Invalid cursor"})
