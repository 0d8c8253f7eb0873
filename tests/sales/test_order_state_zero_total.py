"""The state of a zero-total order after its invoice (Magento 2.4: Model/Order/StateResolver.php
``isOrderComplete``, Model/ResourceModel/Order/Handler/State.php ``check``, Model/Order.php ``canCreditmemo``
with its zero-grand-total branch ``canCreditmemoForZeroTotal``).

Magento completes an order with nothing left to invoice or ship when its base grand total is 0, and its save
handler closes only a physical order that cannot be credit-memoed, which a free order fully invoiced can (the
zero-total branch: nothing due, no credit memo yet). So a free order, physical or virtual, ends ``complete``,
never ``closed``. Orders are made by ``tests.factories`` through the import service; "shipped" is the
``qty_shipped`` an imported row carries (nothing ships orders yet).
"""

from __future__ import annotations

import pytest

from sales.models import OrderState
from sales.services import CaptureCase
from tests.factories import ZERO, D, InvoiceFactory, OrderFactory, line

pytestmark = pytest.mark.django_db

# A physical row given away: its 20.00 is all discount, and shipping is free (grand total 0).
GIVEN_AWAY = {"discount": "20.00"}


def state_after_invoice(order, **invoice) -> tuple[str, str]:
    InvoiceFactory(order=order, **invoice)
    order.refresh_from_db()
    return order.state, order.status


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(line("A", 2, "10.00", qty_shipped=D(2), **GIVEN_AWAY), id="discounted-to-zero"),
        pytest.param(line("A", 2, "0.00", qty_shipped=D(2)), id="priced-at-zero"),
    ],
)
def test_a_zero_total_physical_order_shipped_then_invoiced_is_complete_not_closed(row):
    # Given a physical order of grand total 0 whose rows have all shipped
    order = OrderFactory(lines=[row], shipping=ZERO)
    assert (order.grand_total, order.base_grand_total, order.is_virtual) == (ZERO, ZERO, False)
    # When it is invoiced in full (nothing is paid: there is nothing to pay)
    # Then nothing is left to invoice or ship, and a zero base grand total completes it (StateResolver),
    # which the save handler keeps: the zero-total branch of canCreditmemo answers yes, so it does not close
    assert state_after_invoice(order) == (OrderState.COMPLETE, "complete")
    assert order.total_paid == ZERO


def test_a_zero_total_virtual_order_is_complete_after_its_invoice():
    # Given a virtual product given away (Magento never ships a virtual order: canShip is false)
    order = OrderFactory(lines=[line("V", 1, "15.00", product_type="virtual", discount="15.00")], shipping=ZERO)
    assert (order.base_grand_total, order.is_virtual) == (ZERO, True)
    # When it is invoiced, it is complete (the zero base grand total; a virtual order is never closed)
    assert state_after_invoice(order) == (OrderState.COMPLETE, "complete")


def test_a_zero_total_physical_order_left_to_ship_stays_processing_after_its_invoice():
    # Given a free physical order that has not shipped
    order = OrderFactory(lines=[line("A", 2, "10.00", **GIVEN_AWAY)], shipping=ZERO)
    # When it is invoiced, it waits for its shipment: a zero total completes only what has nothing left to ship
    assert state_after_invoice(order) == (OrderState.PROCESSING, "processing")


def test_a_zero_total_order_partly_invoiced_stays_processing():
    # Given a free order of two shipped rows
    order = OrderFactory(
        lines=[line("A", 1, "10.00", qty_shipped=D(1), discount="10.00"), line("B", 1, "0.00", qty_shipped=D(1))],
        shipping=ZERO,
    )
    # When only one row is invoiced, the other is still to invoice
    assert state_after_invoice(order, lines=[("A", 1)]) == (OrderState.PROCESSING, "processing")
    # And the invoice of the other completes it
    assert state_after_invoice(order, lines=[("B", 1)]) == (OrderState.COMPLETE, "complete")


def test_an_unpaid_physical_order_with_a_total_shipped_and_invoiced_is_closed():
    # Given a 20.00 physical order shipped in full
    order = OrderFactory(lines=[line("A", 2, "10.00", qty_shipped=D(2))], shipping=ZERO)
    # When it is invoiced without capturing (nothing paid, so nothing can be credit-memoed)
    # Then only a zero grand total would complete it: Magento's save handler closes it (State::check)
    assert state_after_invoice(order, capture_case=CaptureCase.NOT_CAPTURE) == (OrderState.CLOSED, "closed")


def test_an_unpaid_virtual_order_with_a_total_invoiced_in_full_is_complete_never_closed():
    # Given a 15.00 virtual order (nothing to ship)
    order = OrderFactory(lines=[line("V", 1, "15.00", product_type="virtual")], shipping=ZERO)
    # When it is invoiced without capturing, nothing can be credit-memoed, yet only physical orders close
    assert state_after_invoice(order, capture_case=CaptureCase.NOT_CAPTURE) == (OrderState.COMPLETE, "complete")
