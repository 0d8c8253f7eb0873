"""Serialization failures and deadlocks re-run the whole service, a bounded number of times.

``sales.locking.retry_transient`` wraps every write service. The unit tests fake psycopg's error (an
object with a ``sqlstate``) behind Django's OperationalError, as Django raises it, so they run on
SQLite too; the PostgreSQL tests provoke the real thing: a deadlock between two threads locking two
rows in opposite orders, and a SERIALIZABLE transaction losing to a concurrent update.

A lock wait that times out (55P03) is not re-run; over HTTP that is proven by
``tests/api/api2/test_conflict.py``, whose second create gives up after one lock timeout (1 s),
well before a re-run could have waited again: 409 ``Conflict on save``.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time

import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction

from payments.gateways.sandbox import LEDGER
from payments.models import Transaction
from sales.api.api2.errors import exception_handler as api2_exception_handler
from sales.api.v1.errors import exception_handler as v1_exception_handler
from sales.errors import ConflictError, DomainError
from sales.locking import (
    BACKOFF_MAX_SECONDS,
    TRANSIENT_CONFLICT,
    backoff_seconds,
    mark_not_retryable,
    retry_transient,
    sqlstate,
)
from sales.models import Invoice, Order, OrderStatusHistory, Store
from sales.services import CaptureCase, invoice_order, order_comment_add, order_import
from tests.conftest import load_seed_order
from tests.factories import OrderEntityFactory, OrderFactory, superuser_token
from tests.helpers import bearer as bearer_headers

# The modules, not the services of the same name that ``sales.services`` re-exports.
invoice_order_module = importlib.import_module("sales.services.invoice_order")
order_import_module = importlib.import_module("sales.services.order_import")
order_comment_module = importlib.import_module("sales.services.order_comment_add")

SERIALIZATION_FAILURE, DEADLOCK, LOCK_TIMEOUT, UNIQUE_VIOLATION = "40001", "40P01", "55P03", "23505"


class FakePsycopgError(Exception):
    """What psycopg raises: the SQLSTATE on the error."""

    def __init__(self, state: str):
        super().__init__(f"SQLSTATE {state}")
        self.sqlstate = state


def database_error(state: str, kind: type[DatabaseError] = OperationalError) -> DatabaseError:
    """Django's error wrapping psycopg's, as the database layer raises it (``raise ... from``)."""
    error = kind(f"simulated SQLSTATE {state}")
    error.__cause__ = FakePsycopgError(state)
    return error


def conflict_error(state: str) -> ConflictError:
    """What ``conflicts_as_domain_errors`` makes of a lost race: ``ConflictError() from error``."""
    error = ConflictError()
    error.__cause__ = database_error(state)
    return error


def failing(*errors: Exception, result="done"):
    """A service-shaped function raising ``errors`` one per call, then returning ``result``; ``calls`` counts."""
    calls: list[int] = []

    def service():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return service, calls


@pytest.fixture
def no_pause(monkeypatch):
    monkeypatch.setattr("sales.locking.time.sleep", lambda seconds: None)


# -- unit: which errors are re-run, how often --------------------------------------------------------


@pytest.mark.parametrize("state", [SERIALIZATION_FAILURE, DEADLOCK])
def test_a_serialization_failure_or_deadlock_is_re_run_and_succeeds(no_pause, caplog, state):
    service, calls = failing(database_error(state), conflict_error(state))

    with caplog.at_level(logging.WARNING, logger="counterfoil.sales"):
        assert retry_transient()(service)() == "done"

    assert len(calls) == 3
    retries = [r.getMessage() for r in caplog.records if "re-running" in r.getMessage()]
    assert len(retries) == 2 and all(state in line for line in retries), retries


def test_a_service_that_always_loses_is_run_exactly_the_configured_times_then_conflicts(no_pause, settings):
    settings.DATABASE_RETRY_ATTEMPTS = 4
    service, calls = failing(*[database_error(SERIALIZATION_FAILURE)] * 10)

    with pytest.raises(ConflictError) as raised:
        retry_transient()(service)()

    assert len(calls) == 4
    assert (raised.value.message, raised.value.code, raised.value.http_status) == (
        TRANSIENT_CONFLICT,
        "transient_conflict",
        409,
    )
    assert sqlstate(raised.value) == SERIALIZATION_FAILURE  # the cause is kept for the log


def test_attempts_default_to_three_and_the_decorator_argument_wins(no_pause):
    service, calls = failing(*[database_error(DEADLOCK)] * 10)
    with pytest.raises(ConflictError):
        retry_transient()(service)()
    assert len(calls) == 3

    service, calls = failing(*[database_error(DEADLOCK)] * 10)
    with pytest.raises(ConflictError):
        retry_transient(attempts=2)(service)()
    assert len(calls) == 2


def test_a_conflict_error_that_keeps_losing_is_raised_as_the_service_raised_it(no_pause):
    last = conflict_error(DEADLOCK)
    service, calls = failing(conflict_error(DEADLOCK), conflict_error(DEADLOCK), last)

    with pytest.raises(ConflictError) as raised:
        retry_transient()(service)()

    assert raised.value is last and len(calls) == 3


def test_a_lock_timeout_is_not_re_run(no_pause):
    # the service's own ConflictError (lock_order) passes through; a raw one becomes ConflictError
    for error in (conflict_error(LOCK_TIMEOUT), database_error(LOCK_TIMEOUT)):
        service, calls = failing(error)
        with pytest.raises(ConflictError) as raised:
            retry_transient()(service)()
        assert len(calls) == 1
        assert sqlstate(raised.value) == LOCK_TIMEOUT


@pytest.mark.parametrize(
    "error",
    [
        database_error(UNIQUE_VIOLATION, IntegrityError),
        DatabaseError("no SQLSTATE at all"),
        DomainError("a rule said no"),
        ValueError("a bug"),
    ],
    ids=["integrity", "database", "domain", "bug"],
)
def test_any_other_error_is_raised_unchanged_after_one_run(no_pause, error):
    service, calls = failing(error)

    with pytest.raises(type(error)) as raised:
        retry_transient()(service)()

    assert raised.value is error and len(calls) == 1


def test_an_attempt_marked_not_retryable_is_not_re_run(no_pause, caplog):
    calls: list[int] = []

    @retry_transient()
    def authorizes_then_loses():
        calls.append(1)
        mark_not_retryable("the payment authorization")
        raise database_error(DEADLOCK)

    with caplog.at_level(logging.WARNING, logger="counterfoil.sales"), pytest.raises(ConflictError):
        authorizes_then_loses()

    assert len(calls) == 1
    assert any("after the payment authorization" in r.getMessage() for r in caplog.records)


def test_the_mark_belongs_to_one_attempt(no_pause):
    # a first attempt that loses before the gateway is re-run; the re-run's own mark is fresh
    calls: list[int] = []

    @retry_transient()
    def service():
        calls.append(1)
        if len(calls) == 1:
            raise database_error(DEADLOCK)
        mark_not_retryable("the payment authorization")
        return "done"

    assert service() == "done" and len(calls) == 2


def test_the_pause_is_a_few_milliseconds_growing_to_at_most_a_tenth_of_a_second():
    for attempt in range(1, 10):
        for _ in range(50):
            assert 0.005 <= backoff_seconds(attempt) <= BACKOFF_MAX_SECONDS
    assert max(backoff_seconds(1) for _ in range(50)) <= 0.01


@pytest.mark.django_db
def test_inside_an_outer_atomic_block_nothing_is_re_run(no_pause):
    service, calls = failing(database_error(DEADLOCK), database_error(DEADLOCK))

    with pytest.raises(OperationalError), transaction.atomic():
        retry_transient()(service)()

    assert len(calls) == 1  # the caller owns the transaction, and the raw error


def test_the_doors_answer_a_lost_race_with_409():
    error = ConflictError(TRANSIENT_CONFLICT, code="transient_conflict")

    v1 = v1_exception_handler(error, {"view": None})
    api2 = api2_exception_handler(error, {"view": None})

    assert (v1.status_code, v1.data) == (409, {"message": TRANSIENT_CONFLICT})
    assert (api2.status_code, api2.data) == (409, {"error": "Conflict on save"})


# -- through the services and the doors (SQLite fakes the error, PostgreSQL raises it for real) ----------


def raise_transient(state: str):
    """Lose a race inside the running transaction: PostgreSQL raises a real one, SQLite gets a fake."""
    if connection.vendor == "postgresql":
        name = {SERIALIZATION_FAILURE: "serialization_failure", DEADLOCK: "deadlock_detected"}[state]
        with connection.cursor() as cursor:
            cursor.execute(f"DO $$ BEGIN RAISE EXCEPTION 'simulated race' USING ERRCODE = '{name}'; END $$")
    raise database_error(state)


def numbering_that_loses(monkeypatch, *, times: int, state: str = SERIALIZATION_FAILURE) -> list[int]:
    """The invoice's numbering (after the gateway captured) loses ``times`` races, then works."""
    original = invoice_order_module.next_increment_id
    calls: list[int] = []

    def numbering(**kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise_transient(state)
        return original(**kwargs)

    monkeypatch.setattr(invoice_order_module, "next_increment_id", numbering)
    return calls


@pytest.fixture
def bearer(default_store):
    return bearer_headers(superuser_token())


@pytest.fixture
def sandbox_order(default_store):
    LEDGER.reset()
    yield lambda: OrderFactory(seed_001=True, gateway_paid=True)
    LEDGER.reset()


@pytest.mark.django_db(transaction=True)
def test_an_invoice_losing_a_race_after_the_gateway_captured_is_re_run_and_charged_once(
    no_pause, monkeypatch, sandbox_order
):
    order = sandbox_order()
    keys_before = len(LEDGER.keys_seen)
    calls = numbering_that_loses(monkeypatch, times=1)

    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.ONLINE)

    # the re-run reached the gateway with the first attempt's key, and money moved once
    assert len(calls) == 2
    first_key, retry_key = LEDGER.keys_seen[keys_before:]
    assert first_key == retry_key and LEDGER.movements["capture"] == 1
    assert list(Invoice.objects.filter(order=order).values_list("pk", flat=True)) == [invoice.pk]
    [capture] = Transaction.objects.filter(order_id=order.pk, txn_type=Transaction.Type.CAPTURE)
    assert capture.idempotency_key == first_key


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("url", "body", "answer"),
    [
        ("/api2/invoice/create", lambda order: {"order_id": order.pk}, {"error": "Conflict on save"}),
        ("/rest/default/V1/order/{order}/invoice", lambda order: {}, {"message": ConflictError.DEFAULT}),
    ],
    ids=["api2", "V1"],
)
def test_an_invoice_that_keeps_losing_is_tried_three_times_and_answered_409(
    no_pause, monkeypatch, api_client, bearer, import_order, url, body, answer
):
    order = import_order(load_seed_order("001"), increment_id=None)
    calls = numbering_that_loses(monkeypatch, times=99)

    response = api_client.post(url.format(order=order.pk), body(order), format="json", **bearer)

    assert (response.status_code, response.json()) == (409, answer)
    assert len(calls) == 3
    assert not Invoice.objects.filter(order=order).exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_losing_a_race_before_the_authorization_is_re_run_and_authorizes_once(
    no_pause, monkeypatch, sandbox_order
):
    original = order_import_module.reservations_place_for_order
    calls: list[int] = []

    def reserve(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise_transient(DEADLOCK)
        return original(**kwargs)

    monkeypatch.setattr(order_import_module, "reservations_place_for_order", reserve)

    order = sandbox_order()

    assert len(calls) == 2
    assert list(Order.objects.values_list("pk", flat=True)) == [order.pk]
    assert LEDGER.movements["authorize"] == 1


@pytest.mark.django_db(transaction=True)
def test_an_import_losing_a_race_after_the_authorization_is_not_re_run(no_pause, monkeypatch, default_store):
    # its authorization key includes the new order's id: a re-run would authorize again under a new key
    LEDGER.reset()
    original = order_import_module.OrderStatusHistory.objects.create
    calls: list[int] = []

    def history_create(**kwargs):
        calls.append(1)
        raise_transient(DEADLOCK)
        return original(**kwargs)  # pragma: no cover

    monkeypatch.setattr(order_import_module.OrderStatusHistory.objects, "create", history_create)
    entity = OrderEntityFactory(seed_001=True, gateway_paid=True)

    with pytest.raises(ConflictError):
        order_import(entity=entity, store_id=default_store.id)

    assert len(calls) == 1
    assert LEDGER.movements["authorize"] == 1
    assert not Order.objects.exists()
    LEDGER.reset()


# -- PostgreSQL: the real races --------------------------------------------------------------------------


def run_in_threads(*targets):
    """Run each target in its own thread (its own database connection); re-raise the first failure."""
    errors: list[BaseException] = []

    def run(target):
        try:
            target()
        except BaseException as error:  # reported in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    if errors:
        raise errors[0]


def touch_store(store_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sales_store SET name = name || '+' WHERE id = %s", [store_id])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_is_re_run_and_both_writers_complete(caplog):
    # given two rows, and two writers that lock them in opposite orders, meeting in between
    Store.objects.create(id=71, code="deadlock_a", name="a")
    Store.objects.create(id=72, code="deadlock_b", name="b")
    both_hold_their_first_row = threading.Barrier(2, timeout=30)
    runs = {"forward": 0, "backward": 0}

    def writer(name: str, first: int, second: int):
        @retry_transient()
        def lock_both() -> None:
            with transaction.atomic():
                runs[name] += 1
                touch_store(first)
                if runs[name] == 1:
                    both_hold_their_first_row.wait()
                touch_store(second)

        return lock_both

    # when both run at once
    with caplog.at_level(logging.WARNING, logger="counterfoil.sales"):
        run_in_threads(writer("forward", 71, 72), writer("backward", 72, 71))

    # then PostgreSQL chose one as the deadlock's victim, it was re-run, and both writes are there
    assert sorted(runs.values()) == [1, 2], runs
    assert any(DEADLOCK in r.getMessage() and "re-running" in r.getMessage() for r in caplog.records)
    assert Store.objects.get(id=71).name == "a++"
    assert Store.objects.get(id=72).name == "b++"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_serialization_failure_is_re_run_on_a_fresh_snapshot(caplog):
    # given a SERIALIZABLE read-modify-write, and another writer committing in between its read and write
    Store.objects.create(id=73, code="serializable", name="s")
    runs: list[int] = []

    def other_writer():
        touch_store(73)

    @retry_transient()
    def append_mark() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            cursor.execute("SELECT name FROM sales_store WHERE id = 73")
            (name,) = cursor.fetchone()
            runs.append(1)
            if len(runs) == 1:
                run_in_threads(other_writer)
            cursor.execute("UPDATE sales_store SET name = %s WHERE id = 73", [name + "!"])

    with caplog.at_level(logging.WARNING, logger="counterfoil.sales"):
        append_mark()

    # then the first attempt lost (its snapshot was stale), the re-run read the other's write and kept it
    assert len(runs) == 2
    assert any(SERIALIZATION_FAILURE in r.getMessage() for r in caplog.records)
    assert Store.objects.get(id=73).name == "s+!"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_serialization_failure_every_time_is_tried_three_times_then_conflicts():
    runs: list[int] = []

    @retry_transient()
    def always_loses() -> None:
        with transaction.atomic():
            runs.append(1)
            raise_transient(SERIALIZATION_FAILURE)

    started = time.monotonic()
    with pytest.raises(ConflictError) as raised:
        always_loses()

    assert len(runs) == 3
    assert sqlstate(raised.value) == SERIALIZATION_FAILURE
    assert time.monotonic() - started < 1  # two short pauses, not seconds


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_lock_timeout_is_answered_at_once_not_re_run(settings, import_order, monkeypatch):
    # given another transaction holding the order's row lock past the lock timeout
    settings.ORDER_LOCK_TIMEOUT_SECONDS = 0.3
    order = import_order(load_seed_order("001"), increment_id=None)
    locked, release = threading.Event(), threading.Event()
    lock_attempts: list[int] = []
    original_lock_order = order_comment_module.lock_order

    def counting_lock_order(order_id):
        lock_attempts.append(1)
        return original_lock_order(order_id)

    monkeypatch.setattr(order_comment_module, "lock_order", counting_lock_order)

    def holder():
        with transaction.atomic():
            Order.objects.select_for_update().get(pk=order.pk)
            locked.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=lambda: (holder(), connection.close()))
    thread.start()
    try:
        assert locked.wait(timeout=10)
        # when a comment waits for that lock
        with pytest.raises(ConflictError) as raised:
            order_comment_add(order_id=order.pk, comment="waited")
    finally:
        release.set()
        thread.join(timeout=30)

    # then it gave up once, with lock_not_available, and wrote nothing
    assert lock_attempts == [1]
    assert sqlstate(raised.value) == LOCK_TIMEOUT
    assert not OrderStatusHistory.objects.filter(comment="waited").exists()
