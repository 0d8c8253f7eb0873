"""config.db.postgresql: an idle reused connection is health-checked by looking at its socket, and Django's
``SELECT 1`` runs only when the server has said something (its goodbye, when it closed the connection) or
the connection is not idle (a failed or open transaction). Statements are prepared, and results read in chunks
through server-side cursors, only with ``DATABASE_SESSION_FEATURES``."""

import contextlib
import os
import resource
import time

import psycopg
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections
from django.db.backends.postgresql import base as django_postgresql
from psycopg.pq import TransactionStatus

from config.db.postgresql.base import DatabaseWrapper
from config.settings.base import database_config
from tests.notifications.realworker import database_url

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def select_ones(monkeypatch) -> list[bool]:
    """Each time Django's own check (a SELECT 1 round trip) runs, and what it answered."""
    calls = []
    original = django_postgresql.DatabaseWrapper.is_usable

    def counted(self):
        calls.append(original(self))
        return calls[-1]

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    return calls


@pytest.fixture
def other_connection():
    """A second connection to the test database, as another request's thread would hold."""
    other = connections.create_connection("default")
    other.ensure_connection()
    yield other
    other.close()


@pytest.fixture
def busy_process():
    """Descriptors 0 to 1023 all taken, as in a worker with many sockets and files open: the next one opened
    is numbered past what ``select`` takes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    fillers = [os.open(os.devnull, os.O_RDONLY)]
    while fillers[-1] < 1023:
        fillers.append(os.open(os.devnull, os.O_RDONLY))
    yield
    for descriptor in fillers:
        os.close(descriptor)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def terminate(victim) -> int:
    """Ends ``victim``'s server process from the test's own connection, and waits for its goodbye."""
    killed_pid = victim.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [killed_pid])
    deadline = time.monotonic() + 5
    while victim.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)  # the server's goodbye arrives a moment after pg_terminate_backend returns
    return killed_pid


def test_a_healthy_reused_connection_is_usable_without_a_round_trip(select_ones):
    connection.ensure_connection()

    assert connection.is_usable() is True
    assert select_ones == []


def test_a_connection_the_server_closed_is_found_unusable_and_replaced(select_ones, other_connection):
    killed_pid = terminate(other_connection)

    assert other_connection.is_usable() is False
    assert select_ones and select_ones[-1] is False  # Django's real check confirmed it

    # What a request does with it: the health check closes it, the first query opens a new one.
    other_connection.health_check_enabled, other_connection.health_check_done = True, False
    other_connection.close_if_health_check_failed()
    with other_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != killed_pid


def test_a_connection_numbered_past_1023_is_checked_by_its_socket_too(select_ones, busy_process):
    # given a connection opened in a busy process: select() refuses its descriptor, poll() does not
    busy = connections.create_connection("default")
    busy.ensure_connection()
    try:
        assert busy.connection.fileno() >= 1024

        # when it is healthy, no round trip; when the server closed it, found out
        assert busy.is_usable() is True
        assert select_ones == []
        terminate(busy)
        assert busy.is_usable() is False
    finally:
        busy.close()


@pytest.mark.parametrize(
    ("statements", "status", "usable"),
    [(["BEGIN", "SELECT 1 / 0"], TransactionStatus.INERROR, False), (["BEGIN"], TransactionStatus.INTRANS, True)],
    ids=["failed transaction", "open transaction"],
)
def test_a_connection_that_is_not_idle_gets_the_real_check(select_ones, other_connection, statements, status, usable):
    # given a connection whose socket is quiet but whose transaction is not finished
    raw = other_connection.connection
    for statement in statements:
        with contextlib.suppress(psycopg.errors.DivisionByZero):  # aborts the transaction: only ROLLBACK runs now
            raw.execute(statement)
    assert raw.info.transaction_status == status

    # when it is checked, Django's SELECT 1 decides
    assert other_connection.is_usable() is usable
    assert select_ones == [usable]


@pytest.fixture
def connection_as_configured(monkeypatch):
    """``connection_as_configured(session_features)``: a connection to the test database with the DATABASES
    entry ``database_config`` makes from its URL when ``DATABASE_SESSION_FEATURES`` is on or off."""
    opened = []

    def connect(session_features: bool):
        monkeypatch.setenv("DATABASE_SESSION_FEATURES", "1" if session_features else "0")
        configured = database_config(database_url(connection.settings_dict))  # the test database's URL
        settings_dict = {**connection.settings_dict, "OPTIONS": {}, "DISABLE_SERVER_SIDE_CURSORS": False, **configured}
        wrapper = DatabaseWrapper(settings_dict, alias="configured")
        wrapper.ensure_connection()
        opened.append(wrapper)
        return wrapper

    yield connect
    for wrapper in opened:
        wrapper.close()


def prepared_statements(wrapper) -> int:
    for _ in range(6):
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT %s::int + 1", [41])
            assert cursor.fetchone()[0] == 42
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["SELECT $1::int + 1%"])
        return cursor.fetchone()[0]


def server_side_cursors(wrapper) -> int:
    """How many cursors PostgreSQL holds for this connection while ``.iterator()``
    reads a result in chunks."""
    connections[wrapper.alias] = wrapper  # what .using() looks up, for this thread
    try:
        rows = ContentType.objects.using(wrapper.alias).iterator(chunk_size=1)
        assert next(rows) is not None
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_cursors WHERE statement LIKE %s", ["DECLARE%"])
            return cursor.fetchone()[0]
    finally:
        del connections[wrapper.alias]


def test_statements_run_again_are_prepared_by_the_server_only_with_session_features(connection_as_configured):
    assert prepared_statements(connection_as_configured(session_features=True)) == 1
    assert prepared_statements(connection_as_configured(session_features=False)) == 0


def test_results_read_in_chunks_use_a_server_side_cursor_only_with_session_features(connection_as_configured):
    assert server_side_cursors(connection_as_configured(session_features=True)) == 1
    assert server_side_cursors(connection_as_configured(session_features=False)) == 0
