"""Parallel invoices over real HTTP cannot take a source below zero: the deduction locks the source items.

Each request runs in its own live-server thread with its own PostgreSQL connection; the client threads
wait behind a barrier so the invoices reach the server together. Different orders do not share an
order lock, so only the source item locks (and the CHECK constraint behind them) stand between them.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Reservation, SourceItem, SourceItemStatus, StockSourceLink
from inventory.services import SourceItemData, source_items_save
from sales.models import Invoice
from tests.api.v1.test_invoice_concurrency import parse, post_all_at_once
from tests.factories import superuser_token
from tests.inventory.conftest import NOT_ENOUGH, add_source, line, order_entity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bearer_token(default_store, default_stock) -> str:
    """A superuser's admin token (``transaction=True`` flushes users, stocks and sources between tests)."""
    return superuser_token()


def stock(*entries: tuple) -> None:
    source_items_save(
        items=[SourceItemData(sku=sku, source_code=code, quantity=Decimal(qty), status=1) for sku, code, qty in entries]
    )


def invoice_url(live_server, order_id: int) -> str:
    return f"{live_server.url}/rest/default/V1/order/{order_id}/invoice"


def test_four_parallel_invoices_of_2_from_a_source_of_5_two_succeed_and_1_is_left(
    live_server, bearer_token, import_order
):
    # given 5 vp1 in the Default Source and four orders of 2 each
    stock(("vp1", "default", 5))
    orders = [import_order(order_entity(line("vp1", qty=2))) for _ in range(4)]

    # when the four are invoiced at the same moment
    results = post_all_at_once(
        [(invoice_url(live_server, order.pk), {"capture": True}) for order in orders], bearer_token
    )

    # then exactly two succeed, the others get Magento's refusal, and the source holds the 1 left
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 200, 400, 400], results
    for status, content in results:
        if status == 400:
            assert parse(content) == {"message": NOT_ENOUGH}, content
    assert Invoice.objects.count() == 2
    item = SourceItem.objects.get(sku="vp1")
    assert (item.quantity, item.status) == (Decimal(1), SourceItemStatus.IN_STOCK)
    assert Reservation.objects.filter(sku="vp1", quantity__gt=0).count() == 2


def test_parallel_invoices_over_two_sources_never_take_either_below_zero(live_server, bearer_token, import_order):
    # given 3 in a priority-1 warehouse and 4 in the Default Source (priority 2): 7 units, eight orders of 1 or 2
    StockSourceLink.objects.filter(source_id="default").update(priority=2)
    add_source("east", priority=1)
    stock(("vp1", "east", 3), ("vp1", "default", 4))
    quantities = [2, 1, 2, 1, 2, 1, 2, 1]
    orders = [import_order(order_entity(line("vp1", qty=qty))) for qty in quantities]

    results = post_all_at_once([(invoice_url(live_server, order.pk), {}) for order in orders], bearer_token)

    # then what was invoiced is exactly what left the sources, and no source went below zero
    invoiced = sum(qty for qty, (status, _) in zip(quantities, results, strict=True) if status == 200)
    assert {status for status, _ in results} <= {200, 400}, results
    left = {item.source_id: item.quantity for item in SourceItem.objects.filter(sku="vp1")}
    assert all(quantity >= 0 for quantity in left.values()), left
    assert sum(left.values()) == Decimal(7 - invoiced)
    assert invoiced >= 6  # refusals only once fewer units are left than an order asks for
    assert left["east"] == 0  # the warehouse came first
