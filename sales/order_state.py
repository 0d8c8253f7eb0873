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
    """Magento's Order::canCreditmemo for an order with money: paid and not all refunded, in a state that
    allows a refund. Its zero-grand-total branch (canCreditmemoForZeroTotal: yes once nothing is left to
    invoice and no credit memo exists) waits for credit memos; ``state_after_invoice`` asks the zero total."""
    if order.state in (OrderState.HOLDED, OrderState.PAYMENT_REVIEW, OrderState.CANCELED, OrderState.CLOSED):
        return False
    return not is_zero(as_decimal(order.total_paid) - as_decimal(order.total_refunded))


def state_after_invoice(order: Order, tree: ItemTree) -> OrderState:
    """New (or pending payment) becomes processing; nothing left to invoice or ship completes it.

    Magento's StateResolver completes such an order when its base grand total is 0 or it can be
    credit-memoed; its save handler (Handler/State::check) closes a physical one that cannot be. A free
    order is never closed: Magento's canCreditmemo answers yes for it once it is fully invoiced (its
    zero-total branch), which ``can_creditmemo`` does not model yet (no credit memos here), so the zero
    total is asked first, as the resolver does.

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
    if is_zero(as_decimal(order.base_grand_total)) or can_creditmemo(order) or order.is_virtual:
        return OrderState.COMPLETE
    return OrderState.CLOSED  # a physical order with nothing left to refund: Magento closes it


def apply_state(order: Order, state: OrderState) -> None:
    if order.state != state:
        order.state = state
        order.status = DEFAULT_STATUS[state]


def order_can_invoice(order: Order, tree: ItemTree) -> bool:
    """Magento's CanInvoice: the order's state allows an invoice and a row has something to invoice
    (asked before the admin offers its Invoice button; the service reports each reason by name)."""
    return order.state not in STATES_THAT_REFUSE_INVOICES and tree.can_invoice_any()
