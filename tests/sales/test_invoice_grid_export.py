"""The invoice grid's CSV export: the grid's rows in the grid's order, however many, read from the database a
chunk at a time (the whole result never sits in the web worker's memory), whether the deploy keeps
PostgreSQL's session features or not (``DATABASE_SESSION_FEATURES``)."""

import csv
import io
import tracemalloc

import pytest
from django.db import connection

from config.settings.base import database_config
from sales.admin.invoice_grid import EXPORT_CHUNK, csv_response
from sales.demo import bulk
from sales.models import InvoiceGrid
from sales.services import CaptureCase, invoice_order
from tests.conftest import load_seed_order
from tests.factories import staff_client
from tests.notifications.realworker import database_url

pytestmark = pytest.mark.django_db

GRID = "/admin/sales/invoice/"
BILL_TO_NAME, STATUS = "5", "6"  # the grid's columns, as its ?o= numbers them


@pytest.fixture
def manager(client, db):
    return staff_client(client, "Sales manager")


def invoice_billed_to(
    import_order,
    number: int,
    firstname: str,
    *,
    email: str = "roni_cost@example.com",
    capture_case: str = CaptureCase.ONLINE,
):
    seed = load_seed_order("000")
    billing = {**seed["entity"]["billing_address"], "firstname": firstname}
    order = import_order(seed, increment_id=f"E{number:08d}", billing_address=billing, customer_email=email)
    return invoice_order(order_id=order.pk, capture_case=capture_case)


def exported(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("sort", [BILL_TO_NAME, f"-{BILL_TO_NAME}"])
def test_the_export_lists_the_grids_rows_in_the_grids_order_with_ties_broken_by_id(manager, import_order, sort):
    # Bill-to names that tie, created out of name order; one row the status filter drops, one the search drops.
    for number, firstname in enumerate(["Bea", "Ann", "Bea", "Ann", "Cal", "Ann"]):
        invoice_billed_to(import_order, number, firstname)
    invoice_billed_to(import_order, 10, "Ann", capture_case=CaptureCase.NOT_CAPTURE)
    invoice_billed_to(import_order, 11, "Ann", email="someone@elsewhere.test")
    params = {"o": sort, "state__exact": "2", "q": "roni_cost"}

    page = manager.get(GRID, params).context["cl"].result_list
    rows = exported(manager.get(GRID, {**params, "_export": "csv"}))

    by_name_then_id = sorted(
        InvoiceGrid.objects.filter(state=2, customer_email="roni_cost@example.com"),
        key=lambda row: (row.billing_name, row.pk),
        reverse=sort.startswith("-"),
    )
    assert [row.increment_id for row in page] == [row.increment_id for row in by_name_then_id]
    assert [(row["Invoice"], row["Bill-to Name"], row["Grand Total (Base)"]) for row in rows] == [
        (row.increment_id, row.billing_name, f"{row.base_grand_total:.2f}") for row in page
    ]


@pytest.fixture
def grid_rows(default_store) -> list[int]:
    """Four chunks' worth of invoices and their grid rows, written in bulk; their ids, ascending."""
    console = bulk.Console(io.StringIO().write)
    bulk.orders_import(target=3, seed=7, console=console)
    bulk.invoices_fill(target=4 * EXPORT_CHUNK, batch=4 * EXPORT_CHUNK, seed=7, console=console)
    bulk.grid_fill(batch=4 * EXPORT_CHUNK, console=console)
    return list(InvoiceGrid.objects.order_by("pk").values_list("pk", flat=True))


@pytest.fixture(params=[False, True], ids=["session-features-off", "session-features-on"])
def session_features(request, monkeypatch) -> bool:
    """This connection's DATABASES entry as ``database_config`` makes it with DATABASE_SESSION_FEATURES off
    (no server-side cursors for Django) or on: the parts of it the export's cursor reads."""
    monkeypatch.setenv("DATABASE_SESSION_FEATURES", "1" if request.param else "0")
    configured = database_config(database_url(connection.settings_dict))
    monkeypatch.setitem(
        connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", configured.get("DISABLE_SERVER_SIDE_CURSORS", False)
    )
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", configured.get("OPTIONS", {}))
    return request.param


def peak_bytes_of_export(invoice_ids: list[int]) -> int:
    """The most memory Python held at once while the export of these invoices was read to its end."""
    queryset = InvoiceGrid.objects.filter(pk__lte=invoice_ids[-1]).order_by("pk")
    tracemalloc.start()
    try:
        lines = sum(1 for _line in csv_response(queryset).streaming_content)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == 1 + len(invoice_ids)
    return peak


@pytest.mark.postgres
def test_the_export_holds_one_chunk_of_rows_in_memory_however_many_it_streams(grid_rows, session_features):
    two_chunks = peak_bytes_of_export(grid_rows[: 2 * EXPORT_CHUNK])
    four_chunks = peak_bytes_of_export(grid_rows)

    # Reading the whole result at once would hold about twice as much for twice the rows.
    assert four_chunks < 1.2 * two_chunks, (two_chunks, four_chunks)
