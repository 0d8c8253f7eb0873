"""The order's state and status after an invoice (Magento's StateResolver and save handler)."""

from __future__ import annotations

from sales.items import ItemTree
from sales.models import DEFAULT_STATUS, Order, OrderState
from sales.money import as_decimal, is_zero

# Magento's CanInvoice validator: no invoice in these states.
STATES_THAT_REFUSE_INVOICES = frozenset(
    {
        OrderState.PAYMENT_REVIEW,
        OrderState.HOLDED,
        OrderState.CANCELED,
        OrderState.COMPLETE,
        OrderState.CLOSED,
    }
)


def can_creditmemo(order: Order) -> bool:
    if order.state in (OrderState.HOLDED, OrderState.PAYMENT_REVIEW, OrderState.CANCELED, OrderState.CLOSED):
        return False
    return not is_zero(as_decimal(order.total_paid) - as_decimal(order.total_refunded))


def state_after_invoice(order: Order, tree: ItemTree) -> OrderState:
    """New (or pending payment) becomes processing; nothing left to invoice or ship completes it.

    Deliberate difference: Magento's API resolver turns a ``pending_payment`` order into ``new``
    (section 5.4); here it is processing like any order that has been invoiced.
    """
    state = OrderState(order.state)
    if state in (OrderState.CANCELED, OrderState.HOLDED, OrderState.PAYMENT_REVIEW):
        return state
    if state in (OrderState.NEW, OrderState.PENDING_PAYMENT):
        state = OrderState.PROCESSING
    if tree.can_invoice_any() or tree.can_ship_any():
        return state
    if not can_creditmemo(order) and not order.is_virtual:
        return OrderState.CLOSED  # nothing left to refund on a physical order: Magento closes it
    return OrderState.COMPLETE


def apply_state(order: Order, state: OrderState) -> None:
    if order.state != state:
        order.state = state
        order.status = DEFAULT_STATUS[state]


def order_can_invoice(order: Order, tree: ItemTree) -> bool:
    """Magento's CanInvoice: the order's state allows an invoice and a row has something to invoice
    (asked before the admin offers its Invoice button; the service reports each reason by name)."""
    return order.state not in STATES_THAT_REFUSE_INVOICES and tree.can_invoice_any()
