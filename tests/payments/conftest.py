"""Shared ground for the payments tests: a fresh sandbox gateway per test, orders, snapshots, HTTP helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from payments.gateways.sandbox import LEDGER
from payments.models import Payment, Transaction
from sales.models import Invoice, InvoiceComment, InvoiceItem, Order, OrderItem, OrderStatusHistory
from tests.conftest import load_seed_order

COULD_NOT_SAVE = "Could not save an invoice, see error log for details"

# Seed 001 (Magento's REST tutorial order #000000004): three rows, 300.00 shipping, 20 % discount.
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


def seed_entity(*, method: str = "sandbox", outcome: str | None = None, **overrides) -> dict:
    """Seed 001 paid with ``method``; ``outcome`` is the sandbox's answer to captures."""
    entity = dict(load_seed_order("001")["entity"])
    payment: dict = {"method": method}
    if outcome is not None:
        payment["additional_information"] = {"sandbox_outcome": outcome}
    entity.update(payment=payment, increment_id=None, **overrides)
    return entity


@pytest.fixture
def seed_order(import_order):
    """``seed_order(method="sandbox", outcome=None)``: seed 001 imported with that payment, a new number each time."""

    def _make(*, method: str = "sandbox", outcome: str | None = None, **overrides) -> Order:
        return import_order(seed_entity(method=method, outcome=outcome, **overrides))

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
