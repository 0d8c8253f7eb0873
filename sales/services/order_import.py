"""order_import: store an order sent in the shape ``GET /V1/orders/{id}`` returns.

Used by ``POST /V1/orders``, ``PUT /V1/orders/create`` and the demo data loader. The entity is
checked whole (types, required fields, product types, parents, totals that add up) and every
problem is reported at once; nothing is written unless all of it is right.

Keys the order does not store (extension data of other Magento modules, read-only fields
returned by GET such as ``entity_id`` or ``total_due``) are ignored, so an order read from a
Magento store can be sent as it is.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inventory.quantity import as_number, qty_fits
from inventory.services import reservations_place_for_order, stock_resolve
from payments.exceptions import PaymentGatewayFailure
from payments.models import Payment
from payments.services import is_gateway_method, payment_create
from sales.errors import DomainError, InputError
from sales.items import ItemTree
from sales.locking import mark_not_retryable, retry_transient
from sales.models import (
    DEFAULT_STATUS,
    Order,
    OrderAddress,
    OrderItem,
    OrderState,
    OrderStatusHistory,
    ProductType,
    SalesSequence,
    Store,
)
from sales.money import ZERO, as_decimal, format_price
from sales.numbering import next_increment_id

TOLERANCE = Decimal("0.01")
COMPOSITE_TYPES = {ProductType.CONFIGURABLE, ProductType.BUNDLE}
VIRTUAL_TYPES = {ProductType.VIRTUAL, ProductType.DOWNLOADABLE}

# Bookkeeping an order acquires here, never taken from the payload.
_ORDER_READ_ONLY = {
    "id", "store", "state", "status", "billing_address", "shipping_address", "updated_at",
    "total_invoiced", "base_total_invoiced", "subtotal_invoiced", "base_subtotal_invoiced",
    "discount_invoiced", "base_discount_invoiced", "tax_invoiced", "base_tax_invoiced",
    "discount_tax_compensation_invoiced", "base_discount_tax_compensation_invoiced",
    "shipping_invoiced", "base_shipping_invoiced", "base_total_invoiced_cost",
    "total_paid", "base_total_paid", "total_refunded", "base_total_refunded",
    "total_canceled", "base_total_canceled", "hold_before_state", "hold_before_status",
    "email_sent", "send_email", "is_virtual", "total_item_count",
}  # fmt: skip
_ITEM_READ_ONLY = {
    "id", "order", "parent_item", "created_at", "updated_at", "qty_invoiced", "qty_canceled", "qty_refunded",
    "row_invoiced", "base_row_invoiced", "tax_invoiced", "base_tax_invoiced", "discount_invoiced",
    "base_discount_invoiced", "discount_tax_compensation_invoiced", "base_discount_tax_compensation_invoiced",
    "amount_refunded", "base_amount_refunded",
}  # fmt: skip
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


def _writable_fields(model, read_only: set[str]) -> dict[str, models.Field]:
    return {
        field.name: field
        for field in model._meta.concrete_fields
        if field.name not in read_only and not field.is_relation
    }


ORDER_FIELDS = _writable_fields(Order, _ORDER_READ_ONLY)
ITEM_FIELDS = _writable_fields(OrderItem, _ITEM_READ_ONLY)
ADDRESS_FIELDS = _writable_fields(OrderAddress, _ADDRESS_READ_ONLY)
PAYMENT_FIELDS = {name: Payment._meta.get_field(name) for name in ("method", "po_number", "additional_information")}


class _Problems(list):
    """Every problem found, in order; a field refused for its value is not also reported missing."""

    def __init__(self):
        super().__init__()
        self.refused: set[str] = set()

    def required(self, name: str) -> None:
        if name not in self.refused:
            self.append(InputError.required(name))

    def invalid(self, name: str, value) -> None:
        self.refused.add(name)
        self.append(InputError.invalid_value(name, value))


def _coerce(field: models.Field, value: Any, name: str, problems: _Problems):
    """A JSON value as the model field's Python value; a wrong type, or a value its column cannot hold
    (a string past ``max_length``, an integer out of range, too many digits), is reported, not guessed."""
    if value is None:
        return None
    try:
        if isinstance(field, models.DecimalField):
            number = as_number(value)  # floats never touch money: the door parses JSON numbers as Decimal
            if number is None:
                raise ValueError
            if "qty" in field.name:  # qty_ordered, total_qty_ordered, ...: the one quantity rule
                if not qty_fits(number):
                    raise ValueError
            elif abs(number) >= Decimal(10) ** (field.max_digits - field.decimal_places):
                raise ValueError
            return number
        if isinstance(field, models.BooleanField):
            if value in (True, False, 0, 1, "0", "1"):
                return bool(int(value))
            raise ValueError
        if isinstance(field, models.IntegerField):
            if isinstance(value, bool):
                raise TypeError
            number = int(value) if not isinstance(value, Decimal) or value == value.to_integral_value() else None
            lowest, highest = connection.ops.integer_field_range(field.get_internal_type())
            if number is None or not lowest <= number <= highest:
                raise ValueError
            return number
        if isinstance(field, models.DateTimeField):
            parsed = parse_datetime(str(value))
            if parsed is None:
                raise ValueError
            parsed = parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=datetime.UTC)
            return parsed.astimezone(datetime.UTC)  # stored in UTC: past year 9999 there is an OverflowError
        if isinstance(field, models.JSONField):
            if not isinstance(value, dict | list):
                raise TypeError
            return value
        if isinstance(value, dict | list | bool):
            raise TypeError
        text = str(value)
        if field.max_length and len(text) > field.max_length:
            raise ValueError
        return text
    except (TypeError, ValueError, InvalidOperation, OverflowError):
        problems.invalid(name, value if not isinstance(value, dict | list) else type(value).__name__)
        return None


def _fields(data: dict, fields: dict[str, models.Field], path: str, problems: _Problems) -> dict:
    values = {}
    for key, raw in data.items():
        field = fields.get(key)
        if field is not None:
            values[key] = _coerce(field, raw, f"{path}{key}", problems)
    return values


def _fill_base_twins(values: dict, twins, *, same_currency: bool, path: str, problems: _Problems) -> None:
    for amount_field, base_field in twins:
        if values.get(base_field) is None and values.get(amount_field) is not None:
            if same_currency:
                values[base_field] = values[amount_field]
            else:
                problems.required(f"{path}{base_field}")


def _address(data, path: str, problems: _Problems) -> dict | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.invalid(path.rstrip("."), type(data).__name__)
        return None
    data = dict(data)
    street = data.get("street")
    if isinstance(street, list):
        data["street"] = "\n".join(str(line) for line in street)
    values = _fields(data, ADDRESS_FIELDS, path, problems)
    for required in ("firstname", "lastname", "street", "city", "country_id"):
        if not values.get(required):
            problems.required(f"{path}{required}")
    return values


def _payment(data, problems: _Problems) -> dict:
    """The payment's method, purchase order number and additional information, each held to its column."""
    if not isinstance(data, dict) or not data.get("method") or not isinstance(data["method"], str):
        problems.required("payment.method")
        return {}
    data = {**data, "additional_information": data.get("additional_information") or {}}
    return _fields(data, PAYMENT_FIELDS, "payment.", problems)


def _near(actual: Decimal, expected: Decimal) -> bool:
    return abs(actual - expected) <= TOLERANCE


def _check_totals(header: dict, tree: ItemTree, problems: _Problems) -> None:
    """Header totals must add up, counting only the rows that carry money."""
    priced = [item for item in tree.items if not tree.is_dummy(item)]
    for prefix in ("", "base_"):

        def total(name: str, source=header, prefix=prefix) -> Decimal:
            return as_decimal(source.get(f"{prefix}{name}"))

        rows_subtotal = sum((as_decimal(getattr(item, f"{prefix}row_total")) for item in priced), ZERO)
        if not _near(total("subtotal"), rows_subtotal):
            problems.invalid(f"{prefix}subtotal", f"{total('subtotal')} (the rows add up to {rows_subtotal})")
        shipping_compensation = as_decimal(
            header.get(
                "shipping_discount_tax_compensation_amount"
                if not prefix
                else "base_shipping_discount_tax_compensation_amnt"
            )
        )
        expected_grand = (
            total("subtotal")
            + total("shipping_amount")
            + total("discount_amount")
            + total("tax_amount")
            + total("discount_tax_compensation_amount")
            + shipping_compensation
        )
        if not _near(total("grand_total"), expected_grand):
            problems.invalid(
                f"{prefix}grand_total",
                f"{total('grand_total')} (subtotal + shipping + discount + tax add up to {expected_grand})",
            )


def _is_row_reference(value) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _items(raw_items, problems: _Problems, *, same_currency: bool) -> list[OrderItem]:
    """Order rows with temporary ids (the payload's item_id or its position) to link parents."""
    if not isinstance(raw_items, list) or not raw_items:
        problems.required("items")
        return []
    items: list[OrderItem] = []
    local_ids: dict[Any, int] = {}
    parents: dict[int, Any] = {}
    for index, raw in enumerate(raw_items):
        path = f"items[{index}]."
        if not isinstance(raw, dict):
            problems.invalid(f"items[{index}]", type(raw).__name__)
            continue
        values = _fields(raw, ITEM_FIELDS, path, problems)
        _fill_base_twins(values, _ITEM_MONEY_TWINS, same_currency=same_currency, path=path, problems=problems)
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
        for name in ("price", "base_price", "row_total", "base_row_total", "qty_shipped"):
            if values.get(name) is not None and values[name] < 0:
                problems.invalid(f"{path}{name}", values[name])
        values.setdefault("is_virtual", values.get("product_type") in VIRTUAL_TYPES)
        if values.get("product_options") is None:
            values["product_options"] = {}
        temporary_id = index + 1
        for reference in ("item_id", "parent_item_id"):  # names of rows: a number or a string, nothing else
            if raw.get(reference) is not None and not _is_row_reference(raw[reference]):
                problems.invalid(f"{path}{reference}", raw[reference])
        item_id = raw.get("item_id")
        local_ids[item_id if _is_row_reference(item_id) else f"#{index}"] = temporary_id
        if _is_row_reference(raw.get("parent_item_id")):
            parents[temporary_id] = raw["parent_item_id"]
        item = OrderItem(**{key: value for key, value in values.items() if value is not None})
        item.pk = temporary_id
        items.append(item)
    by_id = {item.pk: item for item in items}
    for temporary_id, parent_ref in parents.items():
        parent_id = local_ids.get(parent_ref)
        index = temporary_id - 1
        if parent_id is None or parent_id == temporary_id or by_id[parent_id].product_type not in COMPOSITE_TYPES:
            problems.invalid(f"items[{index}].parent_item_id", parent_ref)
        elif by_id[parent_id].parent_item_id is not None or parent_id in parents:
            problems.invalid(f"items[{index}].parent_item_id", parent_ref)  # one level of nesting only
        else:
            by_id[temporary_id].parent_item_id = parent_id
    children = {item.parent_item_id for item in items if item.parent_item_id}
    for index, item in enumerate(items):
        if item.product_type in COMPOSITE_TYPES and item.pk not in children:
            problems.invalid(f"items[{index}].product_type", f"{item.product_type} without child items")
        if item.product_type == ProductType.CONFIGURABLE and sum(1 for i in items if i.parent_item_id == item.pk) > 1:
            problems.invalid(f"items[{index}].product_type", "configurable with more than one child item")
    return items


def _check_item_count(raw_items) -> None:
    """At most ``ORDER_MAX_ITEMS`` items (Magento has no limit), checked before any item is read."""
    limit = settings.ORDER_MAX_ITEMS
    if isinstance(raw_items, list) and len(raw_items) > limit:
        raise InputError(
            "An order may have at most %limit items; this one has %count.",
            {"limit": limit, "count": len(raw_items)},
            code="too_many_items",
        )


@retry_transient()
def order_import(*, entity: dict, store_id: int) -> Order:
    """Validate and store an order; returns it saved, state new, status pending."""
    if not isinstance(entity, dict):
        raise InputError.required("entity")
    _check_item_count(entity.get("items"))
    problems = _Problems()
    header = _fields(entity, ORDER_FIELDS, "", problems)
    if entity.get("store_id") is not None:
        store_id = _coerce(models.PositiveIntegerField(), entity["store_id"], "store_id", problems)
    if store_id is not None and not Store.objects.filter(pk=store_id).exists():
        problems.invalid("store_id", store_id)
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

    shipping = None
    is_virtual = bool(items) and all(item.is_virtual for item in items)
    extension = entity.get("extension_attributes") or {}
    if not isinstance(extension, dict):
        problems.invalid("extension_attributes", type(extension).__name__)
        extension = {}
    assignments = extension.get("shipping_assignments") or []
    if assignments and isinstance(assignments, list) and isinstance(assignments[0], dict):
        shipping_data = assignments[0].get("shipping") or {}
        if not isinstance(shipping_data, dict):
            problems.invalid("extension_attributes.shipping_assignments[0].shipping", type(shipping_data).__name__)
            shipping_data = {}
        shipping = _address(shipping_data.get("address"), "shipping_assignments[0].shipping.address.", problems)
        if shipping_data.get("method") and not header.get("shipping_method"):
            header["shipping_method"] = _coerce(
                ORDER_FIELDS["shipping_method"], shipping_data["method"],
                "extension_attributes.shipping_assignments[0].shipping.method", problems,
            )  # fmt: skip
    if shipping is None and not is_virtual:
        problems.required("extension_attributes.shipping_assignments[0].shipping.address")

    if not problems:
        _check_totals(header, ItemTree(items), problems)
    if problems:
        raise InputError.collect(list(problems))

    return _save(header, items, billing, shipping, payment, store_id=store_id, is_virtual=is_virtual)


def _save(header, items, billing, shipping, payment, *, store_id: int, is_virtual: bool) -> Order:
    top_level = [item for item in items if item.parent_item_id is None]
    with transaction.atomic():
        increment_id = header.pop("increment_id", None)
        if increment_id and Order.objects.filter(store_id=store_id, increment_id=increment_id).exists():
            raise InputError.invalid_value("increment_id", increment_id)
        while not increment_id:
            candidate = next_increment_id(entity_type=SalesSequence.EntityType.ORDER, store_id=store_id)
            if not Order.objects.filter(store_id=store_id, increment_id=candidate).exists():
                increment_id = candidate  # skip numbers an imported order already took
        order = Order(
            **{key: value for key, value in header.items() if value is not None},
            store_id=store_id,
            increment_id=increment_id,
            state=OrderState.NEW,
            status=DEFAULT_STATUS[OrderState.NEW],
            is_virtual=is_virtual,
            total_item_count=len(top_level),
        )
        if order.created_at is None:
            order.created_at = timezone.now()
        if order.total_qty_ordered is None:
            order.total_qty_ordered = sum((item.qty_ordered for item in top_level), ZERO)
        if order.store_name is None:
            order.store_name = Store.objects.values_list("name", flat=True).get(pk=store_id)
        try:
            with transaction.atomic():
                order.save(force_insert=True)
        except IntegrityError as duplicate:  # a concurrent import took the same increment_id
            raise InputError.invalid_value("increment_id", increment_id) from duplicate

        order.billing_address = OrderAddress.objects.create(order=order, address_type="billing", **billing)
        if shipping is not None:
            order.shipping_address = OrderAddress.objects.create(order=order, address_type="shipping", **shipping)
        order.save(update_fields=["billing_address", "shipping_address"])

        # Rows are stored in the payload's order (children right after their parent, as Magento
        # numbers them), then children are pointed at their parents' stored ids.
        by_temporary_id = {item.pk: item for item in items}
        temporary_parent = {item.pk: item.parent_item_id for item in items}
        for item in items:
            item.pk = None
            item.order = order
            item.store_id = store_id
            item.parent_item_id = None
        OrderItem.objects.bulk_create(items)
        children = []
        for temporary_id, item in by_temporary_id.items():
            if temporary_parent[temporary_id]:
                item.parent_item = by_temporary_id[temporary_parent[temporary_id]]
                children.append(item)
        if children:
            OrderItem.objects.bulk_update(children, ["parent_item"])
        # Magento's order_placed reservations: the salable quantity drops now, the sources at invoice/shipment.
        reservations_place_for_order(
            stock_id=stock_resolve(store_id=store_id), order_id=order.pk, order_increment_id=order.increment_id,
            rows=[(item.sku, item.product_type, item.qty_ordered) for item in items],
        )  # fmt: skip

        if is_gateway_method(payment["method"]):
            # The authorization's idempotency key includes this order's id, which a re-run would not reuse.
            mark_not_retryable("the payment authorization")
        try:
            _payment, authorization = payment_create(
                order_id=order.pk,
                order_reference=order.increment_id,
                method=payment["method"],
                currency=order.base_currency_code,
                additional_information=payment["additional_information"],
                po_number=payment.get("po_number"),
                amount_ordered=order.grand_total,
                base_amount_ordered=order.base_grand_total,
                shipping_amount=order.shipping_amount,
                base_shipping_amount=order.base_shipping_amount,
            )
        except PaymentGatewayFailure as failure:
            raise DomainError("The payment gateway refused the authorization: %1", [failure.reason],
                              code="payment_gateway_error") from failure  # fmt: skip
        if authorization is not None:
            amount = format_price(authorization.amount, order.base_currency_code)
            OrderStatusHistory.objects.create(
                order=order, status=order.status, is_customer_notified=False, entity_name="order",
                comment=f'Authorized amount of {amount} Transaction ID: "{authorization.txn_id}"',
            )  # fmt: skip
    return order
