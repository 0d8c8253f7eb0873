"""Request rate limits for both REST doors, counted in Django's cache so every worker shares them.

- ``PrincipalRateThrottle``: per caller with a token, ``API_THROTTLE_RATE_USER`` (default 600/min).
  The caller is the one Idempotency-Key records are kept for: an integration token on its own,
  else the token's user (an admin's new token after re-login does not reset the budget).
- ``AnonymousRateThrottle``: per client address for requests without a token (the routes that let
  them through, i.e. the token request), ``API_THROTTLE_RATE_ANON`` (default 60/min).
- ``TokenRequestRateThrottle``: ``POST /V1/integration/admin/token`` per client address, stricter,
  ``API_THROTTLE_RATE_TOKEN`` (default 30/min); the per-username lockout still applies beside it.

A rate is ``"<requests>/<s|min|hour|day>"``; None or "" switches that limit off. Counts are fixed
windows, atomic, so with ``CACHES`` on Redis two gunicorn workers never both let the last request of
a budget through: on Redis one round trip per request (INCR, and EXPIRE when the counter is new, in
one Lua script), elsewhere (the local-memory cache of tests and ``make run``) ``cache.add`` then
``cache.incr``. A door request spends one budget: its caller's with a token, else its address's.
The client address is DRF's (``REST_FRAMEWORK["NUM_PROXIES"]`` behind a proxy). If the cache
cannot be reached the request is let through and a warning logged: a rate limit must not take the
API down with it.

Refused requests answer 429 with ``Retry-After`` (whole seconds until the window ends), in each
door's envelope: /V1 Magento's ``{"message": "Too Many Requests"}`` (Magento 2.4.7,
``Magento\\Webapi\\Controller\\Rest\\RequestValidator::checkBackpressure``), /api2
``{"error": "Too many requests"}``.
"""

from __future__ import annotations

import logging
import math
import time
from functools import cached_property

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from integrations.idempotency import request_principal
from sales.api.api2 import errors as api2_errors
from sales.api.v1 import errors as v1_errors

logger = logging.getLogger("counterfoil.api")

V1_TOO_MANY_REQUESTS = "Too Many Requests"  # Magento's text, without parameters
API2_TOO_MANY_REQUESTS = "Too many requests"
# A window's counter outlives the window a little, so clocks a few seconds apart never reuse a stale one.
EXPIRY_MARGIN_SECONDS = 60
# INCR, and EXPIRE on the counter's first request: one round trip, and no counter is ever left without expiry.
REDIS_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}  # DRF's notation: the period's first letter counts


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` -> (600, 60)."""
    try:
        count, period = rate.split("/")
        return int(count), PERIODS[period.strip()[0].lower()]
    except (AttributeError, ValueError, KeyError, IndexError):
        raise ImproperlyConfigured(f"{rate!r} is not a rate: use <requests>/<s|min|hour|day>, e.g. 600/min.") from None


class WindowRateThrottle(BaseThrottle):
    """At most ``<requests>`` per fixed window of the rate's period, per identity, in the shared cache."""

    scope = ""
    rate_setting = ""
    default_rate: str | None = None
    cache_alias_setting = "API_THROTTLE_CACHE"
    timer = staticmethod(time.time)

    def __init__(self) -> None:
        self.remaining_seconds: float | None = None

    @cached_property
    def cache(self):
        # Looked up when a request is counted: a throttle that does not apply to it never touches the cache.
        return caches[getattr(settings, self.cache_alias_setting, "default")]

    def rate(self) -> str | None:
        return getattr(settings, self.rate_setting, self.default_rate)

    def identity(self, request, view) -> str | None:
        """Whose budget this request spends; None: not limited by this throttle."""
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        rate = self.rate()
        identity = self.identity(request, view) if rate else None
        if identity is None:
            return True
        limit, period = parse_rate(rate)
        now = self.timer()
        window = int(now // period)
        key = f"throttle:{self.scope}:{identity}:{period}:{window}"
        try:
            count = self._count(key, timeout=period + EXPIRY_MARGIN_SECONDS)
        except Exception:  # noqa: BLE001 - the cache being down must not refuse every request
            logger.warning("rate limit %s not counted: the cache is unavailable", self.scope, exc_info=True)
            return True
        self.remaining_seconds = (window + 1) * period - now
        return count <= limit

    def _count(self, key: str, *, timeout: int) -> int:
        if isinstance(self.cache, RedisCache):
            return redis_count(self.cache, key, timeout=timeout)
        self.cache.add(key, 0, timeout=timeout)
        try:
            return self.cache.incr(key)
        except ValueError:  # expired between add and incr
            self.cache.add(key, 0, timeout=timeout)
            return self.cache.incr(key)

    def wait(self) -> float | None:
        return self.remaining_seconds


def redis_count(cache: RedisCache, key: str, *, timeout: int) -> int:
    """``key``'s counter in ``cache``'s Redis after adding one: a single round trip to the write server."""
    redis_key = cache.make_and_validate_key(key)  # the key cache.get(key) reads
    client = _write_client(cache)
    return int(_redis_count_script(client)(keys=[redis_key], args=[timeout], client=client))


def _write_client(cache: RedisCache):
    # Django builds a new redis.Redis (on the same pool) on each call, which costs more than the round trip.
    backend = cache._cache
    client = getattr(backend, "_throttle_write_client", None)
    if client is None:
        client = backend._throttle_write_client = backend.get_client(write=True)
    return client


_registered_scripts = {}  # script text -> redis-py Script (its sha1, computed once)


def _redis_count_script(client):
    # redis-py's Script sends EVALSHA, and loads the script itself into a server that does not know it yet.
    script = _registered_scripts.get(REDIS_COUNT_SCRIPT)
    if script is None:
        script = _registered_scripts[REDIS_COUNT_SCRIPT] = client.register_script(REDIS_COUNT_SCRIPT)
    return script


class PrincipalRateThrottle(WindowRateThrottle):
    scope = "principal"
    rate_setting = "API_THROTTLE_RATE_USER"
    default_rate = "600/min"

    def identity(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return request_principal(request)


class AnonymousRateThrottle(WindowRateThrottle):
    scope = "anon"
    rate_setting = "API_THROTTLE_RATE_ANON"
    default_rate = "60/min"

    def identity(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        return self.get_ident(request)


class TokenRequestRateThrottle(WindowRateThrottle):
    scope = "token"
    rate_setting = "API_THROTTLE_RATE_TOKEN"
    default_rate = "30/min"

    def identity(self, request, view) -> str | None:
        return self.get_ident(request)


DOOR_THROTTLES = [PrincipalRateThrottle, AnonymousRateThrottle]
TOKEN_THROTTLES = [TokenRequestRateThrottle]


def throttled_response(exc: exceptions.Throttled, body: dict) -> Response:
    """429 with ``Retry-After`` in whole seconds (at least 1) when the throttle knows the wait."""
    response = Response(body, status=429)
    if exc.wait is not None:
        response["Retry-After"] = str(max(1, math.ceil(exc.wait)))
    return response


def v1_exception_handler(exc, context):
    """/V1's handler, with Magento's 429 for a throttled request."""
    if isinstance(exc, exceptions.Throttled):
        return throttled_response(exc, v1_errors.envelope(V1_TOO_MANY_REQUESTS))
    return v1_errors.exception_handler(exc, context)


def api2_exception_handler(exc, context):
    """/api2's handler, with its 429 for a throttled request."""
    if isinstance(exc, exceptions.Throttled):
        return throttled_response(exc, {"error": API2_TOO_MANY_REQUESTS})
    return api2_errors.exception_handler(exc, context)
