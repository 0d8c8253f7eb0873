"""The real doors carry the throttles: every /V1 and /api2 route, and the token request."""

from __future__ import annotations

import uuid

import pytest

from sales.api.api2.errors import TOO_MANY_REQUESTS as API2_TOO_MANY_REQUESTS
from sales.api.throttling import spent_budgets
from sales.api.v1.errors import TOO_MANY_REQUESTS as V1_TOO_MANY_REQUESTS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    spent_budgets.clear()
    yield
    spent_budgets.clear()


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("/rest/default/V1/invoices?searchCriteria[pageSize]=1", {"message": V1_TOO_MANY_REQUESTS}),
        ("/rest/default/V1/inventory/sources", {"message": V1_TOO_MANY_REQUESTS}),
        ("/api2/invoice?limit=1", {"error": API2_TOO_MANY_REQUESTS}),
    ],
    ids=["V1 invoices", "V1 inventory", "api2"],
)
def test_every_door_answers_429_with_retry_after_past_the_callers_rate(v1, settings, url, refusal):
    settings.API_THROTTLE_RATE_USER = "2/min"

    answers = [v1.get(url) for _ in range(3)]

    assert [answer.status_code for answer in answers[:2]] == [200, 200], answers[0].content
    assert answers[2].status_code == 429 and answers[2].json() == refusal
    assert int(answers[2]["Retry-After"]) >= 1


def test_the_token_request_is_limited_per_address(api_client, staff_user, settings):
    settings.API_THROTTLE_RATE_TOKEN = "2/min"
    body = {"username": "integration-admin", "password": "s3cret-Passw0rd"}

    answers = [api_client.post("/rest/V1/integration/admin/token", body, format="json") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
