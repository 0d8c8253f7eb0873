"""Requests refused for their caller spend a budget too, on the real doors: no token or a bad one spends the client
address's (``API_THROTTLE_RATE_ANON``), a route the caller may not use spends the caller's. Until the budget is spent
each door answers its own 401; past it, its own 429 with ``Retry-After``; and an address past its budget has its tokens
refused before they are looked up."""

from __future__ import annotations

import pytest

from integrations.services import admin_token_create
from sales.api.api2.errors import TOO_MANY_REQUESTS as API2_TOO_MANY_REQUESTS
from sales.api.throttling import WindowRateThrottle
from sales.api.v1.errors import TOO_MANY_REQUESTS as V1_TOO_MANY_REQUESTS
from sales.api.v1.errors import UNAUTHORIZED
from tests.api.test_throttling import NOW, own_cache_and_clock  # noqa: F401 - the autouse fixture, shared
from tests.factories import StaffUserFactory
from tests.helpers import PASSWORD, bearer

pytestmark = pytest.mark.django_db

ATTACKER, NEIGHBOUR = "203.0.113.66", "203.0.113.67"
V1_INVOICES = "/rest/default/V1/invoices?searchCriteria[pageSize]=1"
API2_INVOICES = "/api2/invoice?limit=1"
DOORS = pytest.mark.parametrize(
    ("url", "unauthorized", "too_many"),
    [
        (
            V1_INVOICES,
            {"message": UNAUTHORIZED, "parameters": {"resources": "Magento_Sales::sales_invoice"}},
            {"message": V1_TOO_MANY_REQUESTS},
        ),
        (API2_INVOICES, {"error": "Unauthorized"}, {"error": API2_TOO_MANY_REQUESTS}),
    ],
    ids=["V1", "api2"],
)


@pytest.fixture(autouse=True)
def store(default_store):
    """The store the doors' routes need; the cache and the clock come from ``own_cache_and_clock``."""


@DOORS
@pytest.mark.parametrize(
    "credentials",
    [bearer("not-a-token"), {}, {"HTTP_AUTHORIZATION": "Bearer"}],
    ids=["bad token", "no token", "empty bearer header"],
)
def test_requests_refused_for_their_token_spend_the_addresss_budget(
    api_client, settings, url, unauthorized, too_many, credentials
):
    settings.API_THROTTLE_RATE_ANON = "2/min"

    answers = [api_client.get(url, REMOTE_ADDR=ATTACKER, **credentials) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [401, 401, 429]
    assert answers[0].json() == answers[1].json() == unauthorized  # the door's own 401 while under the budget
    assert answers[2].json() == too_many
    assert answers[2]["Retry-After"] == "20"
    assert api_client.get(url, REMOTE_ADDR=NEIGHBOUR, **credentials).status_code == 401  # another address's budget


@DOORS
def test_an_address_past_its_budget_has_its_tokens_refused_unread(
    api_client, admin_token, settings, monkeypatch, django_assert_num_queries, url, unauthorized, too_many
):
    # given an address that spent its budget on wrong tokens
    settings.API_THROTTLE_RATE_ANON = "1/min"
    assert api_client.get(url, REMOTE_ADDR=ATTACKER, **bearer("guess-1")).status_code == 401
    assert api_client.get(url, REMOTE_ADDR=ATTACKER, **bearer("guess-2")).status_code == 429

    # when it tries more tokens, a right one among them: no token is looked up, every one is refused
    with django_assert_num_queries(0):
        answers = [api_client.get(url, REMOTE_ADDR=ATTACKER, **bearer(token)) for token in ("guess-3", admin_token)]

    assert [answer.status_code for answer in answers] == [429, 429]
    assert all(answer.json() == too_many and answer["Retry-After"] == "20" for answer in answers)
    # the token itself is fine from another address, and the address is served again in the next window
    assert api_client.get(url, REMOTE_ADDR=NEIGHBOUR, **bearer(admin_token)).status_code == 200
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: NOW + 20))
    assert api_client.get(url, REMOTE_ADDR=ATTACKER, **bearer(admin_token)).status_code == 200


@DOORS
def test_a_caller_refused_for_the_route_spends_its_own_budget(
    api_client, django_user_model, settings, url, unauthorized, too_many
):
    # given an admin without Magento_Sales::sales_invoice (no Django permission at all) and a low budget per caller
    settings.API_THROTTLE_RATE_USER = "2/min"
    settings.API_THROTTLE_RATE_ANON = "1/min"
    clerk = StaffUserFactory()
    token = admin_token_create(username=clerk.username, password=PASSWORD)

    answers = [api_client.get(url, REMOTE_ADDR=ATTACKER, **bearer(token)) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [401, 401, 429]
    assert answers[0].json() == unauthorized
    assert answers[2].json() == too_many and answers[2]["Retry-After"] == "20"
    # the caller spent its own budget, not its address's
    assert api_client.get(url, REMOTE_ADDR=ATTACKER).status_code == 401
