"""order_import: store an order sent in the shape ``GET /V1/orders/{id}`` returns.

Used by ``POST /V1/orders``, ``PUT /V1/orders/create`` and the demo data loader. Reading the entity
(types, required fields, columns, product types, the rows' tree) is ``sales.payloads.order``'s, which
hands over a frozen ``OrderDraft``; ``order_create`` checks what needs the whole order's money (totals
that add up) and writes it: rows, stock reservations, the payment and its authorization. Nothing is
written unless all of it is right.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.services import reservations_place_for_order, stock_resolve
from payments.exceptions import PaymentGatewayFailure
from payments.services import is_gateway_method, payment_create
from sales.errors import DomainError, ErrorCode, InputError
from sales.items import ItemTree
from sales.locking import mark_not_retryable, retry_transient
from sales.models import (
    DEFAULT_STATUS,
    Order,
    OrderAddress,
    OrderItem,
    OrderState,
    OrderStatusHistory,
    SalesSequence,
    Store,
)
from sales.money import ZERO, as_decimal, format_price
from sales.numbering import next_increment_id
from sales.payloads.order import AddressDraft, OrderDraft, OrderItemDraft, PaymentDraft, parse_order

TOLERANCE = Decimal("0.01")


def order_import(*, entity: dict, store_id: int) -> Order:
    """Read and store an order entity (for callers holding the raw dict: the demo loader, benchmarks, tests)."""
    return order_create(draft=parse_order(entity, store_id=store_id))


@retry_transient()
def order_create(*, draft: OrderDraft) -> Order:
    """Store a parsed order once its totals add up; returns it saved, state new, status pending."""
    items = _unsaved_rows(draft.items)
    problems = _totals_problems(draft.header, ItemTree(items))
    if problems:
        raise InputError.collect(problems)
    return _save(draft, items)


def _unsaved_rows(drafts: tuple[OrderItemDraft, ...]) -> list[OrderItem]:
    """Fresh rows for each attempt; until saved, a row's pk is its position + 1, which its children's
    parent_item_id names (what ItemTree reads)."""
    items = []
    for position, row in enumerate(drafts, start=1):
        item = OrderItem(**row.values)
        item.pk = position
        if row.parent is not None:
            item.parent_item_id = row.parent + 1
        items.append(item)
    return items


def _near(actual: Decimal, expected: Decimal) -> bool:
    return abs(actual - expected) <= TOLERANCE


# The shipping discount tax compensation's column, by currency: Magento misspelt the base one.
_SHIPPING_COMPENSATION = {
    "": "shipping_discount_tax_compensation_amount",
    "base_": "base_shipping_discount_tax_compensation_amnt",
}


def _totals_problems(header: Mapping, tree: ItemTree) -> list[InputError]:
    """Header totals must add up, counting only the rows that carry money."""
    problems = []
    priced = [item for item in tree.items if not tree.is_dummy(item)]
    for prefix, compensation in _SHIPPING_COMPENSATION.items():

        def total(name: str, prefix: str = prefix) -> Decimal:
            return as_decimal(header.get(f"{prefix}{name}"))

        rows_subtotal = sum((as_decimal(getattr(item, f"{prefix}row_total")) for item in priced), ZERO)
        if not _near(total("subtotal"), rows_subtotal):
            sent = f"{total('subtotal')} (the rows add up to {rows_subtotal})"
            problems.append(InputError.invalid_value(f"{prefix}subtotal", sent))
        expected_grand = (
            total("subtotal")
            + total("shipping_amount")
            + total("discount_amount")
            + total("tax_amount")
            + total("discount_tax_compensation_amount")
            + as_decimal(header.get(compensation))
        )
        if not _near(total("grand_total"), expected_grand):
            sent = f"{total('grand_total')} (subtotal + shipping + discount + tax add up to {expected_grand})"
            problems.append(InputError.invalid_value(f"{prefix}grand_total", sent))
    return problems


def _increment_id(header: Mapping, store_id: int) -> str:
    """The client's increment_id if no order of the store has it, else the store's next free number."""
    increment_id = header.get("increment_id")
    if increment_id and Order.objects.filter(store_id=store_id, increment_id=increment_id).exists():
        raise InputError.invalid_value("increment_id", increment_id)
    while not increment_id:
        candidate = next_increment_id(entity_type=SalesSequence.EntityType.ORDER, store_id=store_id)
        if not Order.objects.filter(store_id=store_id, increment_id=candidate).exists():
            increment_id = candidate  # skip numbers an imported order already took
    return increment_id


def _save(draft: OrderDraft, items: list[OrderItem]) -> Order:
    with transaction.atomic():
        order = _order_save(draft, items)
        order.billing_address = _address_save(order, "billing", draft.billing_address)
        order.shipping_address = _address_save(order, "shipping", draft.shipping_address)
        order.save(update_fields=["billing_address", "shipping_address"])
        _rows_save(order, items)
        # Magento's order_placed reservations: the salable quantity drops now, the sources at invoice/shipment.
        reservations_place_for_order(
            stock_id=stock_resolve(store_id=order.store_id),
            order_id=order.pk,
            order_increment_id=order.increment_id,
            rows=[(item.sku, item.product_type, item.qty_ordered) for item in items],
        )
        _payment_save(order, draft.payment)
    return order


def _order_save(draft: OrderDraft, items: list[OrderItem]) -> Order:
    """The order row, state new; what the client left out is counted from the rows or taken from the store."""
    store_id = draft.store_id
    top_level = [item for item in items if item.parent_item_id is None]
    increment_id = _increment_id(draft.header, store_id)
    order = Order(
        **{key: value for key, value in draft.header.items() if key != "increment_id"},
        store_id=store_id,
        increment_id=increment_id,
        state=OrderState.NEW,
        status=DEFAULT_STATUS[OrderState.NEW],
        is_virtual=draft.is_virtual,
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
    return order


def _address_save(order: Order, address_type: str, address: AddressDraft | None) -> OrderAddress | None:
    if address is None:
        return None
    return OrderAddress.objects.create(order=order, address_type=address_type, **address.values)


def _rows_save(order: Order, items: list[OrderItem]) -> None:
    """Rows are stored in the payload's order (children right after their parent, as Magento numbers
    them), then children are pointed at their parents' stored ids."""
    by_position = {item.pk: item for item in items}
    parent_position = {item.pk: item.parent_item_id for item in items}
    for item in items:
        item.pk = None
        item.order = order
        item.store_id = order.store_id
        item.parent_item_id = None
    OrderItem.objects.bulk_create(items)
    children = []
    for position, item in by_position.items():
        if parent := parent_position[position]:
            item.parent_item = by_position[parent]
            children.append(item)
    if children:
        OrderItem.objects.bulk_update(children, ["parent_item"])


def _payment_save(order: Order, payment: PaymentDraft) -> None:
    """The payment row; a gateway method authorizes the grand total, recorded in the order's history."""
    if is_gateway_method(payment.method):
        # The authorization's idempotency key includes this order's id, which a re-run would not reuse.
        mark_not_retryable("the payment authorization")
    try:
        _payment, authorization = payment_create(
            order_id=order.pk,
            order_reference=order.increment_id,
            method=payment.method,
            currency=order.base_currency_code,
            additional_information=payment.additional_information,
            po_number=payment.po_number,
            amount_ordered=order.grand_total,
            base_amount_ordered=order.base_grand_total,
            shipping_amount=order.shipping_amount,
            base_shipping_amount=order.base_shipping_amount,
        )
    except PaymentGatewayFailure as failure:
        raise DomainError(
            "The payment gateway refused the authorization: %1", [failure.reason], code=ErrorCode.PAYMENT_GATEWAY_ERROR
        ) from failure
    if authorization is not None:
        amount = format_price(authorization.amount, order.base_currency_code)
        OrderStatusHistory.objects.create(
            order=order,
            status=order.status,
            is_customer_notified=False,
            entity_name="order",
            comment=f'Authorized amount of {amount} Transaction ID: "{authorization.txn_id}"',
        )
