"""What an invoice adds to its order and order rows when it registers, and takes back when canceled.

One table of columns drives both directions, so a cancellation is the exact inverse of the
registration it undoes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections
from django.db.models import Model

from sales.models import Invoice, InvoiceItem, Order, OrderItem, column_of, concrete_field
from sales.money import as_decimal

ITEM_REGISTER = {  # order item column += invoice row column
    "row_invoiced": "row_total",
    "base_row_invoiced": "base_row_total",
    "tax_invoiced": "tax_amount",
    "base_tax_invoiced": "base_tax_amount",
    "discount_invoiced": "discount_amount",
    "base_discount_invoiced": "base_discount_amount",
    "discount_tax_compensation_invoiced": "discount_tax_compensation_amount",
    "base_discount_tax_compensation_invoiced": "base_discount_tax_compensation_amount",
}
ORDER_REGISTER = {  # order column += invoice column
    "total_invoiced": "grand_total",
    "base_total_invoiced": "base_grand_total",
    "subtotal_invoiced": "subtotal",
    "base_subtotal_invoiced": "base_subtotal",
    "tax_invoiced": "tax_amount",
    "base_tax_invoiced": "base_tax_amount",
    "discount_tax_compensation_invoiced": "discount_tax_compensation_amount",
    "base_discount_tax_compensation_invoiced": "base_discount_tax_compensation_amount",
    "shipping_invoiced": "shipping_amount",
    "base_shipping_invoiced": "base_shipping_amount",
    "discount_invoiced": "discount_amount",  # accumulates the negative invoice discounts
    "base_discount_invoiced": "base_discount_amount",
    "base_total_invoiced_cost": "base_cost",
}
ORDER_PAID = {"total_paid": "grand_total", "base_total_paid": "base_grand_total"}

REGISTERED_ITEM_FIELDS = ["qty_invoiced", *ITEM_REGISTER]
REGISTERED_ORDER_FIELDS = [*ORDER_REGISTER, *ORDER_PAID]


def _apply(target: Model, source: Model, columns: dict[str, str], sign: int) -> None:
    for target_field, source_field in columns.items():
        amount = getattr(source, source_field)
        if amount is not None:
            setattr(target, target_field, as_decimal(getattr(target, target_field)) + sign * amount)


def register_invoice(invoice: Invoice, rows: Iterable[InvoiceItem], order: Order, *, sign: int = 1) -> None:
    """Add (or, with ``sign=-1``, take back) an invoice on its order rows and order, in memory."""
    for row in rows:
        item = row.order_item
        item.qty_invoiced += sign * row.qty
        _apply(item, row, ITEM_REGISTER, sign)
    _apply(order, invoice, ORDER_REGISTER, sign)


def pay_order(invoice: Invoice, order: Order, *, sign: int = 1) -> None:
    """The order's paid totals take (or give back) the invoice's grand total."""
    _apply(order, invoice, ORDER_PAID, sign)


def registered_items_save(items: Sequence[OrderItem], *, using: str = "default") -> None:
    """Write the registered columns of these order rows (values in hand, computed under the order's
    lock), all rows in one UPDATE: what ``bulk_update(items, REGISTERED_ITEM_FIELDS)`` writes, without
    its CASE WHEN per column and row."""
    rows_update(OrderItem, items, REGISTERED_ITEM_FIELDS, using=using)


def rows_update(model: type[Model], objs: Sequence[Model], fields: Sequence[str], *, using: str = "default") -> None:
    """``UPDATE table SET col = v.col ... FROM (VALUES (pk, value, ...), ...) AS v WHERE table.pk = v.pk``:
    one statement for any number of rows, each column set to the object's value as ``Model.save`` would
    prepare it (``pre_save``, then ``get_db_prep_save``). PostgreSQL names the VALUES columns and casts
    them to the columns' types; SQLite (3.33+) calls them column1, column2, ..."""
    if not objs:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = model._meta.pk
    columns = [pk, *(concrete_field(model, name) for name in fields)]
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        aliases = [quote(column_of(field)) for field in columns]
        row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in columns) + ")"
        values_alias = f"v ({', '.join(aliases)})"
    else:
        aliases = [f"column{position}" for position in range(1, len(columns) + 1)]
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        values_alias = "v"
    assignments = ", ".join(
        f"{quote(column_of(field))} = v.{alias}" for field, alias in zip(columns[1:], aliases[1:], strict=True)
    )
    batch = max(1, connection.ops.bulk_batch_size(columns, objs))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch):
            chunk = objs[start : start + batch]
            params = []
            for obj in chunk:
                params.append(pk.get_db_prep_save(obj.pk, connection))
                params.extend(field.get_db_prep_save(field.pre_save(obj, False), connection) for field in columns[1:])
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(chunk))}) AS {values_alias}"
                f" WHERE {table}.{quote(column_of(pk))} = v.{aliases[0]}",
                params,
            )
