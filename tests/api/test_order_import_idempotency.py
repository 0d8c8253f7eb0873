"""``Idempotency-Key`` on order import, ``POST /V1/orders`` and ``PUT /V1/orders/create`` (issue 17).

The same semantics as the other writes (tests/api/test_idempotency.py): a repeat with the same key and
body replays the first answer and stores no second order; the key on another request is 422; a repeat
while the first still runs is 409 with ``Retry-After: 1``; without the header nothing changes.
"""

from __future__ import annotations

import copy
import urllib.error
import urllib.request

import pytest

from integrations.models import IdempotencyKey
from payments.models import Payment
from sales.api.json import dumps
from sales.models import Order, OrderItem
from tests.api.test_idempotency import (
    REPLAYED,
    V1_IN_PROGRESS,
    V1_REUSED,
    all_at_once,
    assert_one_ran_and_the_others_replayed_or_waited,
    in_progress,
)
from tests.conftest import load_seed_order
from tests.factories import superuser_token
from tests.helpers import V1, parse, send_json

IMPORT_ROUTES = [("POST", f"{V1}/orders"), ("PUT", f"{V1}/orders/create")]


def an_order() -> dict:
    """Seed 000 without an increment id: each import that runs stores a new order."""
    entity = copy.deepcopy(load_seed_order("000")["entity"])
    del entity["increment_id"]
    return {"entity": entity}


@pytest.fixture
def principal(staff_user) -> str:
    return f"user:{staff_user.pk}"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), IMPORT_ROUTES)
def test_a_repeated_import_replays_the_first_answer_and_stores_one_order(v1, method, url):
    body = an_order()

    first = send_json(v1, method, url, body, key="import-1")
    repeat = send_json(v1, method, url, body, key="import-1")

    assert first.status_code == 200, first.content
    assert REPLAYED not in first
    assert (repeat.status_code, repeat.content, repeat["Content-Type"]) == (200, first.content, first["Content-Type"])
    assert repeat[REPLAYED] == "true"
    assert list(Order.objects.values_list("pk", flat=True)) == [parse(first)["entity_id"]]
    assert Payment.objects.count() == 1
    record = IdempotencyKey.objects.get()
    assert (record.state, record.response_status, record.request_method) == ("completed", 200, method)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), IMPORT_ROUTES)
def test_the_same_key_with_another_order_is_422_and_stores_nothing(v1, method, url):
    assert send_json(v1, method, url, an_order(), key="import-1").status_code == 200
    other = an_order()
    other["entity"]["customer_email"] = "someone.else@example.com"

    response = send_json(v1, method, url, other, key="import-1")

    assert (response.status_code, parse(response)) == (422, V1_REUSED)
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_on_the_other_import_route_is_422(v1):
    body = an_order()
    assert send_json(v1, "POST", f"{V1}/orders", body, key="import-1").status_code == 200

    response = send_json(v1, "PUT", f"{V1}/orders/create", body, key="import-1")

    assert (response.status_code, parse(response)) == (422, V1_REUSED)
    assert Order.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), IMPORT_ROUTES)
def test_a_repeated_import_while_the_first_runs_is_409_retry_after_1(v1, principal, method, url):
    body = an_order()
    in_progress(principal, "import-1", method, url, body)

    response = send_json(v1, method, url, body, key="import-1")

    assert (response.status_code, parse(response)) == (409, V1_IN_PROGRESS)
    assert response["Retry-After"] == "1"
    assert not Order.objects.exists()
    assert IdempotencyKey.objects.get().state == "in_progress"


@pytest.mark.django_db
def test_a_refused_import_is_replayed_as_refused(v1, settings):
    settings.ORDER_MAX_ITEMS = 1
    body = an_order()

    first = send_json(v1, "POST", f"{V1}/orders", body, key="import-1")
    settings.ORDER_MAX_ITEMS = 1000
    repeat = send_json(v1, "POST", f"{V1}/orders", body, key="import-1")

    assert first.status_code == 400, first.content
    assert (repeat.status_code, repeat.content, repeat[REPLAYED]) == (400, first.content, "true")
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_without_a_key_two_imports_store_two_orders_as_before(v1):
    body = an_order()

    first, second = send_json(v1, "POST", f"{V1}/orders", body), send_json(v1, "POST", f"{V1}/orders", body)

    assert (first.status_code, second.status_code) == (200, 200)
    assert Order.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


# -- identical imports at once (PostgreSQL) ----------------------------------------------------------------


def http_send(method: str, url: str, token: str, body, key: str) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(
        url,
        data=dumps(body).encode("utf-8"),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@pytest.fixture
def live_token(default_store) -> str:
    return superuser_token()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("method", "path", "count"), [(*IMPORT_ROUTES[0], 6), (*IMPORT_ROUTES[1], 2)])
def test_identical_imports_at_once_store_one_order(live_server, live_token, method, path, count):
    body = an_order()  # without a key each would store an order

    results = all_at_once(count, lambda: http_send(method, f"{live_server.url}{path}", live_token, body, "race-1"))

    assert_one_ran_and_the_others_replayed_or_waited(results, 200, V1_IN_PROGRESS)
    assert Order.objects.count() == 1
    assert OrderItem.objects.values("order").distinct().count() == 1
    assert IdempotencyKey.objects.get().state == "completed"
