"""config.db.postgresql: a reused connection is health-checked by looking at its socket, and Django's
``SELECT 1`` runs only when the server has said something (its goodbye, when it closed the connection)."""

import time

import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as django_postgresql

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


def test_a_healthy_reused_connection_is_usable_without_a_round_trip(select_ones):
    connection.ensure_connection()

    assert connection.is_usable() is True
    assert select_ones == []


def test_a_connection_the_server_closed_is_found_unusable_and_replaced(select_ones, other_connection):
    killed_pid = other_connection.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [killed_pid])
    deadline = time.monotonic() + 5
    while other_connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)  # the server's goodbye arrives a moment after pg_terminate_backend returns

    assert other_connection.is_usable() is False
    assert select_ones and select_ones[-1] is False  # Django's real check confirmed it

    # What a request does with it: the health check closes it, the first query opens a new one.
    other_connection.health_check_enabled, other_connection.health_check_done = True, False
    other_connection.close_if_health_check_failed()
    with other_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != killed_pid


def test_statements_run_again_are_prepared_by_the_server(other_connection):
    if not other_connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        pytest.skip("DATABASE_PREPARED_STATEMENTS=0")
    for _ in range(6):
        with other_connection.cursor() as cursor:
            cursor.execute("SELECT %s::int + 1", [41])
            assert cursor.fetchone()[0] == 42

    with other_connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["SELECT $1::int + 1%"])
        assert cursor.fetchone()[0] == 1
