"""``manage.py seed_demo``: bulk demo invoices on PostgreSQL, numbered from the store's sequence,
each with the grid row ``invoice_grid_refresh`` computes, filled up to a target and re-runnable."""

import io
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from sales.demo.generator import demo_order_entity
from sales.grid import invoice_grid_refresh
from sales.models import Invoice, InvoiceGrid, InvoiceItem, Order
from sales.services import invoice_order, order_import

pytestmark = pytest.mark.django_db

ORDERS = 5
INVOICES = 200


def seed_demo(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", orders=ORDERS, batch=64, stdout=out, **{"invoices": INVOICES, **options})
    return out.getvalue()


@pytest.fixture
def seeded(default_store, settings) -> str:
    settings.DEBUG = True  # a developer's configuration: no --force needed
    return seed_demo()


def grid_rows() -> list[dict]:
    return list(InvoiceGrid.objects.order_by("pk").values())


@pytest.mark.postgres
def test_seed_demo_fills_the_invoices_up_to_the_target_from_the_imported_orders(seeded):
    assert Order.objects.count() == ORDERS
    assert Invoice.objects.count() == INVOICES
    assert set(Invoice.objects.values_list("order_id", flat=True)) <= set(Order.objects.values_list("pk", flat=True))
    # Every invoice has its 1-3 invoice rows.
    invoiced = set(InvoiceItem.objects.values_list("parent_id", flat=True))
    assert invoiced == set(Invoice.objects.values_list("pk", flat=True))


@pytest.mark.postgres
def test_every_bulk_invoice_has_a_grid_row_showing_its_invoice_and_order(seeded):
    written = grid_rows()
    assert [row["invoice_id"] for row in written] == list(Invoice.objects.order_by("pk").values_list("pk", flat=True))

    invoices = Invoice.objects.select_related("order__billing_address").in_bulk()
    for row in written:
        invoice = invoices[row["invoice_id"]]
        order, billing = invoice.order, invoice.order.billing_address
        assert (row["increment_id"], row["state"], row["store_id"]) == (
            invoice.increment_id,
            invoice.state,
            invoice.store_id,
        )
        assert (row["grand_total"], row["base_grand_total"]) == (invoice.grand_total, invoice.base_grand_total)
        assert (row["created_at"], row["order_created_at"]) == (invoice.created_at, order.created_at)
        assert (row["order_increment_id"], row["customer_email"]) == (order.increment_id, order.customer_email)
        assert row["billing_name"] == f"{billing.firstname} {billing.lastname}"
    # A second refresh finds nothing to change.
    first, last = written[0]["invoice_id"], written[-1]["invoice_id"]
    assert invoice_grid_refresh(id_range=(first, last)) == INVOICES
    assert grid_rows() == written


@pytest.mark.postgres
def test_increment_ids_are_unique_per_store_and_later_invoices_continue_the_sequence(seeded):
    numbers = list(Invoice.objects.filter(store_id=1).values_list("increment_id", flat=True))
    assert len(set(numbers)) == INVOICES
    assert all(len(number) == 9 and number.isdigit() for number in numbers)

    order = order_import(entity=demo_order_entity(random.Random(99)), store_id=1)
    invoice = invoice_order(order_id=order.pk)

    assert int(invoice.increment_id) > max(int(number) for number in numbers)
    assert InvoiceGrid.objects.get(pk=invoice.pk).increment_id == invoice.increment_id


@pytest.mark.postgres
def test_running_again_with_the_same_targets_writes_nothing(seeded):
    invoices, rows = list(Invoice.objects.values_list("pk", "increment_id")), grid_rows()

    output = seed_demo()

    assert "Nothing to do" in output
    assert list(Invoice.objects.values_list("pk", "increment_id")) == invoices
    assert grid_rows() == rows


@pytest.mark.postgres
def test_running_again_fills_only_what_is_missing(seeded):
    InvoiceGrid.objects.filter(pk__in=Invoice.objects.order_by("pk").values("pk")[50:60]).delete()

    output = seed_demo(invoices=INVOICES + 30)

    assert Order.objects.count() == ORDERS
    assert Invoice.objects.count() == INVOICES + 30
    assert InvoiceGrid.objects.count() == INVOICES + 30
    assert "grid rows: writing 40 with invoice_grid_refresh" in output


@pytest.mark.postgres
def test_each_phase_reports_its_progress_after_naming_the_database(seeded):
    lines = seeded.splitlines()

    assert lines[0].startswith(f"Database: {connection.settings_dict['NAME']} (postgresql")
    assert any(line.strip().startswith("orders") and f"{ORDERS}/{ORDERS}" in line and "ETA" in line for line in lines)
    assert any(f"{INVOICES}/{INVOICES}" in line and "invoices/s" in line and "ETA" in line for line in lines)
    assert any(line.strip().startswith("grid rows") and "rows/s" in line and "ETA" in line for line in lines)
    assert any(line.strip().startswith("vacuum") and "tables/s" in line for line in lines)
    assert lines[-1].startswith("Done in")


@pytest.mark.postgres
def test_refuses_a_configuration_with_debug_off_unless_forced(default_store, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        seed_demo()
    assert not Invoice.objects.exists()

    seed_demo(force=True)
    assert Invoice.objects.count() == INVOICES


def test_says_it_needs_postgresql_on_another_database(monkeypatch, settings):
    settings.DEBUG = True
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match="needs PostgreSQL"):
        seed_demo()
