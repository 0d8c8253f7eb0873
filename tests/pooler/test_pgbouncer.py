"""Behind PgBouncer in transaction mode, with the default settings, every read answers the right record and
the CSV export streams every row.

A real gunicorn (production settings, three sync workers, each keeping its database connection) reaches the
test database only through a real PgBouncer in transaction pool mode with two server connections, handed out
in turn: each worker's transactions run in whichever server session is next, as a busy pool does. Clients in
threads read invoices through /V1 (by id, and the search criteria list) and /api2 (the list), again and
again: a statement a connection ran five times is what psycopg would prepare, so prepared statements, when
on, are named in one session and looked up in another. The admin's CSV export reads through a server-side
cursor inside one transaction, which the pooler keeps on one server session, with session features or without.

With ``DATABASE_SESSION_FEATURES=1`` (the default before) the same reads fail: the last test keeps that proof.
"""

from __future__ import annotations

import csv
import io
import json
import random
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from integrations.services import admin_token_create
from sales.demo.generator import demo_order_entity
from sales.services import invoice_order, order_import
from tests.factories import StaffUserFactory
from tests.notifications.realworker import wait_until
from tests.pooler.pgbouncer import PgBouncer
from tests.reliability.gunicorn import PROXY_HEADERS, START_TIMEOUT, GunicornServer, server_env

pytestmark = [pytest.mark.pgbouncer, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "pooler-Passw0rd!"
INVOICES = 8
WORKERS = 3  # gunicorn's: three client connections to PgBouncer sharing its two server connections
CLIENTS = 4  # threads sending requests at once
ROUNDS = 2  # each client reads every invoice this many times, through each door
REQUEST_TIMEOUT_SECONDS = 20


@pytest.fixture
def invoices(default_store) -> list:
    rng = random.Random(17)
    orders = [order_import(entity=demo_order_entity(rng), store_id=default_store.pk) for _ in range(INVOICES)]
    return [invoice_order(order_id=order.pk) for order in orders]


@pytest.fixture
def staff(django_user_model):
    return StaffUserFactory(username="pooled-admin", password=PASSWORD, superuser=True)


@pytest.fixture
def pgbouncer(transactional_db, tmp_path):
    database = connection.settings_dict
    bouncer = PgBouncer(
        database=database["NAME"],
        host=database["HOST"] or "127.0.0.1",
        port=int(database["PORT"] or 5432),
        user=database["USER"] or "postgres",
        workdir=tmp_path,
    )
    try:
        yield bouncer.start()
    finally:
        bouncer.stop()


@pytest.fixture
def app_behind_pgbouncer(pgbouncer, tmp_path):
    """``app_behind_pgbouncer(**environment)``: gunicorn started with DATABASE_URL naming PgBouncer and the
    production settings' defaults, or the given variables; stopped before PgBouncer."""
    servers = []

    def start(**environment: str) -> GunicornServer:
        env = server_env(database_url=pgbouncer.url, API_THROTTLE_RATE_USER="1000000/min", **environment)
        if "DATABASE_SESSION_FEATURES" not in environment:
            env.pop("DATABASE_SESSION_FEATURES", None)  # the default, whatever this shell says
        env["DJANGO_SECRET_KEY"] = settings.SECRET_KEY  # so the admin session made here is the server's too
        server = GunicornServer(env=env, log_path=tmp_path / "gunicorn.log", workers=WORKERS)
        servers.append(server.start())
        wait_until(server.answers, timeout=START_TIMEOUT, what="gunicorn to answer HTTP", diagnostics=server.describe)
        return server

    yield start
    for server in servers:
        server.stop()


def get(server: GunicornServer, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{server.url}{path}", headers={**PROXY_HEADERS, **headers})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def reads(invoice, newest_first: list[int]) -> list[tuple[str, Callable[[dict], bool]]]:
    """The door reads of one invoice: each path with the check its body must pass."""
    search = urlencode(
        {
            "searchCriteria[filter_groups][0][filters][0][field]": "entity_id",
            "searchCriteria[filter_groups][0][filters][0][value]": invoice.pk,
            "searchCriteria[filter_groups][0][filters][0][condition_type]": "eq",
        }
    )
    return [
        (f"/rest/default/V1/invoices/{invoice.pk}", lambda body: body["increment_id"] == invoice.increment_id),
        (
            f"/rest/default/V1/invoices?{search}",
            lambda body: [item["increment_id"] for item in body["items"]] == [invoice.increment_id],
        ),
        (f"/api2/invoice?id={invoice.pk}", lambda body: body["invoice"]["increment_id"] == invoice.increment_id),
        ("/api2/invoice?limit=50", lambda body: [row["entity_id"] for row in body["invoices"]] == newest_first),
    ]


def wrong_answers(server: GunicornServer, invoices: list, token: str) -> list[str]:
    """Every read that did not answer 200 with the right record, from CLIENTS threads at once."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    newest_first = sorted((invoice.pk for invoice in invoices), reverse=True)

    def client(seed: int) -> list[str]:
        problems = []
        for _ in range(ROUNDS):
            for invoice in random.Random(seed).sample(invoices, len(invoices)):
                for path, right in reads(invoice, newest_first):
                    status, body = get(server, path, headers)
                    if status != 200 or not right(json.loads(body)):
                        problems.append(f"{path}: {status} {body[:200]!r}")
        return problems

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [problem for problems in pool.map(client, range(CLIENTS)) for problem in problems]


def csv_export(server: GunicornServer, staff) -> tuple[int, list[str]]:
    """The admin's toolbar Export CSV over a staff session: its status and the Invoice column, sorted, read to
    the end (a stream cut off raises ``http.client.IncompleteRead``)."""
    browser = Client()
    browser.force_login(staff)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    status, body = get(server, "/admin/sales/invoice/?_export=csv", {"Cookie": cookie})
    if status != 200:
        return status, []
    return status, sorted(row["Invoice"] for row in csv.DictReader(io.StringIO(body.decode())))


def test_reads_through_a_transaction_mode_pooler_answer_the_right_records(app_behind_pgbouncer, invoices, staff):
    server = app_behind_pgbouncer()
    token = admin_token_create(username="pooled-admin", password=PASSWORD)

    assert wrong_answers(server, invoices, token) == []


@pytest.mark.parametrize("session_features", [None, "1"], ids=["default", "session-features-on"])
def test_the_csv_export_through_a_transaction_mode_pooler_streams_every_row(
    app_behind_pgbouncer, invoices, staff, session_features
):
    # Before the export held its cursor in a transaction, session features made it declare the cursor in one
    # server session and fetch from the other: cut off mid-stream. Three exports run each statement at most three
    # times on a connection, under psycopg's prepare threshold, so prepared statements play no part here.
    server = app_behind_pgbouncer(**({"DATABASE_SESSION_FEATURES": session_features} if session_features else {}))

    for _ in range(WORKERS):  # whichever worker serves it
        assert csv_export(server, staff) == (200, sorted(invoice.increment_id for invoice in invoices))


def test_session_features_behind_a_transaction_mode_pooler_break_reads(app_behind_pgbouncer, invoices, staff):
    # The proof the reads test above can fail: DATABASE_SESSION_FEATURES=1 (the default before) behind this pooler.
    # A statement prepared in one server session is missing from the other, or another client's statement of the
    # same name answers (seen: a 200 with another invoice).
    server = app_behind_pgbouncer(DATABASE_SESSION_FEATURES="1")
    token = admin_token_create(username="pooled-admin", password=PASSWORD)

    assert wrong_answers(server, invoices, token)
