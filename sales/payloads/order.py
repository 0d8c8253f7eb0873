"""The order entity (the shape ``GET /V1/orders/{id}`` returns) read into a frozen ``OrderDraft``.

``parse_order`` checks that the entity can be stored: JSON types, required fields, every value held to
its column (``max_length``, integer range, dates UTC can hold, qty and money digits), product types, and
rows that name their parents (``item_id``/``parent_item_id``) forming Magento's one-level tree of
composite parents. Every problem is reported at once, in the entity's order; nothing is read past
``ORDER_MAX_ITEMS`` items. What needs the whole order's money (totals adding up) and the writes are
``sales.services.order_import``'s.

Keys the order does not store (extension data of other Magento modules, read-only fields returned by GET
such as ``entity_id`` or ``total_due``) are ignored, so an order read from a Magento store can be sent
as it is.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inventory.quantity import as_number, qty_fits
from payments.models import Payment
from sales.errors import ErrorCode, InputError
from sales.models import Order, OrderAddress, OrderItem, ProductType, Store, concrete_field

COMPOSITE_TYPES = {ProductType.CONFIGURABLE, ProductType.BUNDLE}
VIRTUAL_TYPES = {ProductType.VIRTUAL, ProductType.DOWNLOADABLE}
SHIPPING_ADDRESS = "extension_attributes.shipping_assignments[0].shipping.address"

# Bookkeeping an order acquires when stored, never taken from the payload.
_ORDER_READ_ONLY = {
    "id",
    "store",
    "state",
    "status",
    "billing_address",
    "shipping_address",
    "updated_at",
    "total_invoiced",
    "base_total_invoiced",
    "subtotal_invoiced",
    "base_subtotal_invoiced",
    "discount_invoiced",
    "base_discount_invoiced",
    "tax_invoiced",
    "base_tax_invoiced",
    "discount_tax_compensation_invoiced",
    "base_discount_tax_compensation_invoiced",
    "shipping_invoiced",
    "base_shipping_invoiced",
    "base_total_invoiced_cost",
    "total_paid",
    "base_total_paid",
    "total_refunded",
    "base_total_refunded",
    "total_canceled",
    "base_total_canceled",
    "hold_before_state",
    "hold_before_status",
    "email_sent",
    "send_email",
    "is_virtual",
    "total_item_count",
}
_ITEM_READ_ONLY = {
    "id",
    "order",
    "parent_item",
    "created_at",
    "updated_at",
    "qty_invoiced",
    "qty_canceled",
    "qty_refunded",
    "row_invoiced",
    "base_row_invoiced",
    "tax_invoiced",
    "base_tax_invoiced",
    "discount_invoiced",
    "base_discount_invoiced",
    "discount_tax_compensation_invoiced",
    "base_discount_tax_compensation_invoiced",
    "amount_refunded",
    "base_amount_refunded",
}
_ADDRESS_READ_ONLY = {"id", "order", "address_type"}

# Header totals and their base twins: a missing twin is the same amount when one currency is used.
_MONEY_TWINS = [
    ("grand_total", "base_grand_total"),
    ("subtotal", "base_subtotal"),
    ("subtotal_incl_tax", "base_subtotal_incl_tax"),
    ("discount_amount", "base_discount_amount"),
    ("tax_amount", "base_tax_amount"),
    ("discount_tax_compensation_amount", "base_discount_tax_compensation_amount"),
    ("shipping_amount", "base_shipping_amount"),
    ("shipping_incl_tax", "base_shipping_incl_tax"),
    ("shipping_tax_amount", "base_shipping_tax_amount"),
    ("shipping_discount_amount", "base_shipping_discount_amount"),
    # Not base_shipping_discount_tax_compensation_amnt: Magento's misspelt column was left null by
    # older versions, and an order read from one must come back the same.
]
_ITEM_MONEY_TWINS = [
    ("price", "base_price"),
    ("original_price", "base_original_price"),
    ("price_incl_tax", "base_price_incl_tax"),
    ("row_total", "base_row_total"),
    ("row_total_incl_tax", "base_row_total_incl_tax"),
    ("tax_amount", "base_tax_amount"),
    ("discount_amount", "base_discount_amount"),
    ("discount_tax_compensation_amount", "base_discount_tax_compensation_amount"),
]
_ITEM_NOT_NEGATIVE = ("price", "base_price", "row_total", "base_row_total", "qty_shipped")


def _writable_fields(model: type[models.Model], read_only: set[str]) -> dict[str, models.Field]:
    return {
        field.name: field
        for field in model._meta.concrete_fields
        if field.name not in read_only and not field.is_relation
    }


ORDER_FIELDS = _writable_fields(Order, _ORDER_READ_ONLY)
ITEM_FIELDS = _writable_fields(OrderItem, _ITEM_READ_ONLY)
ADDRESS_FIELDS = _writable_fields(OrderAddress, _ADDRESS_READ_ONLY)
PAYMENT_FIELDS = {name: concrete_field(Payment, name) for name in ("method", "po_number", "additional_information")}


# --- the draft ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddressDraft:
    """An address's columns as sent (street lines joined by newlines); a null stays null."""

    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PaymentDraft:
    method: str
    additional_information: dict | list
    po_number: str | None = None


@dataclass(frozen=True, slots=True)
class OrderItemDraft:
    """A row's columns (nulls left out, so the model's defaults apply) and its parent's position in
    ``OrderDraft.items``: a composite row without a parent of its own."""

    values: Mapping[str, Any]
    parent: int | None = None

    @property
    def is_virtual(self) -> bool:
        return bool(self.values.get("is_virtual"))


@dataclass(frozen=True, slots=True)
class OrderDraft:
    """An order that can be stored: the service checks its totals and writes it."""

    store_id: int
    header: Mapping[str, Any]  # the order's columns, nulls left out; increment_id when the client chose it
    items: tuple[OrderItemDraft, ...]  # in the payload's order
    billing_address: AddressDraft
    shipping_address: AddressDraft | None  # None only when every row is virtual
    payment: PaymentDraft
    is_virtual: bool


# --- reading values -------------------------------------------------------------------------------------


class _Problems(list):
    """Every problem found, in order; a field refused for its value is not also reported missing."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: set[str] = set()

    def required(self, name: str) -> None:
        if name not in self.refused:
            self.append(InputError.required(name))

    def invalid(self, name: str, value: object) -> None:
        self.refused.add(name)
        self.append(InputError.invalid_value(name, value))


# Each reader takes a JSON value and returns the column's Python value, raising TypeError/ValueError
# (or what Decimal and datetime raise) for one the column cannot hold: reported, never guessed.


def _decimal(field: models.DecimalField, value: Any) -> Decimal:
    number = as_number(value)  # floats never touch money: the door parses JSON numbers as Decimal
    if number is None:
        raise ValueError
    if "qty" in field.name:  # qty_ordered, total_qty_ordered, ...: the one quantity rule
        fits = qty_fits(number)
    else:
        fits = abs(number) < Decimal(10) ** (field.max_digits - field.decimal_places)
    if not fits:
        raise ValueError
    return number


def _boolean(field: models.Field, value: Any) -> bool:
    if value in (True, False, 0, 1, "0", "1"):
        return bool(int(value))
    raise ValueError


def _integer(field: models.IntegerField, value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError
    number = int(value) if not isinstance(value, Decimal) or value == value.to_integral_value() else None
    lowest, highest = connection.ops.integer_field_range(field.get_internal_type())
    if number is None or not lowest <= number <= highest:
        raise ValueError
    return number


def _datetime(field: models.Field, value: Any) -> datetime.datetime:
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError
    parsed = parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=datetime.UTC)
    return parsed.astimezone(datetime.UTC)  # stored in UTC: past year 9999 there is an OverflowError


def _json(field: models.Field, value: Any) -> dict | list:
    if not isinstance(value, dict | list):
        raise TypeError
    return value


def _text(field: models.Field, value: Any) -> str:
    if isinstance(value, dict | list | bool):
        raise TypeError
    text = str(value)
    if field.max_length and len(text) > field.max_length:
        raise ValueError
    return text


Reader = Callable[[Any, Any], Any]
_READERS: tuple[tuple[type[models.Field], Reader], ...] = (
    (models.DecimalField, _decimal),
    (models.BooleanField, _boolean),
    (models.IntegerField, _integer),
    (models.DateTimeField, _datetime),
    (models.JSONField, _json),
)


def _column(field: models.Field) -> tuple[models.Field, Reader]:
    """A field with its reader, chosen once rather than for every value."""
    return field, next((read for kind, read in _READERS if isinstance(field, kind)), _text)


def _columns(fields: dict[str, models.Field]) -> dict[str, tuple[models.Field, Reader]]:
    return {name: _column(field) for name, field in fields.items()}


_ORDER_COLUMNS = _columns(ORDER_FIELDS)
_ITEM_COLUMNS = _columns(ITEM_FIELDS)
_ADDRESS_COLUMNS = _columns(ADDRESS_FIELDS)
_PAYMENT_COLUMNS = _columns(PAYMENT_FIELDS)
_STORE_ID_COLUMN = _column(models.PositiveIntegerField())


def _coerce(column: tuple[models.Field, Reader], value: Any, name: str, problems: _Problems) -> Any:
    """A JSON value as the column's Python value; None when null or refused (and reported)."""
    if value is None:
        return None
    field, read = column
    try:
        return read(field, value)
    except (TypeError, ValueError, InvalidOperation, OverflowError):
        problems.invalid(name, value if not isinstance(value, dict | list) else type(value).__name__)
        return None


def _fields(data: dict, columns: dict[str, tuple[models.Field, Reader]], path: str, problems: _Problems) -> dict:
    values = {}
    for key, raw in data.items():
        column = columns.get(key)
        if column is not None:
            values[key] = _coerce(column, raw, f"{path}{key}", problems)
    return values


def _fill_base_twins(
    values: dict, twins: list[tuple[str, str]], *, same_currency: bool, path: str, problems: _Problems
) -> None:
    for amount_field, base_field in twins:
        if values.get(base_field) is None and values.get(amount_field) is not None:
            if same_currency:
                values[base_field] = values[amount_field]
            else:
                problems.required(f"{path}{base_field}")


def _without_nulls(values: dict) -> MappingProxyType:
    return MappingProxyType({key: value for key, value in values.items() if value is not None})


# --- the parts of an order ------------------------------------------------------------------------------


def _check_item_count(raw_items: Any) -> None:
    """At most ``ORDER_MAX_ITEMS`` items (Magento has no limit), checked before any item is read."""
    limit = settings.ORDER_MAX_ITEMS
    if isinstance(raw_items, list) and len(raw_items) > limit:
        raise InputError(
            "An order may have at most %limit items; this one has %count.",
            {"limit": limit, "count": len(raw_items)},
            code=ErrorCode.TOO_MANY_ITEMS,
        )


def _store_id(sent: Any, route_store_id: int, problems: _Problems) -> int | None:
    """The entity's store_id, else the route's; a store that does not exist is refused."""
    store_id = route_store_id if sent is None else _coerce(_STORE_ID_COLUMN, sent, "store_id", problems)
    if store_id is not None and not Store.objects.filter(pk=store_id).exists():
        problems.invalid("store_id", store_id)
    return store_id


def _address(data: Any, path: str, problems: _Problems) -> AddressDraft | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.invalid(path.rstrip("."), type(data).__name__)
        return None
    data = dict(data)
    street = data.get("street")
    if isinstance(street, list):
        data["street"] = "\n".join(str(line) for line in street)
    values = _fields(data, _ADDRESS_COLUMNS, path, problems)
    for required in ("firstname", "lastname", "street", "city", "country_id"):
        if not values.get(required):
            problems.required(f"{path}{required}")
    return AddressDraft(MappingProxyType(values))


def _payment(data: Any, problems: _Problems) -> PaymentDraft | None:
    """The payment's method, purchase order number and additional information, each held to its column."""
    if not isinstance(data, dict) or not data.get("method") or not isinstance(data["method"], str):
        problems.required("payment.method")
        return None
    data = {**data, "additional_information": data.get("additional_information") or {}}
    values = _fields(data, _PAYMENT_COLUMNS, "payment.", problems)
    return PaymentDraft(values["method"], values["additional_information"], values.get("po_number"))


def _shipping_address(extension: Any, header: dict, problems: _Problems) -> AddressDraft | None:
    """The first shipping assignment's address; its method fills the header's shipping_method if unset."""
    extension = extension or {}
    if not isinstance(extension, dict):
        problems.invalid("extension_attributes", type(extension).__name__)
        return None
    assignments = extension.get("shipping_assignments") or []
    if not (assignments and isinstance(assignments, list) and isinstance(assignments[0], dict)):
        return None
    shipping = assignments[0].get("shipping") or {}
    if not isinstance(shipping, dict):
        problems.invalid("extension_attributes.shipping_assignments[0].shipping", type(shipping).__name__)
        shipping = {}
    address = _address(shipping.get("address"), "shipping_assignments[0].shipping.address.", problems)
    if shipping.get("method") and not header.get("shipping_method"):
        name = "extension_attributes.shipping_assignments[0].shipping.method"
        header["shipping_method"] = _coerce(_ORDER_COLUMNS["shipping_method"], shipping["method"], name, problems)
    return address


# --- the rows -------------------------------------------------------------------------------------------


def _is_row_reference(value: object) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _item(raw: dict, path: str, problems: _Problems, *, same_currency: bool) -> dict:
    """One row's columns, nulls left out."""
    values = _fields(raw, _ITEM_COLUMNS, path, problems)
    _fill_base_twins(values, _ITEM_MONEY_TWINS, same_currency=same_currency, path=path, problems=problems)
    _check_item(values, path, problems)
    values.setdefault("is_virtual", values.get("product_type") in VIRTUAL_TYPES)
    if values.get("product_options") is None:
        values["product_options"] = {}
    for reference in ("item_id", "parent_item_id"):  # names of rows: a number or a string, nothing else
        if raw.get(reference) is not None and not _is_row_reference(raw[reference]):
            problems.invalid(f"{path}{reference}", raw[reference])
    return {key: value for key, value in values.items() if value is not None}


def _check_item(values: dict, path: str, problems: _Problems) -> None:
    """A row names its sku and a known product type, orders a positive quantity, and no amount is negative."""
    for required in ("sku", "product_type"):
        if not values.get(required):
            problems.required(f"{path}{required}")
    if values.get("product_type") and values["product_type"] not in ProductType.values:
        problems.invalid(f"{path}product_type", values["product_type"])
    qty = values.get("qty_ordered")
    if qty is None:
        problems.required(f"{path}qty_ordered")
    elif qty <= 0:
        problems.invalid(f"{path}qty_ordered", qty)
    for name in _ITEM_NOT_NEGATIVE:
        if values.get(name) is not None and values[name] < 0:
            problems.invalid(f"{path}{name}", values[name])


def _parents(rows: dict[int, dict], names: dict, parent_names: dict[int, Any], problems: _Problems) -> dict[int, int]:
    """Each child's parent (row index to row index): a composite row of the order that has no parent itself."""
    parents = {}
    for index, name in parent_names.items():
        parent = names.get(name)
        if (
            parent is None
            or parent == index
            or rows[parent].get("product_type") not in COMPOSITE_TYPES
            or parent in parent_names  # one level of nesting only
        ):
            problems.invalid(f"items[{index}].parent_item_id", name)
        else:
            parents[index] = parent
    return parents


def _check_composites(rows: dict[int, dict], parents: dict[int, int], problems: _Problems) -> None:
    """A composite row has children, a configurable exactly one. (Indexes count the rows that are objects.)"""
    children = Counter(parents.values())
    for position, (index, values) in enumerate(rows.items()):
        product_type = values.get("product_type")
        if product_type in COMPOSITE_TYPES and not children[index]:
            problems.invalid(f"items[{position}].product_type", f"{product_type} without child items")
        if product_type == ProductType.CONFIGURABLE and children[index] > 1:
            problems.invalid(f"items[{position}].product_type", "configurable with more than one child item")


def _items(raw_items: Any, problems: _Problems, *, same_currency: bool) -> list[OrderItemDraft]:
    """The rows; each names itself by its item_id (else its position) for its children's parent_item_id."""
    if not isinstance(raw_items, list) or not raw_items:
        problems.required("items")
        return []
    rows: dict[int, dict] = {}
    names: dict[Any, int] = {}
    parent_names: dict[int, Any] = {}
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            problems.invalid(f"items[{index}]", type(raw).__name__)
            continue
        rows[index] = _item(raw, f"items[{index}].", problems, same_currency=same_currency)
        item_id, parent_name = raw.get("item_id"), raw.get("parent_item_id")
        names[item_id if _is_row_reference(item_id) else f"#{index}"] = index
        if _is_row_reference(parent_name):
            parent_names[index] = parent_name
    parents = _parents(rows, names, parent_names, problems)
    _check_composites(rows, parents, problems)
    return [OrderItemDraft(MappingProxyType(values), parents.get(index)) for index, values in rows.items()]


# --- the order ------------------------------------------------------------------------------------------


def parse_order(entity: Any, *, store_id: int) -> OrderDraft:
    """Read ``entity`` (the dict inside ``{"entity": ...}``) for the route's ``store_id`` (the entity's own
    store_id wins). Raises ``InputError``: the item limit alone, or every problem found, collected."""
    if not isinstance(entity, dict):
        raise InputError.required("entity")
    _check_item_count(entity.get("items"))
    problems = _Problems()
    header = _fields(entity, _ORDER_COLUMNS, "", problems)
    order_store_id = _store_id(entity.get("store_id"), store_id, problems)
    if not header.get("customer_email"):
        problems.required("customer_email")

    same_currency = header.get("base_currency_code", "USD") == header.get("order_currency_code", "USD")
    _fill_base_twins(header, _MONEY_TWINS, same_currency=same_currency, path="", problems=problems)
    for name in ("grand_total", "subtotal"):
        if header.get(name) is None:
            problems.required(name)

    items = _items(entity.get("items"), problems, same_currency=same_currency)
    billing = _address(entity.get("billing_address"), "billing_address.", problems)
    if billing is None:
        problems.required("billing_address")
    payment = _payment(entity.get("payment"), problems)
    is_virtual = bool(items) and all(item.is_virtual for item in items)
    shipping = _shipping_address(entity.get("extension_attributes"), header, problems)
    if shipping is None and not is_virtual:
        problems.required(SHIPPING_ADDRESS)

    if problems:
        raise InputError.collect(list(problems))
    # Each of these is None only after a problem was reported: none was.
    assert order_store_id is not None and billing is not None and payment is not None
    return OrderDraft(
        store_id=order_store_id,
        header=_without_nulls(header),
        items=tuple(items),
        billing_address=billing,
        shipping_address=shipping,
        payment=payment,
        is_virtual=is_virtual,
    )
