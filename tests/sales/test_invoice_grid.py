"""Sales > Invoices, the grid: Magento's sales_invoice_grid columns, filters, keyword search,
column chooser, CSV export, and a constant number of queries with no full count."""

import csv
import io
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from sales.admin.base import NoFullCountPaginator
from sales.demo.generator import demo_order_entity
from sales.grid import invoice_grid_refresh
from sales.models import InvoiceGrid, InvoiceState
from sales.services import CaptureCase, invoice_cancel, invoice_order, order_import
from tests.conftest import load_seed_order
from tests.factories import staff_client

pytestmark = pytest.mark.django_db

GRID = "/admin/sales/invoice/"


@pytest.fixture
def seed_invoice(import_order):
    return invoice_order(order_id=import_order(load_seed_order("000")).pk)


@pytest.fixture
def manager(client, db):
    return staff_client(client, "Sales manager")


def generated_invoices(count: int, default_store, seed: int = 7) -> list:
    rng = random.Random(seed)
    invoices = []
    for _ in range(count):
        order = order_import(entity=demo_order_entity(rng), store_id=default_store.pk)
        invoices.append(invoice_order(order_id=order.pk))
    return invoices


def listed(response) -> list[str]:
    """The invoice numbers of the grid's rows, top to bottom."""
    return [row.increment_id for row in response.context["cl"].result_list]


def test_grid_row_fills_magentos_columns_from_the_invoice_its_order_addresses_and_payment(seed_invoice):
    row = InvoiceGrid.objects.get(pk=seed_invoice.pk)
    order = seed_invoice.order

    assert row.increment_id == seed_invoice.increment_id and row.order_increment_id == order.increment_id
    assert row.state == InvoiceState.PAID and row.store_id == seed_invoice.store_id
    # Seed 000's customer, as Magento's grid shows her.
    assert row.billing_name == "Roni Cost"
    assert row.customer_email == "roni_cost@example.com"
    assert row.customer_name == f"{order.customer_firstname} {order.customer_lastname}"
    assert row.payment_method == order.payment.method
    assert row.shipping_information == order.shipping_description
    assert row.billing_address == "6146 Honey Bluff Parkway, Calder, Michigan, 49628-7978"
    # Magento's grid shows these two in base currency.
    assert row.subtotal == seed_invoice.base_subtotal
    assert row.shipping_and_handling == seed_invoice.base_shipping_amount
    assert (row.grand_total, row.base_grand_total) == (seed_invoice.grand_total, seed_invoice.base_grand_total)


def test_grid_row_follows_the_invoice_when_it_is_canceled(import_order):
    order = import_order(load_seed_order("000"))
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)
    assert InvoiceGrid.objects.get(pk=invoice.pk).state == InvoiceState.OPEN

    invoice_cancel(invoice_id=invoice.pk)

    assert InvoiceGrid.objects.get(pk=invoice.pk).state == InvoiceState.CANCELED


def test_grid_refresh_is_idempotent_and_rebuilds_a_lost_row(seed_invoice):
    InvoiceGrid.objects.filter(pk=seed_invoice.pk).delete()

    assert invoice_grid_refresh([seed_invoice.pk]) == 1
    assert invoice_grid_refresh([seed_invoice.pk]) == 1
    assert InvoiceGrid.objects.filter(pk=seed_invoice.pk).count() == 1


def test_grid_lists_newest_invoices_first(manager, default_store):
    invoices = generated_invoices(3, default_store)

    assert listed(manager.get(GRID)) == [invoice.increment_id for invoice in reversed(invoices)]


@pytest.mark.parametrize(
    "term",
    ["invoice", "order", "bill-to", "city", "e-mail", "customer"],
)
def test_keyword_search_finds_an_invoice_by_each_of_magentos_full_text_columns(
    manager, seed_invoice, default_store, term
):
    generated_invoices(2, default_store)
    order, billing = seed_invoice.order, seed_invoice.billing_address
    query = {
        "invoice": seed_invoice.increment_id,
        "order": order.increment_id,
        "bill-to": billing.lastname.upper(),  # any case
        "city": billing.city,
        "e-mail": order.customer_email,
        "customer": f"{order.customer_firstname} {order.customer_lastname}",
    }[term]

    assert seed_invoice.increment_id in listed(manager.get(GRID, {"q": query}))


def test_keyword_search_needs_every_word(manager, seed_invoice):
    billing = seed_invoice.billing_address

    assert listed(manager.get(GRID, {"q": f"{billing.lastname} {billing.city}"})) == [seed_invoice.increment_id]
    assert listed(manager.get(GRID, {"q": f"{billing.lastname} nowhere-town"})) == []


def test_keyword_search_matches_cyrillic_names_in_any_case(manager, import_order):
    payload = load_seed_order("000")
    payload["entity"]["billing_address"]["lastname"] = "Достоевский"
    invoice = invoice_order(order_id=import_order(payload).pk)

    assert listed(manager.get(GRID, {"q": "ДОСТОЕВСКИЙ"})) == [invoice.increment_id]


def test_words_under_three_characters_are_not_searched_and_the_user_is_told(manager, seed_invoice):
    billing = seed_invoice.billing_address

    response = manager.get(GRID, {"q": f"{billing.lastname} zq"})

    assert listed(response) == [seed_invoice.increment_id]  # "zq" matches nothing, yet is not a condition
    assert any('not searched: "zq"' in str(message) for message in response.context["messages"])


def page_ordering(client, params) -> str:
    with CaptureQueriesContext(connection) as queries:
        client.get(GRID, params)
    [page] = [
        q["sql"]
        for q in queries.captured_queries
        if "sales_invoice_grid" in q["sql"] and "ORDER BY" in q["sql"] and "COUNT(" not in q["sql"].upper()
    ]
    return page.split("ORDER BY")[1]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ({}, '"created_at" DESC, "sales_invoice_grid"."entity_id" DESC'),
        ({"o": "6"}, '"state" ASC, "sales_invoice_grid"."entity_id" ASC'),
        ({"o": "-6"}, '"state" DESC, "sales_invoice_grid"."entity_id" DESC'),
    ],
)
def test_the_tie_break_follows_the_sort_column_so_one_index_serves_the_page(manager, seed_invoice, sort, expected):
    assert expected in page_ordering(manager, sort)


def test_only_indexed_columns_sort(manager, seed_invoice):
    manager.post(GRID, {"_set_columns": "1", "column": ["billing_address", "subtotal_base"]})
    page = manager.get(GRID).content.decode()

    assert 'class="sortable column-subtotal_base' in page and 'class="sortable column-increment_id' in page
    assert 'class="column-billing_address' in page


def test_status_filter_lists_only_that_state(manager, import_order):
    paid = invoice_order(order_id=import_order(load_seed_order("000")).pk)
    pending = invoice_order(order_id=import_order(load_seed_order("001")).pk, capture_case=CaptureCase.NOT_CAPTURE)

    assert listed(manager.get(GRID, {"state__exact": InvoiceState.PAID})) == [paid.increment_id]
    assert listed(manager.get(GRID, {"state__exact": InvoiceState.OPEN})) == [pending.increment_id]


def test_invoice_date_range_includes_the_whole_last_day(manager, seed_invoice):
    day = seed_invoice.created_at.astimezone().date().isoformat()

    assert listed(manager.get(GRID, {"created_at__from": day, "created_at__to": day})) == [seed_invoice.increment_id]
    assert listed(manager.get(GRID, {"created_at__to": "2000-01-01"})) == []


def test_grand_total_range_filters_on_the_amount(manager, seed_invoice):
    total = seed_invoice.base_grand_total

    assert listed(manager.get(GRID, {"base_grand_total__from": str(total), "base_grand_total__to": str(total)})) == [
        seed_invoice.increment_id
    ]
    assert listed(manager.get(GRID, {"base_grand_total__from": str(total + Decimal("0.01"))})) == []


def test_a_range_filter_with_bad_input_says_so_and_is_ignored(manager, seed_invoice):
    response = manager.get(GRID, {"base_grand_total__from": "lots", "created_at__from": "yesterday"})

    assert response.status_code == 200
    assert listed(response) == [seed_invoice.increment_id]
    shown = [str(message) for message in response.context["messages"]]
    assert any('"lots" is not a valid amount' in message for message in shown)
    assert any('"yesterday" is not a valid date' in message for message in shown)


def test_payment_method_and_email_filters(manager, seed_invoice):
    method = seed_invoice.order.payment.method

    assert listed(manager.get(GRID, {"payment_method": method})) == [seed_invoice.increment_id]
    assert listed(manager.get(GRID, {"payment_method": "no-such-method"})) == []
    assert listed(manager.get(GRID, {"email": "none"})) == [seed_invoice.increment_id]
    assert listed(manager.get(GRID, {"email": "sent"})) == []


def test_optional_columns_are_chosen_per_user_and_kept(manager, seed_invoice):
    assert "column-billing_address" not in manager.get(GRID).content.decode()

    manager.post(GRID, {"_set_columns": "1", "column": ["billing_address", "payment_method_title", "bogus"]})
    page = manager.get(GRID).content.decode()

    assert "column-billing_address" in page and "column-payment_method_title" in page
    assert InvoiceGrid.objects.get(pk=seed_invoice.pk).billing_address in page


def test_export_csv_streams_every_row_of_the_filtered_set(manager, default_store):
    invoices = generated_invoices(3, default_store)
    cancel_me = invoice_order(
        order_id=order_import(entity=demo_order_entity(random.Random(99)), store_id=default_store.pk).pk,
        capture_case=CaptureCase.NOT_CAPTURE,
    )

    response = manager.get(GRID, {"_export": "csv", "state__exact": InvoiceState.PAID})

    assert response.streaming and response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["Invoice"] for row in rows] == [invoice.increment_id for invoice in reversed(invoices)]
    assert cancel_me.increment_id not in {row["Invoice"] for row in rows}
    assert rows[-1]["Grand Total (Base)"] == f"{invoices[0].base_grand_total:.2f}"


def test_the_export_action_exports_the_selected_rows(manager, default_store):
    first, second = generated_invoices(2, default_store)

    response = manager.post(GRID, {"action": "export_csv", "_selected_action": [second.pk]})

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["Invoice"] for row in rows] == [second.increment_id]


def test_the_pdf_invoices_action_prints_the_selected_invoices(manager, default_store):
    first, second, unselected = generated_invoices(3, default_store)

    response = manager.post(GRID, {"action": "pdf_invoices", "_selected_action": [first.pk, second.pk]})

    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert f"Invoice # {first.increment_id}" in text and f"Invoice # {second.increment_id}" in text
    assert unselected.increment_id not in text


def test_the_grid_says_10000_plus_rather_than_counting_the_table(manager, default_store, monkeypatch):
    monkeypatch.setattr(NoFullCountPaginator, "CAP", 2)
    generated_invoices(4, default_store)

    with CaptureQueriesContext(connection) as queries:
        page = manager.get(GRID).content.decode()

    assert "2+ invoices" in page
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 3" in sql for sql in counts)  # never a COUNT(*) over the whole table


def grid_queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(GRID, params or {})
    assert response.status_code == 200
    return len(queries.captured_queries)


# session 1 + user 1 + the user's and the groups' permissions 2 + stores of the filter 1 + count of at most
# 10,001 rows 1 + page 1 + e-mail states of the page's rows 1.
GRID_QUERIES = 8


@pytest.mark.parametrize("params", [{}, {"q": "example"}, {"state__exact": "2", "created_at__from": "2020-01-01"}])
def test_the_grid_runs_the_same_queries_for_5_and_40_invoices(manager, default_store, params):
    generated_invoices(5, default_store)
    few = grid_queries(manager, params)
    generated_invoices(35, default_store, seed=8)

    assert few == grid_queries(manager, params) == GRID_QUERIES


def test_staff_without_view_invoice_get_403_for_the_grid_and_its_export(client, seed_invoice):
    staff_client(client)  # staff, in no group

    assert client.get(GRID).status_code == 403
    assert client.get(GRID, {"_export": "csv"}).status_code == 403


@pytest.mark.postgres
def test_keyword_search_is_served_by_the_trigram_index(manager, seed_invoice):
    from sales.admin.invoice_grid import InvoiceGridAdmin

    grid_admin = InvoiceGridAdmin(InvoiceGrid, None)
    queryset, _ = grid_admin.get_search_results(None, InvoiceGrid.objects.order_by(), "smith")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned anyway
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "sales_igrid_keywords_trgm" in plan, plan
