"""Magento's JSON for orders and invoices: its field names, nulls omitted, dates as ``Y-m-d H:i:s``.

Amounts stay Decimal here; the renderer writes them as exact JSON numbers.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import models

from sales.api.json import format_decimal
from sales.models import (
    Invoice,
    InvoiceComment,
    InvoiceItem,
    Order,
    OrderAddress,
    OrderItem,
    OrderStatusHistory,
)
from sales.selectors import InvoiceFields, InvoiceRows

# InvoiceInterface's fields, in Magento's order.
INVOICE_FIELDS = (
    "entity_id", "store_id", "base_grand_total", "shipping_tax_amount", "tax_amount", "base_tax_amount",
    "store_to_order_rate", "base_shipping_tax_amount", "base_discount_amount", "base_to_order_rate",
    "grand_total", "shipping_amount", "subtotal_incl_tax", "base_subtotal_incl_tax", "store_to_base_rate",
    "base_shipping_amount", "total_qty", "base_to_global_rate", "subtotal", "base_subtotal",
    "discount_amount", "billing_address_id", "is_used_for_refund", "order_id", "email_sent",
    "can_void_flag", "state", "shipping_address_id", "store_currency_code", "transaction_id",
    "order_currency_code", "base_currency_code", "global_currency_code", "increment_id", "created_at",
    "updated_at", "discount_tax_compensation_amount", "base_discount_tax_compensation_amount",
    "shipping_discount_tax_compensation_amount", "base_shipping_discount_tax_compensation_amnt",
    "shipping_incl_tax", "base_shipping_incl_tax", "base_total_refunded", "discount_description",
)  # fmt: skip
INVOICE_ITEM_FIELDS = (
    "entity_id", "parent_id", "base_price", "tax_amount", "base_row_total", "discount_amount", "row_total",
    "base_discount_amount", "price_incl_tax", "base_tax_amount", "base_price_incl_tax", "qty", "base_cost",
    "price", "base_row_total_incl_tax", "row_total_incl_tax", "product_id", "order_item_id",
    "additional_data", "description", "sku", "name", "discount_tax_compensation_amount",
    "base_discount_tax_compensation_amount",
)  # fmt: skip
INVOICE_COMMENT_FIELDS = (
    "entity_id", "parent_id", "is_customer_notified", "is_visible_on_front", "comment", "created_at",
)  # fmt: skip
STATUS_HISTORY_FIELDS = (
    "entity_id", "parent_id", "comment", "created_at", "entity_name", "is_customer_notified",
    "is_visible_on_front", "status",
)  # fmt: skip


INVOICE_READ_FIELDS = InvoiceFields(invoice=INVOICE_FIELDS, item=INVOICE_ITEM_FIELDS, comment=INVOICE_COMMENT_FIELDS)


def magento_datetime(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def magento_decimal(value: Decimal) -> Decimal:
    """An amount as Magento writes it: no trailing zeros, never an exponent (1917.6000 -> 1917.6, 100.0 -> 100)."""
    return Decimal(format_decimal(value))


def _value(value):
    if isinstance(value, bool):
        return int(value)  # Magento's flags are 0/1
    if isinstance(value, datetime.datetime):
        return magento_datetime(value)
    if isinstance(value, Decimal):
        return magento_decimal(value)
    return value


def _pick(obj, names) -> dict:
    result = {}
    for name in names:
        value = getattr(obj, name)
        if value is not None:
            result[name] = _value(value)
    return result


def _write_as(field: models.Field):
    """How a column's stored value is written: flags 0/1, dates ``Y-m-d H:i:s`` UTC, amounts as Decimal."""
    if isinstance(field, models.BooleanField):
        return int
    if isinstance(field, models.DateTimeField):
        return magento_datetime
    if isinstance(field, models.DecimalField):
        return _decimal
    return None


def _decimal(value) -> Decimal:
    # The selector's amounts are exact Decimals, or ints and strings from its JSON (165, "1917.6"): never floats.
    return value if type(value) is Decimal else Decimal(value)


class Shape:
    """One of Magento's JSON objects: its field names in order, each written as ``_write_as`` says, nulls left out.

    Reads a row of values in the order of ``names`` (``from_row``) or a model instance (``from_instance``),
    so the lean reads and the services' answers are written by the same code.
    """

    def __init__(self, model: type[models.Model], names: tuple[str, ...]):
        by_attname = {field.attname: field for field in model._meta.concrete_fields}
        self.names = names
        self.writers = tuple(_write_as(model._meta.pk if name == "entity_id" else by_attname[name]) for name in names)
        self._plan = tuple(zip(range(len(names)), names, self.writers, strict=True))

    def from_row(self, values) -> dict:
        result = {}
        for index, name, write in self._plan:
            value = values[index]
            if value is not None:
                result[name] = value if write is None else write(value)
        return result

    def from_instance(self, obj: models.Model) -> dict:
        return self.from_row([getattr(obj, name) for name in self.names])


INVOICE = Shape(Invoice, INVOICE_FIELDS)
INVOICE_ITEM = Shape(InvoiceItem, INVOICE_ITEM_FIELDS)
INVOICE_COMMENT = Shape(InvoiceComment, INVOICE_COMMENT_FIELDS)


def invoice_comment_dict(comment: InvoiceComment) -> dict:
    return INVOICE_COMMENT.from_instance(comment)


def invoice_dict(rows: InvoiceRows) -> dict:
    """Magento's InvoiceInterface, from ``selectors.invoices_with_rows(fields=INVOICE_READ_FIELDS)``."""
    data = INVOICE.from_row(rows.invoice)
    data["items"] = [INVOICE_ITEM.from_row(item) for item in rows.items]
    data["comments"] = [INVOICE_COMMENT.from_row(comment) for comment in rows.comments]
    return data


def status_history_dict(history: OrderStatusHistory) -> dict:
    data = _pick(history, [name for name in STATUS_HISTORY_FIELDS if name != "parent_id"])
    data["parent_id"] = history.order_id
    return data


def _model_dict(obj: models.Model, *, skip: set[str] = frozenset()) -> dict:
    """Every stored column under its Magento name (foreign keys as ``<name>_id``)."""
    result = {}
    for field in obj._meta.concrete_fields:
        name = field.attname
        if name in skip or field.primary_key:
            continue
        value = getattr(obj, name)
        if value is not None:
            result[name] = _value(value)
    return result


def address_dict(address: OrderAddress) -> dict:
    data = {"entity_id": address.pk, "parent_id": address.order_id}
    data.update(_model_dict(address, skip={"order_id"}))
    data["street"] = address.street_lines
    return data


def order_item_dict(item: OrderItem, parents: dict[int, dict] | None = None) -> dict:
    data = {"item_id": item.pk, "order_id": item.order_id}
    data.update(_model_dict(item, skip={"order_id"}))
    if parents and item.parent_item_id in parents:
        data["parent_item"] = parents[item.parent_item_id]
    return data


def payment_dict(payment) -> dict:
    data = {"entity_id": payment.pk, "parent_id": payment.order_id}
    data.update(_model_dict(payment, skip={"order_id"}))
    return data


def order_dict(order: Order) -> dict:
    data = {"entity_id": order.pk}
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
    shipping = {"method": order.shipping_method} if order.shipping_method else {}
    if order.shipping_address is not None:
        shipping["address"] = address_dict(order.shipping_address)
    total = {
        name: getattr(order, name)
        for name in ("shipping_amount", "base_shipping_amount", "shipping_incl_tax", "base_shipping_incl_tax",
                     "shipping_tax_amount", "base_shipping_tax_amount", "shipping_discount_amount",
                     "base_shipping_discount_amount", "shipping_invoiced", "base_shipping_invoiced")
        if getattr(order, name) is not None
    }  # fmt: skip
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
    data = {
        "transaction_id": transaction.pk,
        "parent_id": transaction.parent_id,
        "order_id": transaction.order_id,
        "payment_id": transaction.payment_id,
        "txn_id": transaction.txn_id,
        "parent_txn_id": transaction.parent_txn_id,
        "txn_type": transaction.txn_type,
        "is_closed": int(transaction.is_closed),
        "additional_information": transaction.details,
        "created_at": magento_datetime(transaction.created_at),
    }
    data = {key: value for key, value in data.items() if value is not None}
    if with_children:
        data["child_transactions"] = [
            transaction_dict(child, with_children=False) for child in transaction.children.all()
        ]
    return data
