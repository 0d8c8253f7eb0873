"""The bulk seeder numbers invoices exactly as ``sales.numbering.next_increment_id`` does, for a store whose
invoice sequence has a prefix, a suffix, a start value and a step, and the app's next invoice follows on.
Its progress lines count what the phase writes, not the whole table."""

import io
import random

import pytest
from django.db import connection

from sales.demo import bulk
from sales.demo.generator import demo_order_entity
from sales.models import Invoice, InvoiceGrid, SalesSequence, Store
from sales.numbering import next_increment_id, sequence_name
from sales.services import invoice_order, order_import

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

STORE_ID = 7
INVOICES = 40
NUMBERING = {"prefix": "EU-", "suffix": "-B", "start_value": 1000, "step": 5}


@pytest.fixture
def console() -> bulk.Console:
    return bulk.Console(io.StringIO().write)


@pytest.fixture
def stepped_store(default_store, console) -> Store:
    """Store 7 with orders, its invoice numbers ``EU-`` + (1000, 1005, 1010, ...) + ``-B``."""
    store = Store.objects.create(id=STORE_ID, code="eu", name="EU Store View")
    SalesSequence.objects.filter(entity_type="invoice", store=store).update(**NUMBERING)
    bulk.orders_import(target=3, seed=7, console=console, store_id=STORE_ID)
    return store


def numbers_from_next_increment_id(count: int) -> list[str]:
    """What the app would have numbered ``count`` invoices of the store from a fresh sequence; the sequence
    ends where it was (the bulk drew ``count`` values), so later invoices are unaffected."""
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER SEQUENCE "{sequence_name("invoice", STORE_ID)}" RESTART')
    return [next_increment_id(entity_type="invoice", store_id=STORE_ID) for _ in range(count)]


def test_bulk_invoice_numbers_are_what_next_increment_id_gives_for_a_prefixed_stepped_store(stepped_store, console):
    bulk.invoices_fill(target=INVOICES, batch=16, seed=7, console=console, store_id=STORE_ID)

    bulk_numbers = list(Invoice.objects.filter(store_id=STORE_ID).order_by("pk").values_list("increment_id", flat=True))
    assert len(bulk_numbers) == INVOICES
    assert sorted(bulk_numbers) == sorted(numbers_from_next_increment_id(INVOICES))
    assert bulk_numbers[0] == "EU-000001000-B"  # the start value, zero-padded to 9 digits between prefix and suffix


def test_the_apps_invoice_after_a_bulk_fill_follows_on_without_collision(stepped_store, console):
    bulk.invoices_fill(target=INVOICES, batch=16, seed=7, console=console, store_id=STORE_ID)
    bulk_numbers = set(Invoice.objects.filter(store_id=STORE_ID).values_list("increment_id", flat=True))

    order = order_import(entity=demo_order_entity(random.Random(99)), store_id=STORE_ID)
    invoice = invoice_order(order_id=order.pk)

    assert invoice.increment_id not in bulk_numbers
    assert invoice.increment_id == f"EU-{1000 + INVOICES * 5:09d}-B"  # the value after the bulk's last


def test_the_grid_phase_counts_only_the_rows_it_writes(stepped_store, console):
    bulk.invoices_fill(target=INVOICES, batch=16, seed=7, console=console, store_id=STORE_ID)
    bulk.grid_fill(batch=16, console=console)
    InvoiceGrid.objects.filter(pk__in=Invoice.objects.order_by("pk").values("pk")[:30]).delete()  # 10 keep theirs
    written = io.StringIO()

    statements: list[str] = []

    def record(execute, sql, params, many, context):  # the phase resets Django's query log as it goes
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        bulk.grid_fill(batch=16, console=bulk.Console(written.write))

    assert statements, "the phase ran no query"
    counts = [sql for sql in statements if "COUNT(" in sql.upper()]
    assert not counts, counts  # no count of the grid (or the invoices) for a progress line
    assert "writing 30 with invoice_grid_refresh" in written.getvalue()
    assert "30/30" in written.getvalue()
    assert InvoiceGrid.objects.count() == INVOICES
