"""The Sales > Invoices grid rows: how each column of Magento's sales_invoice_grid is filled.

Magento rebuilds an invoice's grid row when the invoice is saved; here every service that
writes an invoice writes its row inside its transaction, so the grid never shows a state the
invoice does not have: ``invoice_grid_write`` from the objects the invoicing service holds,
``invoice_grid_refresh`` from the database (capture, void, cancel; bulk loads by id ranges).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from sales.models import Invoice, InvoiceGrid, concrete_field

# Magento's full-text index of the grid: the keyword search box.
KEYWORD_COLUMNS = (
    "increment_id",
    "order_increment_id",
    "billing_name",
    "billing_address",
    "shipping_address",
    "customer_name",
    "customer_email",
)

ADDRESS_COLUMNS = ("firstname", "lastname", "company", "street", "city", "region", "postcode")

# Where each value comes from: the invoice, its order, the order's payment and the invoice's addresses.
INVOICE_COLUMNS = {
    "invoice_id": "pk",
    "increment_id": "increment_id",
    "state": "state",
    "store_id": "store_id",
    "store_name": "order__store_name",
    "order_id": "order_id",
    "order_increment_id": "order__increment_id",
    "order_created_at": "order__created_at",
    "customer_firstname": "order__customer_firstname",
    "customer_lastname": "order__customer_lastname",
    "customer_email": "order__customer_email",
    "customer_group_id": "order__customer_group_id",
    "payment_method": "order__payment__method",
    "shipping_information": "order__shipping_description",
    "subtotal": "base_subtotal",
    "shipping_and_handling": "base_shipping_amount",
    "grand_total": "grand_total",
    "base_grand_total": "base_grand_total",
    "global_currency_code": "global_currency_code",
    "base_currency_code": "base_currency_code",
    "store_currency_code": "store_currency_code",
    "order_currency_code": "order_currency_code",
    "created_at": "created_at",
    "updated_at": "updated_at",
    **{f"billing_{column}": f"billing_address__{column}" for column in ADDRESS_COLUMNS},
    **{f"shipping_{column}": f"shipping_address__{column}" for column in ADDRESS_COLUMNS},
}

GRID_FIELDS = [field.attname for field in InvoiceGrid._meta.concrete_fields if not field.primary_key]
# Columns the grid joins from several order fields (names, address lines): the join can outgrow its column.
JOINED_LENGTHS = {
    name: concrete_field(InvoiceGrid, name).max_length
    for name in ("customer_name", "billing_name", "billing_address", "shipping_address")
}
# The same paths as attribute chains, for an invoice whose order, payment and addresses are in hand.
INVOICE_ATTRIBUTES = {column: tuple(path.split("__")) for column, path in INVOICE_COLUMNS.items()}


def full_name(first: str | None, last: str | None) -> str | None:
    return " ".join(part for part in (first, last) if part) or None


def address_line(row: dict, kind: str) -> str | None:
    """Magento's grid address: company, street, city, region, postcode joined by ", "."""
    street = (row[f"{kind}_street"] or "").split("\n")
    parts = [row[f"{kind}_company"], *street, row[f"{kind}_city"], row[f"{kind}_region"], row[f"{kind}_postcode"]]
    return ", ".join(part for part in parts if part) or None


def _fit(value: str | None, column: str) -> str | None:
    """A joined value cut to its grid column, as a display and search column may be; the order keeps it whole."""
    return value[: JOINED_LENGTHS[column]] if value else value


def grid_row(row: dict) -> InvoiceGrid:
    grid = InvoiceGrid(
        invoice_id=row["invoice_id"],
        **{name: row[name] for name in INVOICE_COLUMNS if name in GRID_FIELDS},
        customer_name=_fit(full_name(row["customer_firstname"], row["customer_lastname"]), "customer_name"),
        billing_name=_fit(full_name(row["billing_firstname"], row["billing_lastname"]), "billing_name"),
        billing_address=_fit(address_line(row, "billing"), "billing_address"),
        shipping_address=_fit(address_line(row, "shipping"), "shipping_address"),
    )
    grid.keywords = " ".join(str(getattr(grid, column) or "") for column in KEYWORD_COLUMNS).lower()
    return grid


def invoice_grid_refresh(invoice_ids: Iterable[int] | None = None, *, id_range: tuple[int, int] | None = None) -> int:
    """Write (insert or update) the grid rows of these invoices, or of ids in ``id_range``
    (inclusive), as the database holds them; returns how many rows were written."""
    invoices = Invoice.objects.order_by()
    if invoice_ids is not None:
        invoices = invoices.filter(pk__in=list(invoice_ids))
    if id_range is not None:
        invoices = invoices.filter(pk__range=id_range)
    paths = list(INVOICE_COLUMNS.values())
    rows = [grid_row(dict(zip(INVOICE_COLUMNS, values, strict=True))) for values in invoices.values_list(*paths)]
    _grid_upsert(rows)
    return len(rows)


def invoice_grid_write(invoice: Invoice) -> None:
    """Write the grid row of an invoice just saved, from the objects in hand: the same row
    ``invoice_grid_refresh`` reads back, without reading it back.

    The invoice's order (with its payment) and both addresses must be loaded (the invoice service
    loads them with the order's lock); a relation that is not would cost a query of its own.
    """
    _grid_upsert([grid_row({column: _attribute(invoice, names) for column, names in INVOICE_ATTRIBUTES.items()})])


def _attribute(obj: object, names: tuple[str, ...]) -> Any:
    """``obj.a.b.c``, None past a missing relation (no address, no payment), as the outer joins read."""
    for name in names:
        if obj is None:
            return None
        try:
            obj = getattr(obj, name)
        except ObjectDoesNotExist:  # a reverse one-to-one (the payment) that has no row
            return None
    return obj


def _grid_upsert(rows: list[InvoiceGrid]) -> None:
    if rows:
        InvoiceGrid.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["invoice"], update_fields=GRID_FIELDS, batch_size=2000
        )


def keyword_words(query: str) -> list[str]:
    """The search box's words, as the ``keywords`` column holds them."""
    return [word for word in query.lower().split() if word]
