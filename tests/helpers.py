"""The HTTP helpers every test shares: routes, JSON in and out, bearer headers. One home, no copies
(``tests/test_helpers_have_one_home.py`` fails when a test module defines its own again)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from decimal import Decimal

from sales.api.json import dumps

V1 = "/rest/default/V1"  # Magento's door, default store
API2 = "/api2"
PASSWORD = "s3cret-Passw0rd"  # every test user's password
LIVE_TIMEOUT_SECONDS = 60


def parse(response_or_content):
    """A response's JSON body (or raw JSON bytes), numbers as Decimal as the doors write them."""
    content = getattr(response_or_content, "content", response_or_content)
    return json.loads(content, parse_float=Decimal)


def answer(response) -> tuple[int, object]:
    """``(status, parsed body)``: one comparison checks both."""
    return response.status_code, parse(response)


def idempotency(key: str | None) -> dict:
    return {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}


def send_json(client, method: str, url: str, body=None, *, key: str | None = None, **headers):
    """A request of any method with a JSON body (``{}`` when none); ``key`` is an Idempotency-Key."""
    data = dumps({} if body is None else body)
    return client.generic(method.upper(), url, data, content_type="application/json", **idempotency(key), **headers)


def post_json(client, url: str, body=None, *, key: str | None = None, **headers):
    """``POST`` a JSON body (``{}`` when none) through a Django/DRF test client."""
    return client.post(
        url, dumps({} if body is None else body), content_type="application/json", **idempotency(key), **headers
    )


def bearer(token: str) -> dict:
    """Test-client headers carrying ``token`` as a Bearer token."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def live_post_json(url: str, token: str, body=None, *, timeout: float = LIVE_TIMEOUT_SECONDS) -> tuple[int, bytes]:
    """``POST`` JSON to a live server over a real socket (the concurrency tests): ``(status, raw body)``."""
    request = urllib.request.Request(
        url,
        data=dumps({} if body is None else body).encode("utf-8"),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def live_answer(url: str, token: str, body=None, *, timeout: float = LIVE_TIMEOUT_SECONDS) -> tuple[int, object]:
    """``live_post_json`` with the body parsed: ``(status, parsed body)``."""
    status, content = live_post_json(url, token, body, timeout=timeout)
    return status, parse(content)
