"""Magento's JSON for orders and invoices: its field names, nulls omitted, dates as ``Y-m-d H:i:s``.

Amounts stay Decimal here; the renderer writes them as exact JSON numbers.
"""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal
from typing import Any

from django.db import connection, models
from simplejson import RawJSON

from payments.models import Transaction
from sales import selectors
from sales.api.json import format_decimal
from sales.models import (
    Invoice,
    InvoiceComment,
    InvoiceItem,
    Order,
    OrderAddress,
    OrderItem,
    OrderStatusHistory,
    column_of,
)
from sales.selectors import InvoiceFields, InvoiceRows

# InvoiceInterface's fields, in Magento's order.
INVOICE_FIELDS = (
    "entity_id",
    "store_id",
    "base_grand_total",
    "shipping_tax_amount",
    "tax_amount",
    "base_tax_amount",
    "store_to_order_rate",
    "base_shipping_tax_amount",
    "base_discount_amount",
    "base_to_order_rate",
    "grand_total",
    "shipping_amount",
    "subtotal_incl_tax",
    "base_subtotal_incl_tax",
    "store_to_base_rate",
    "base_shipping_amount",
    "total_qty",
    "base_to_global_rate",
    "subtotal",
    "base_subtotal",
    "discount_amount",
    "billing_address_id",
    "is_used_for_refund",
    "order_id",
    "email_sent",
    "can_void_flag",
    "state",
    "shipping_address_id",
    "store_currency_code",
    "transaction_id",
    "order_currency_code",
    "base_currency_code",
    "global_currency_code",
    "increment_id",
    "created_at",
    "updated_at",
    "discount_tax_compensation_amount",
    "base_discount_tax_compensation_amount",
    "shipping_discount_tax_compensation_amount",
    "base_shipping_discount_tax_compensation_amnt",
    "shipping_incl_tax",
    "base_shipping_incl_tax",
    "base_total_refunded",
    "discount_description",
)
INVOICE_ITEM_FIELDS = (
    "entity_id",
    "parent_id",
    "base_price",
    "tax_amount",
    "base_row_total",
    "discount_amount",
    "row_total",
    "base_discount_amount",
    "price_incl_tax",
    "base_tax_amount",
    "base_price_incl_tax",
    "qty",
    "base_cost",
    "price",
    "base_row_total_incl_tax",
    "row_total_incl_tax",
    "product_id",
    "order_item_id",
    "additional_data",
    "description",
    "sku",
    "name",
    "discount_tax_compensation_amount",
    "base_discount_tax_compensation_amount",
)
INVOICE_COMMENT_FIELDS = (
    "entity_id",
    "parent_id",
    "is_customer_notified",
    "is_visible_on_front",
    "comment",
    "created_at",
)
STATUS_HISTORY_FIELDS = (
    "entity_id",
    "parent_id",
    "comment",
    "created_at",
    "entity_name",
    "is_customer_notified",
    "is_visible_on_front",
    "status",
)


INVOICE_READ_FIELDS = InvoiceFields(invoice=INVOICE_FIELDS, item=INVOICE_ITEM_FIELDS, comment=INVOICE_COMMENT_FIELDS)


def magento_datetime(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def magento_decimal(value: Decimal) -> Decimal:
    """An amount as Magento writes it: no trailing zeros, never an exponent (1917.6000 -> 1917.6, 100.0 -> 100)."""
    return Decimal(format_decimal(value))


def _decimal(value) -> Decimal:
    # The selector's amounts are exact Decimals, or ints and strings from its JSON (165, "1917.6"): never floats.
    return value if type(value) is Decimal else Decimal(value)


def _write_as(field: models.Field | None, *, trimmed: bool):
    """How a stored value is written, the one rule for every object: flags 0/1, dates ``Y-m-d H:i:s`` UTC, amounts
    as exact Decimals without the column's trailing zeros (``trimmed``: the selector's SQL dropped them)."""
    if isinstance(field, models.BooleanField):
        return int
    if isinstance(field, models.DateTimeField):
        return magento_datetime
    if isinstance(field, models.DecimalField):
        return _decimal if trimmed else magento_decimal
    return None


def _sql_written_as(field: models.Field | None, expression: str) -> str:
    """``_write_as`` in PostgreSQL's SQL, over ``expression``: for the documents the database writes itself
    (``invoice_documents``). The same three rules; a test compares the two writers' output."""
    if isinstance(field, models.BooleanField):
        return f"({expression})::int"
    if isinstance(field, models.DateTimeField):
        return f"to_char({expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
    if isinstance(field, models.DecimalField):
        return f"trim_scale({expression})"
    return expression


class Shape:
    """One of Magento's JSON objects: its fields in order, each written as ``_write_as`` says, nulls left out.

    Reads a row of values in the order of ``names`` (``from_row``: the selector's lean reads) or a model instance
    (``from_instance``: the ORM's reads and the services' answers), so both are written by the same code.
    ``names`` are attribute names (``entity_id`` or ``pk`` is the primary key; a foreign key is ``<name>_id``;
    a property is written as it is); ``keys`` are the JSON's names where they differ.
    """

    def __init__(self, model: type[models.Model], names: tuple[str, ...], keys: tuple[str, ...] | None = None):
        by_attname = {field.attname: field for field in model._meta.concrete_fields}
        by_attname["entity_id"] = by_attname["pk"] = model._meta.pk
        unknown = [name for name in names if name not in by_attname and not hasattr(model, name)]
        if unknown:
            raise AttributeError(f"{model.__name__} has no {', '.join(unknown)}")
        fields = [by_attname.get(name) for name in names]
        self.names = names
        keys = keys or names
        self._fields_by_key = tuple(zip(keys, fields, strict=True))
        self._sql_members: dict[str, tuple[str, ...]] = {}  # by alias: built once, asked on every read
        self._row_plan = tuple(enumerate(zip(keys, [_write_as(f, trimmed=True) for f in fields], strict=True)))
        self._instance_plan = tuple(enumerate(zip(keys, [_write_as(f, trimmed=False) for f in fields], strict=True)))

    @staticmethod
    def _written(values, plan) -> dict:
        result = {}
        for index, (key, write) in plan:
            value = values[index]
            if value is not None:
                result[key] = value if write is None else write(value)
        return result

    def from_row(self, values) -> dict:
        return self._written(values, self._row_plan)

    def from_instance(self, obj: models.Model) -> dict:
        return self._written([getattr(obj, name) for name in self.names], self._instance_plan)

    def sql_members(self, alias: str) -> tuple[str, ...]:
        """The object's members as PostgreSQL text expressions over the table aliased ``alias``, each ``"key":value``
        written as ``_write_as`` would (``_sql_written_as``) or NULL when the value is null: ``concat_ws`` joins
        them leaving the nulls out, in this order (``selectors.invoice_documents``)."""
        if alias not in self._sql_members:
            quote = connection.ops.quote_name
            members = []
            for key, field in self._fields_by_key:
                if field is None or not key.isidentifier():
                    raise ValueError(f"{key} is not a column the database can write")
                value = _sql_written_as(field, f"{alias}.{quote(column_of(field))}")
                members.append(f"'\"{key}\":' || to_json({value})::text")  # to_json(NULL) is NULL: left out
            self._sql_members[alias] = tuple(members)
        return self._sql_members[alias]


@functools.cache
def _columns(model: type[models.Model], skip: frozenset[str]) -> Shape:
    """Every stored column but the primary key and ``skip``, under its Magento name (foreign keys as ``<name>_id``)."""
    return Shape(
        model,
        tuple(
            field.attname
            for field in model._meta.concrete_fields
            if not field.primary_key and field.attname not in skip
        ),
    )


def _model_dict(obj: models.Model, *, skip: frozenset[str] = frozenset()) -> dict:
    return _columns(type(obj), skip).from_instance(obj)


INVOICE = Shape(Invoice, INVOICE_FIELDS)
INVOICE_ITEM = Shape(InvoiceItem, INVOICE_ITEM_FIELDS)
INVOICE_COMMENT = Shape(InvoiceComment, INVOICE_COMMENT_FIELDS)
STATUS_HISTORY = Shape(OrderStatusHistory, tuple(name for name in STATUS_HISTORY_FIELDS if name != "parent_id"))
ORDER_SHIPPING_TOTAL = Shape(
    Order,
    (
        "shipping_amount",
        "base_shipping_amount",
        "shipping_incl_tax",
        "base_shipping_incl_tax",
        "shipping_tax_amount",
        "base_shipping_tax_amount",
        "shipping_discount_amount",
        "base_shipping_discount_amount",
        "shipping_invoiced",
        "base_shipping_invoiced",
    ),
)
# Magento's TransactionInterface, in its order.
TRANSACTION = Shape(
    Transaction,
    (
        "pk",
        "parent_id",
        "order_id",
        "payment_id",
        "txn_id",
        "parent_txn_id",
        "txn_type",
        "is_closed",
        "details",
        "created_at",
    ),
    keys=(
        "transaction_id",
        "parent_id",
        "order_id",
        "payment_id",
        "txn_id",
        "parent_txn_id",
        "txn_type",
        "is_closed",
        "additional_information",
        "created_at",
    ),
)


def invoice_comment_dict(comment: InvoiceComment) -> dict:
    return INVOICE_COMMENT.from_instance(comment)


def invoice_documents(invoice_ids, *, order_number_key: str | None = None) -> list:
    """Magento's InvoiceInterface of each invoice, in the order of ``invoice_ids`` (unknown ids left out), with the
    order's number under ``order_number_key`` when given (/api2).

    On PostgreSQL the database writes each document (``RawJSON``, embedded as it is by the JSON writer), so a page
    of invoices costs no Python per value; elsewhere (SQLite) they are written here as dicts. Both by ``Shape``.
    """
    if connection.vendor == "postgresql":
        texts = selectors.invoice_documents(
            invoice_ids=invoice_ids,
            invoice_members=INVOICE.sql_members("i"),
            item_members=INVOICE_ITEM.sql_members("r"),
            comment_members=INVOICE_COMMENT.sql_members("c"),
            order_number_key=order_number_key,
        )
        return [RawJSON(text) for text in texts]
    found = selectors.invoices_with_rows(
        invoice_ids=invoice_ids, fields=INVOICE_READ_FIELDS, order_number=order_number_key is not None
    )
    documents = [invoice_dict(rows) for rows in found]
    if order_number_key is not None:
        for document, rows in zip(documents, found, strict=True):
            document[order_number_key] = rows.order_increment_id
    return documents


def invoice_dict(rows: InvoiceRows) -> dict:
    """Magento's InvoiceInterface, from ``selectors.invoices_with_rows(fields=INVOICE_READ_FIELDS)``."""
    data = INVOICE.from_row(rows.invoice)
    data["items"] = [INVOICE_ITEM.from_row(item) for item in rows.items]
    data["comments"] = [INVOICE_COMMENT.from_row(comment) for comment in rows.comments]
    return data


def status_history_dict(history: OrderStatusHistory) -> dict:
    data = STATUS_HISTORY.from_instance(history)
    data["parent_id"] = history.order_id
    return data


def address_dict(address: OrderAddress) -> dict:
    data: dict[str, Any] = {"entity_id": address.pk, "parent_id": address.order_id}
    data.update(_model_dict(address, skip=frozenset({"order_id"})))
    data["street"] = address.street_lines
    return data


def order_item_dict(item: OrderItem, parents: dict[int, dict] | None = None) -> dict:
    data: dict[str, Any] = {"item_id": item.pk, "order_id": item.order_id}
    data.update(_model_dict(item, skip=frozenset({"order_id"})))
    if parents and item.parent_item_id in parents:
        data["parent_item"] = parents[item.parent_item_id]
    return data


def payment_dict(payment) -> dict:
    data: dict[str, Any] = {"entity_id": payment.pk, "parent_id": payment.order_id}
    data.update(_model_dict(payment, skip=frozenset({"order_id"})))
    return data


def order_dict(order: Order) -> dict:
    data: dict[str, Any] = {"entity_id": order.pk}
    data.update(_model_dict(order))
    data["total_due"] = order.total_due
    data["base_total_due"] = order.base_total_due
    items = list(order.items.all())
    parents = {item.pk: order_item_dict(item) for item in items if item.parent_item_id is None}
    data["items"] = [parents[item.pk] if item.pk in parents else order_item_dict(item, parents) for item in items]
    if order.billing_address is not None:
        data["billing_address"] = address_dict(order.billing_address)
    payment = getattr(order, "payment", None)
    if payment is not None:
        data["payment"] = payment_dict(payment)
    data["status_histories"] = [status_history_dict(history) for history in order.status_histories.all()]
    shipping: dict[str, Any] = {"method": order.shipping_method} if order.shipping_method else {}
    if order.shipping_address is not None:
        shipping["address"] = address_dict(order.shipping_address)
    total = ORDER_SHIPPING_TOTAL.from_instance(order)
    if total:
        shipping["total"] = total
    if shipping:
        data["extension_attributes"] = {
            "shipping_assignments": [
                {"shipping": shipping, "items": [item for item in data["items"] if "parent_item" not in item]}
            ]
        }
    return data


def transaction_dict(transaction, *, with_children: bool = True) -> dict:
    """Magento's TransactionInterface."""
    data = TRANSACTION.from_instance(transaction)
    if with_children:
        data["child_transactions"] = [
            transaction_dict(child, with_children=False) for child in transaction.children.all()
        ]
    return data
