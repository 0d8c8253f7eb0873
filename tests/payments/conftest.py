"""Shared ground for the payments tests: a fresh sandbox gateway per test, orders, snapshots, HTTP helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from payments.gateways.sandbox import LEDGER
from payments.models import Payment, Transaction
from sales.models import Invoice, InvoiceComment, InvoiceItem, Order, OrderItem, OrderStatusHistory
from tests.factories import OrderFactory

COULD_NOT_SAVE = "Could not save an invoice, see error log for details"

# Seed 001 (Magento's REST tutorial order #000000004), as the factories' seed_001 trait builds it: three rows,
# 300.00 shipping, 20 % discount.
GRAND_TOTAL = Decimal("1917.60")
SHIPPING = Decimal("300.00")
SUBTOTAL = Decimal("2022.00")
DISCOUNT = Decimal("-404.40")


@pytest.fixture(autouse=True)
def sandbox_ledger():
    """The sandbox remembers idempotency keys for the life of the process: every test starts with none."""
    LEDGER.reset()
    yield LEDGER
    LEDGER.reset()


def D(value) -> Decimal:  # noqa: N802 - reads as a literal
    return Decimal(str(value))


@pytest.fixture
def seed_order(db):
    """``seed_order(method="sandbox", outcome=None)``: seed 001's order stored by ``OrderFactory`` with that
    payment, a new number each time."""

    def _make(*, method: str = "sandbox", outcome: str | None = None, **overrides) -> Order:
        return OrderFactory(seed_001=True, payment_method=method, sandbox_outcome=outcome, **overrides)

    return _make


def order_items(order: Order) -> dict[str, OrderItem]:
    return {item.sku: item for item in OrderItem.objects.filter(order=order)}


def transactions(order: Order, txn_type: str | None = None) -> list[Transaction]:
    found = Transaction.objects.filter(order_id=order.pk).order_by("id")
    return list(found.filter(txn_type=txn_type) if txn_type else found)


def history_comments(order: Order) -> list[str]:
    return list(OrderStatusHistory.objects.filter(order=order).order_by("id").values_list("comment", flat=True))


# -- snapshots: what the database holds, to compare before and after an operation --------------------

TABLES = (Invoice, InvoiceItem, InvoiceComment, OrderStatusHistory, Transaction)
VOLATILE = {"updated_at"}  # auto_now: every save moves it


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in TABLES}


def fields_of(instance, *, exclude=VOLATILE) -> dict:
    return {key: value for key, value in model_to_dict(instance).items() if key not in exclude}


def order_state(order: Order, *, exclude=VOLATILE) -> dict:
    """The order, its rows and its payment, every stored field (``updated_at`` aside), read fresh."""
    fresh = Order.objects.get(pk=order.pk)
    return {
        "order": fields_of(fresh, exclude=exclude),
        "items": {item.pk: fields_of(item, exclude=exclude) for item in OrderItem.objects.filter(order=fresh)},
        "payment": fields_of(Payment.objects.get(order=fresh), exclude=exclude),
    }


def database_state(order: Order, *, exclude=frozenset()) -> dict:
    """Row counts of the invoice and payment tables, and the order's own state, every field by default."""
    return {"counts": row_counts(), **order_state(order, exclude=exclude)}


def changes(before: dict, after: dict) -> dict:
    """``{field: (before, after)}`` for every field whose value differs."""
    return {
        key: (before.get(key), after.get(key))
        for key in before.keys() | after.keys()
        if before.get(key) != after.get(key)
    }
