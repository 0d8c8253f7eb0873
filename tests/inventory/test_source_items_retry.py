"""A source-item save that lost a race (deadlock, serialization failure) is re-run by the project's one
mechanism, ``sales.locking.retry_transient``, through ``sales.stock.source_items_save``: ``POST
/V1/inventory/source-items`` and ``load_demo`` call that one. The race is raised for real on PostgreSQL (a
failing statement aborts the transaction), faked on SQLite. The inventory's refusals reach the sales doors
through one mapping (``sales.stock``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError

from inventory import services
from inventory.errors import (
    InventoryNoSuchEntity,
    InventoryValidationError,
    NotEnoughStock,
)
from inventory.models import SourceItem, SourceItemStatus
from inventory.services import SourceItemData
from sales.errors import ConflictError, DomainError, InputError, NoSuchEntityError
from sales.locking import TRANSIENT_CONFLICT
from sales.stock import inventory_errors_as_domain_errors, source_items_save
from tests.helpers import V1, parse, post_json
from tests.inventory.conftest import source_quantity
from tests.sales.test_retries import DEADLOCK, SERIALIZATION_FAILURE, UNIQUE_VIOLATION, database_error, raise_transient

# Real transactions: retry_transient re-runs only a save that owns its transaction (not inside a test's atomic).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr("sales.locking.time.sleep", lambda seconds: None)


def upsert_that_loses(monkeypatch, *, times: int, state: str = DEADLOCK) -> list[int]:
    """The save's upsert writes, then loses ``times`` races (its writes rolled back), then works."""
    original = services._source_items_upsert
    calls: list[int] = []

    def upsert(rows):
        calls.append(1)
        saved = original(rows)
        if len(calls) <= times:
            raise_transient(state)
        return saved

    monkeypatch.setattr(services, "_source_items_upsert", upsert)
    return calls


def stock(sku: str = "vp1", qty: int = 7) -> list[SourceItemData]:
    return [SourceItemData(sku=sku, source_code="default", quantity=qty, status=SourceItemStatus.IN_STOCK)]


@pytest.mark.parametrize("state", [DEADLOCK, SERIALIZATION_FAILURE])
def test_a_source_item_save_that_loses_a_race_is_re_run_and_saved(monkeypatch, default_stock, state):
    calls = upsert_that_loses(monkeypatch, times=2, state=state)

    source_items_save(items=stock())

    assert len(calls) == 3
    assert source_quantity("vp1") == Decimal(7)


def test_a_source_item_save_that_always_loses_runs_the_configured_times_then_conflicts(
    monkeypatch, default_stock, settings
):
    settings.DATABASE_RETRY_ATTEMPTS = 4
    calls = upsert_that_loses(monkeypatch, times=99)

    with pytest.raises(ConflictError) as conflict:
        source_items_save(items=stock())

    assert conflict.value.template == TRANSIENT_CONFLICT

    assert len(calls) == 4
    assert not SourceItem.objects.filter(sku="vp1").exists()  # every attempt rolled back


def test_a_source_item_save_failing_otherwise_is_not_re_run(monkeypatch, default_stock):
    calls: list[int] = []

    def upsert(rows):
        calls.append(1)
        raise database_error(UNIQUE_VIOLATION, IntegrityError)

    monkeypatch.setattr(services, "_source_items_upsert", upsert)

    with pytest.raises(IntegrityError):
        source_items_save(items=stock())
    assert len(calls) == 1


def test_post_source_items_is_re_run_and_answers_409_when_it_keeps_losing(monkeypatch, v1, default_stock):
    body = {"sourceItems": [{"sku": "vp1", "source_code": "default", "quantity": 4, "status": 1}]}
    calls = upsert_that_loses(monkeypatch, times=1)
    assert post_json(v1, f"{V1}/inventory/source-items", body).status_code == 200
    assert (len(calls), source_quantity("vp1")) == (2, Decimal(4))

    calls = upsert_that_loses(monkeypatch, times=99)
    response = post_json(
        v1, f"{V1}/inventory/source-items", dict(body, sourceItems=[dict(body["sourceItems"][0], quantity=9)])
    )

    assert (response.status_code, parse(response)) == (409, {"message": TRANSIENT_CONFLICT})
    assert (len(calls), source_quantity("vp1")) == (3, Decimal(4))


def test_load_demo_stocks_its_products_through_the_re_run(monkeypatch, default_stock):
    from sales.management.commands.load_demo import DEMO_STOCK, Command

    calls = upsert_that_loses(monkeypatch, times=1)

    Command().stock_demo_products()

    assert len(calls) == 2
    assert set(SourceItem.objects.values_list("quantity", flat=True)) == {DEMO_STOCK}


# -- one mapping of the inventory's refusals ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("refusal", "domain_error", "status", "code"),
    [
        (NotEnoughStock(["vp1"]), DomainError, 400, "not_enough_stock"),
        (InventoryNoSuchEntity.source("nowhere"), NoSuchEntityError, 404, "no_such_entity"),
        (
            InventoryValidationError([('"%field" can not be empty.', {"field": "sku"})]),
            InputError,
            400,
            "validation_failed",
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_each_inventory_refusal_maps_to_one_sales_domain_error(refusal, domain_error, status, code):
    with pytest.raises(DomainError) as mapped, inventory_errors_as_domain_errors():
        raise refusal

    assert type(mapped.value) is domain_error
    assert (mapped.value.http_status, mapped.value.code, mapped.value.template) == (status, code, refusal.template)
    assert mapped.value.__cause__ is refusal


def test_the_v1_inventory_routes_use_the_sales_stock_mapping():
    from sales.api.v1 import inventory as door

    assert door.inventory_errors_as_domain_errors is inventory_errors_as_domain_errors
