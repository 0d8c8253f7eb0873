"""Schemathesis over every operation of ``/api/schema/``, against the real app on PostgreSQL.

A real gunicorn (production settings, ``tests/reliability/gunicorn.py``) serves pytest-django's test
database, seeded through the services: orders with simple, virtual (downloadable), bundle and configurable
rows, paid offline and through the sandbox gateway; some fully invoiced, one partly, one Pending, one not at
all. Schemathesis loads the document the server serves and, with a superuser's admin token, sends every
operation requests generated from it (the schema's examples, its boundary values, then random valid
requests), path ids drawn mostly from the seeded rows, and checks each answer: no 5xx, a documented status,
a documented content type, a body and headers that match the schema. The run is seeded (the same requests
every time) and bounded (``MAX_EXAMPLES`` per operation and phase).

A second run sends every operation hostile variants of the requests schemathesis generates for it: bodies nested
thousands deep, strings holding lone surrogates (``"\\ud800"``), integers past 64 bits and decimals past any
column (``1e999999``) in the body, the query and the path. Each answer must be a 4xx (or a 2xx) in the door's own
shape, never a 5xx but the documented ``Payment gateway error``, and within ``HOSTILE_SECONDS``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from decimal import Decimal

import pytest
import requests
import schemathesis
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core import NOT_SET
from schemathesis.engine import Status, events

from inventory.models import Source, Stock, StockSourceLink
from inventory.services import SourceItemData, source_items_save
from payments.models import Transaction
from sales.api.json import dumps
from sales.models import Invoice, Order, OrderItem, Store
from sales.services import CaptureCase, InvoiceLineRequest, invoice_order
from tests.conftest import load_seed_order
from tests.factories import OrderFactory, StaffUserFactory, line, superuser_token
from tests.notifications.realworker import database_url
from tests.reliability.gunicorn import PROXY_HEADERS, GunicornServer, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = 25  # per operation and phase: ~60 operations, a few minutes on 2 cores
SEED = 20260131
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
SERVER_SETTINGS = {
    # Generated usernames fail to sign in by the hundred: no lockout of the schema's example admin.
    "SIGN_IN_MAX_FAILURES": "1000000",
    "ORDER_LOCK_TIMEOUT_SECONDS": "5",
    # Thousands of calls a minute from one token: a throttled run would test the 429 and little else.
    "API_THROTTLE_RATE_USER": "1000000/min",
    "API_THROTTLE_RATE_ANON": "1000000/min",
    "API_THROTTLE_RATE_TOKEN": "1000000/min",
}


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    env = server_env(database_url=database_url(connection.settings_dict), **SERVER_SETTINGS)
    server = GunicornServer(env=env, log_path=tmp_path / "gunicorn.log")
    try:
        server.start()
        server.wait_worker()
        yield server
    finally:
        server.stop()  # before transactional_db flushes the tables
    assert not server.running


@pytest.fixture
def seeded(default_store, import_order) -> dict[str, list]:
    """Stores, stock, orders and invoices, committed through the services; the ids the generator draws from."""
    Store.objects.get_or_create(id=Store.ADMIN_ID, defaults={"code": "admin", "name": "Admin"})
    source, _ = Source.objects.get_or_create(source_code="default", defaults={"name": "Default Source"})
    stock, _ = Stock.objects.get_or_create(stock_id=1, defaults={"name": "Default Stock"})
    StockSourceLink.objects.get_or_create(stock=stock, source=source, defaults={"priority": 1})
    skus = sorted({item["sku"] for name in ("000", "001") for item in load_seed_order(name)["entity"]["items"]})
    source_items_save(
        items=[SourceItemData(sku=sku, source_code="default", quantity=Decimal(1000), status=1) for sku in skus]
    )

    def entity(name: str) -> dict:
        data = dict(load_seed_order(name)["entity"])
        data["increment_id"] = None
        return data

    full = import_order(entity("000"))  # simple, downloadable, bundle, configurable rows
    invoice_order(order_id=full.pk, capture_case=CaptureCase.OFFLINE)
    partial = import_order(entity("001"))  # simple rows and a downloadable, bank transfer
    first_row = OrderItem.objects.filter(order=partial).order_by("pk").first()
    invoice_order(
        order_id=partial.pk,
        capture_case=CaptureCase.OFFLINE,
        items=[InvoiceLineRequest(order_item_id=first_row.pk, qty=Decimal(1))],
    )
    pending = import_order(entity("001"))
    invoice_order(order_id=pending.pk, capture_case=CaptureCase.NOT_CAPTURE)  # a Pending invoice
    captured = OrderFactory(seed_001=True, gateway_paid=True)  # paid through the sandbox gateway
    invoice_order(order_id=captured.pk, capture_case=CaptureCase.ONLINE)
    sandbox_pending = OrderFactory(seed_001=True, gateway_paid=True)
    invoice_order(order_id=sandbox_pending.pk, capture_case=CaptureCase.NOT_CAPTURE)
    OrderFactory(virtual=True, lines=[line("240-LV08", 1, "18.00", product_type="downloadable")])  # not invoiced
    import_order(entity("000"))  # not invoiced

    StaffUserFactory(username="admin", password="admin123", superuser=True)  # the schema's example admin
    return {
        "orders": list(Order.objects.values_list("pk", flat=True)),
        "order_increment_ids": list(Order.objects.values_list("increment_id", flat=True)),
        "order_items": list(OrderItem.objects.values_list("pk", flat=True)),
        "invoices": list(Invoice.objects.values_list("pk", flat=True)),
        "invoice_increment_ids": list(Invoice.objects.values_list("increment_id", flat=True)),
        "transactions": list(Transaction.objects.values_list("pk", flat=True)),
        "skus": skus,
    }


@pytest.fixture
def schemathesis_token(transactional_db) -> str:
    """A superuser's admin token (every ACL resource), not the schema example's ``admin``."""
    return superuser_token()


def run_config(server: GunicornServer, token: str, seeded: dict) -> schemathesis.Config:
    def values(items) -> dict:
        return {"values": [value for value in items] or [1]}

    often = 0.8  # a seeded row most of the time, a generated value otherwise (404s, odd strings)
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": server.url,
            "headers": dict(PROXY_HEADERS),
            "auth": {"openapi": {"bearerAuth": {"bearer": token}}},
            "workers": 1,
            "request-timeout": 30,
            "generation": {"mode": "positive", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "dictionaries": {
                "stores": {"values": ["default", "all", "admin"]},
                "orders": values(seeded["orders"]),
                "order_increment_ids": values(seeded["order_increment_ids"]),
                "order_items": values(seeded["order_items"]),
                "invoices": values(seeded["invoices"]),
                "invoice_increment_ids": values(seeded["invoice_increment_ids"]),
                "transactions": values(seeded["transactions"]),
                "stocks": {"values": ["1"]},
                "sources": {"values": ["default"]},
                "skus": values(seeded["skus"]),
            },
            "parameters": {
                "path.store_code": {"dictionary": "stores", "probability": 0.9},
                "path.order_id": {"dictionary": "orders", "probability": often},
                "path.invoice_id": {"dictionary": "invoices", "probability": often},
                "path.transaction_id": {"dictionary": "transactions", "probability": often},
                "path.stock_id": {"dictionary": "stocks", "probability": often},
                "path.source_code": {"dictionary": "sources", "probability": often},
                "path.sku": {"dictionary": "skus", "probability": often},
                "query.id": {"dictionary": "invoices", "probability": 0.5},
                "query.increment_id": {"dictionary": "invoice_increment_ids", "probability": 0.5},
                "query.order_id": {"dictionary": "orders", "probability": 0.5},
                "query.order_increment_id": {"dictionary": "order_increment_ids", "probability": 0.5},
                "body.order_id": {"dictionary": "orders", "probability": often},
                "body.order_increment_id": {"dictionary": "order_increment_ids", "probability": 0.5},
                "body.invoice_id": {"dictionary": "invoices", "probability": often},
                "body.id": {"dictionary": "invoices", "probability": often},
                "body.increment_id": {"dictionary": "invoice_increment_ids", "probability": often},
                "body.entity.parent_id": {"dictionary": "invoices", "probability": often},
                "body.items[*].order_item_id": {"dictionary": "order_items", "probability": often},
                "body.items[*].sku": {"dictionary": "skus", "probability": often},
            },
        }
    )


def describe(recorder, case_id: str, check) -> str:
    interaction = recorder.interactions.get(case_id)
    lines = [
        f"{recorder.label}: {check.name}: {check.failure_info.failure.title}",
        check.failure_info.failure.message or "",
    ]
    if interaction is not None:
        request, response = interaction.request, interaction.response
        body = (request.body or b"")[:2000].decode("utf-8", "replace")
        lines.append(f"  request: {request.method} {request.uri} {body}")
        if response is not None:
            lines.append(f"  response: {response.status_code} {response.content[:2000].decode('utf-8', 'replace')}")
    lines.append(f"  reproduce: {check.failure_info.code_sample}")
    return "\n".join(lines)


def test_every_operation_answers_as_its_schema_says(gunicorn, seeded, schemathesis_token):
    started = time.monotonic()
    config = run_config(gunicorn, schemathesis_token, seeded)
    schema = schemathesis.openapi.from_url(f"{gunicorn.url}/api/schema/", config=config, headers=PROXY_HEADERS)
    operations = {operation.label for operation in (result.ok() for result in schema.get_all_operations())}

    calls, statuses, failures, errors = Counter(), Counter(), {}, []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            calls[recorder.label] += len(recorder.interactions)
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE:
                        failure = check.failure_info.failure
                        kind = (recorder.label, check.name, failure.title, (failure.message or "")[:300])
                        failures.setdefault(kind, describe(recorder, case_id, check))
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(f"{type(event).__name__}: {getattr(event, 'label', '')} {event}")
    elapsed = time.monotonic() - started

    print(
        f"\nschemathesis: {len(operations)} operations, {sum(calls.values())} calls in {elapsed:.0f} s; "
        f"statuses {dict(sorted(statuses.items()))}"
    )
    for label in sorted(operations):
        print(f"  {calls[label]:5d}  {label}")
    unique = [failures[kind] for kind in sorted(failures)]
    assert not errors, "\n".join(errors)
    assert not unique, f"{len(unique)} failing checks:\n\n" + "\n\n".join(unique[:40]) + "\n" + gunicorn.describe()
    assert len(operations) >= 60
    untested = sorted(label for label in operations if not calls[label])
    assert not untested, f"operations never called: {untested}"


# -- hostile input ----------------------------------------------------------------------------------------------

HOSTILE_EXAMPLES = 10  # per operation: ~60 operations, about 15 s
HOSTILE_SECONDS = 5  # longest answer: 1e999999 made an integer held a worker 40 s
HOLE = "@@hostile@@"  # where the hostile JSON text goes in a body written as JSON
HUGE_INTEGERS = st.integers(min_value=2**63, max_value=2**256).map(str) | st.sampled_from(
    ["18446744073709551616", "99999999999999999999", "9" * 1000]
)
PAST_ANY_COLUMN = st.sampled_from(["1e999999", "-1e999999", "1e-999999", "1E+400", "12345678901234567890.5"])
HUGE_NUMBERS = HUGE_INTEGERS | HUGE_INTEGERS.map(lambda digits: "-" + digits) | PAST_ANY_COLUMN
# In a body only: 5000 digits, past what int() reads from text (a URL that long is gunicorn's 414).
HUGE_BODY_NUMBERS = HUGE_NUMBERS | st.just("9" * 5000)
LONE_SURROGATES = st.sampled_from(["\\ud800", "\\udfff", "\\uDC00x", "x\\ude00\\ud83d", "\\udbff"])


def nested(depth: int, shape: str, inner: str) -> str:
    if shape == "arrays":
        return "[" * depth + inner + "]" * depth
    return '{"a":' * depth + inner + "}" * depth


DEEP_VALUES = st.builds(
    nested,
    st.integers(min_value=65, max_value=5000),
    st.sampled_from(["arrays", "objects"]),
    st.sampled_from(["1", '"x"', "[]", "{}"]),
)


def leaves(value, path=()):
    """``(path, value)`` of every value in a JSON-like document, containers included (the root's path is ``()``)."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))


def with_hole(document, path):
    """The document with the value at ``path`` replaced by ``HOLE`` (a new key when ``path`` is the root)."""
    if not path:
        return {"hostile": HOLE} if isinstance(document, dict) else HOLE
    copy = json.loads(dumps(document), parse_float=Decimal)
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = HOLE
    return copy


def hostile_body(draw, body) -> str:
    """The body as JSON text with one value (or a new key) made hostile: nested too deep, a string with a lone
    surrogate (also as a key), or a number no column holds."""
    kind = draw(st.sampled_from(["deep", "surrogate", "surrogate-key", "number"]))
    hole = json.dumps(HOLE)
    paths = [path for path, _ in leaves(body)]
    if kind == "number":  # a number where the door reads one (an id, a quantity), when the body has any
        paths = [path for path, value in leaves(body) if type(value) in (int, Decimal)] or paths
    text = dumps(with_hole(body, draw(st.sampled_from(paths))))
    if kind == "deep":
        return text.replace(hole, draw(DEEP_VALUES))
    if kind == "number":
        return text.replace(hole, draw(HUGE_BODY_NUMBERS))
    surrogate = '"' + draw(LONE_SURROGATES) + '"'
    if kind == "surrogate-key":
        return text.replace(hole, "{" + surrogate + ": 1}")
    return text.replace(hole, surrogate)


def hostile_request(draw, case) -> tuple[str, dict, str | None]:
    """The case's path, query and body (JSON text or None), with one of them made hostile."""
    operation = case.operation
    path_parameters = dict(case.path_parameters or {})
    query = {name: str(value) for name, value in (case.query or {}).items()}
    body = None if case.body is NOT_SET or case.body is None else case.body
    targets = ["query"] if len(operation.query) else []
    targets += ["path"] if [name for name in path_parameters if name != "store_code"] else []
    targets += ["body"] * 3 if body is not None or operation.method.upper() in ("POST", "PUT") else []
    target = draw(st.sampled_from(targets or ["query"]))
    if target == "body":
        return case.formatted_path, query, hostile_body(draw, {} if body is None else body)
    text = None if body is None else dumps(body)
    if target == "path":
        name = draw(st.sampled_from(sorted(name for name in path_parameters if name != "store_code")))
        path_parameters[name] = draw(HUGE_INTEGERS)
        return operation.path.format(**path_parameters), query, text
    names = sorted(parameter.name for parameter in operation.query) or ["page"]
    name = draw(st.sampled_from(names))
    # No surrogate here: a URL carries bytes, which Django decodes as UTF-8, an invalid sequence as U+FFFD.
    query[name] = draw(HUGE_NUMBERS | st.sampled_from(["9999-12-31", "0001-01-01", "²", "١٢"]))
    return case.formatted_path, query, text


def door_shaped(path: str, status: int, content: bytes) -> bool:
    """A 4xx body in the door's own shape: Magento's envelope under /rest, ``{"error": ...}`` under /api2."""
    if status < 400:
        return True
    try:
        body = json.loads(content)
    except ValueError:
        return False
    key = "message" if path.startswith("/rest/") else "error"
    return isinstance(body, dict) and isinstance(body.get(key), str)


def test_hostile_input_answers_a_4xx_in_the_doors_shape_never_a_5xx(gunicorn, seeded, schemathesis_token):
    started = time.monotonic()
    config = run_config(gunicorn, schemathesis_token, seeded)
    schema = schemathesis.openapi.from_url(f"{gunicorn.url}/api/schema/", config=config, headers=PROXY_HEADERS)
    session = requests.Session()
    session.headers.update({**PROXY_HEADERS, "Authorization": f"Bearer {schemathesis_token}"})
    statuses, failures = Counter(), {}
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:

        @settings(
            max_examples=HOSTILE_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), data=st.data())
        def send(case, data):
            path, query, text = hostile_request(data.draw, case)
            headers = {"Content-Type": "application/json"} if text is not None else {}
            if data.draw(st.booleans()):  # the key's fingerprint reads the body before the door parses it
                headers["Idempotency-Key"] = f"hostile-{sum(statuses.values())}"
            label, sent = case.operation.label, time.monotonic()
            request = f"  request: {case.method} {path} {query} {(text or '')[:300]}"
            try:
                response = session.request(
                    case.method,
                    gunicorn.url + path,
                    params=query,
                    headers=headers,
                    data=None if text is None else text.encode("utf-8"),
                    timeout=30,
                )
            except requests.Timeout:
                failures.setdefault((label, "timeout"), f"{label}: no answer in 30 s\n{request}")
                return
            status, content = response.status_code, response.content
            statuses[status] += 1
            slow = time.monotonic() - sent > HOSTILE_SECONDS
            gateway_error = status == 500 and content == b'{"error":"Payment gateway error"}'
            if (status >= 500 and not gateway_error) or slow or not door_shaped(path, status, content):
                failures.setdefault(
                    (label, status), f"{label}: {status}{' (slow)' * slow} {content[:300]!r}\n{request}"
                )

        send()
    elapsed = time.monotonic() - started

    print(
        f"\nhostile input: {len(operations)} operations, {sum(statuses.values())} calls in {elapsed:.0f} s; "
        f"statuses {dict(sorted(statuses.items()))}"
    )
    for failure in failures.values():
        print(failure)
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures.values()) + "\n" + gunicorn.describe()
    assert statuses[400] > len(operations)  # the hostile part reached the doors' checks, not only their 404s
