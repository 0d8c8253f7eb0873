"""Request rate limits for both REST doors, counted in Django's cache so every worker shares them.

- ``PrincipalRateThrottle``: per caller with a token, ``API_THROTTLE_RATE_USER`` (default 600/min).
  The caller is the one Idempotency-Key records are kept for: an integration token on its own,
  else the token's user (an admin's new token after re-login does not reset the budget).
- ``AnonymousRateThrottle``: per client address for requests without a caller: no token, or one
  refused, ``API_THROTTLE_RATE_ANON`` (default 60/min).
- ``TokenRequestRateThrottle``: ``POST /V1/integration/admin/token`` per client address, stricter,
  ``API_THROTTLE_RATE_TOKEN`` (default 30/min); the per-username lockout still applies beside it.
- ``AdminLoginRateThrottle``: the admin login form's attempts per client address, ``ADMIN_LOGIN_THROTTLE_RATE``
  (default 30/min), asked by ``sales.admin.login``; the same per-username lockout applies beside it.

A rate is ``"<requests>/<s|min|hour|day>"``; None or "" switches that limit off. Counts are fixed
windows, atomic, so with ``CACHES`` on Redis two gunicorn workers never both let the last request of
a budget through. On Redis a process leases a budget's requests in chunks: one round trip (INCRBY the
chunk, and EXPIRE when the counter is new, in one Lua script called by its SHA1) takes up to
``lease_size(limit)`` = ``limit // 100`` clamped to 1..``API_THROTTLE_LEASE_MAX`` requests, which its
threads then spend under a lock without asking Redis; a lease past the limit gets only the part that
fits (possibly none), so the processes together never admit more than the limit. The price is
under-admission: a process may hold up to ``chunk - 1`` unspent requests of its lease while another is
refused, so a window admits at least ``limit - processes * (chunk - 1)``. With the default rates
(600/min, 60/min, 30/min) and ``API_THROTTLE_LEASE_MAX`` 50 the chunks are 6, 1 and 1: small limits
keep counting every request, as ``API_THROTTLE_LEASE_MAX = 1`` does for all (one round trip each).
Elsewhere (the local-memory cache of tests and ``make run``) ``cache.add`` then ``cache.incr``, one
request at a time. A budget a process has seen run out is refused there without asking the cache
again until its window ends.

A door request spends one budget: its caller's with a token, else its address's. That holds for
requests refused for their caller too (no token, a bad or expired one, a route the caller may not
use), which DRF refuses before it checks the rate limits: the door's exception handler counts them
(``refusal_counted``), and past the budget answers 429 instead of 401. An address past its budget
has its tokens refused before they are looked up (``integrations.authentication`` asks
``AnonymousRateThrottle.wait_before_authentication``), so trying tokens costs no query once over,
in each process from its first refusal past the budget on; its requests with a valid token are
refused too until the window ends. The client address is ``integrations.client_address``'s: the
connection's peer, or X-Forwarded-For's entry from the ``TRUSTED_PROXY_COUNT`` proxies in front. If the
cache cannot be reached the request is let through and a warning logged: a rate limit must not take the
API down with it.

Refused requests answer 429 with ``Retry-After`` (whole seconds until the window ends,
``throttled_response``), in each door's envelope, which that door's ``errors.exception_handler`` renders:
/V1 Magento's ``{"message": "Too Many Requests"}``, /api2 ``{"error": "Too many requests"}``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import weakref
from functools import cached_property

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import NoScriptError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from integrations.client_address import client_address
from integrations.idempotency import request_principal

logger = logging.getLogger("counterfoil.api")

# A window's counter outlives the window a little, so clocks a few seconds apart never reuse a stale one.
EXPIRY_MARGIN_SECONDS = 60
# INCRBY n (1, or a lease's chunk), and EXPIRE when that created the counter: one round trip, and no counter is
# ever left without expiry.
REDIS_COUNT_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
REDIS_COUNT_SCRIPT_SHA1 = hashlib.sha1(REDIS_COUNT_SCRIPT.encode(), usedforsecurity=False).hexdigest()  # EVALSHA's name


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}  # DRF's notation: the period's first letter counts


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` -> (600, 60)."""
    try:
        count, period = rate.split("/")
        return int(count), PERIODS[period.strip()[0].lower()]
    except (AttributeError, ValueError, KeyError, IndexError):
        raise ImproperlyConfigured(f"{rate!r} is not a rate: use <requests>/<s|min|hour|day>, e.g. 600/min.") from None


class SpentBudgets:
    """The counters this process has seen go past their limit, by key. A key names its window, so an entry is
    never asked for again once its window ends; past ``max_entries`` the oldest go first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._keys: dict[str, None] = {}  # insertion-ordered: the oldest first
        self._lock = threading.Lock()  # gthread workers share the process

    def add(self, key: str) -> None:
        with self._lock:
            self._keys[key] = None
            while len(self._keys) > self.max_entries:
                del self._keys[next(iter(self._keys))]

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


spent_budgets = SpentBudgets(max_entries=10_000)


def lease_size(limit: int) -> int:
    """How many requests of a ``limit``-request budget a process takes from Redis at once: 1% of the limit, at least
    1 and at most ``API_THROTTLE_LEASE_MAX``. Small, as it bounds what a process may hold while another is refused."""
    return max(1, min(limit // 100, settings.API_THROTTLE_LEASE_MAX))


class QuotaLease:
    """Requests of one budget's current window that this process took from Redis and has not spent yet."""

    __slots__ = ("key", "remaining", "lock")

    def __init__(self) -> None:
        self.key = ""  # the counter's Redis key: it names the window the remaining requests belong to
        self.remaining = 0
        self.lock = threading.Lock()  # held across the lease's round trip: one thread refills, the others wait


class QuotaLeases:
    """This process's leases, one per budget (its counter key without the window), made on first use; past
    ``max_entries`` the oldest go first (their unspent requests with them: under-admission, never over)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._leases: dict[str, QuotaLease] = {}  # insertion-ordered: the oldest first
        self._lock = threading.Lock()

    def of(self, budget: str) -> QuotaLease:
        lease = self._leases.get(budget)
        if lease is None:
            with self._lock:
                lease = self._leases.get(budget)
                if lease is None:
                    lease = self._leases[budget] = QuotaLease()
                    while len(self._leases) > self.max_entries:
                        del self._leases[next(iter(self._leases))]
        return lease

    def clear(self) -> None:
        with self._lock:
            self._leases.clear()


quota_leases = QuotaLeases(max_entries=10_000)


class WindowRateThrottle(BaseThrottle):
    """At most ``<requests>`` per fixed window of the rate's period, per identity, in the shared cache."""

    scope = ""
    rate_setting = ""
    timer = staticmethod(time.time)
    leases = quota_leases  # the process's: Django's cache objects are per thread, a lease serves them all

    def __init__(self) -> None:
        self.remaining_seconds: float | None = None

    @cached_property
    def cache(self):
        # Looked up when a request is counted: a throttle that does not apply to it never touches the cache.
        return caches[settings.API_THROTTLE_CACHE]

    def rate(self) -> str | None:
        return getattr(settings, self.rate_setting)

    def identity(self, request, view) -> str | None:
        """Whose budget this request spends; None: not limited by this throttle."""
        raise NotImplementedError

    def window(self, identity: str, period: int) -> tuple[str, float]:
        """The counter's key for ``identity`` in the current window, and the seconds left in that window."""
        now = self.timer()
        window = int(now // period)
        return f"throttle:{self.scope}:{identity}:{period}:{window}", (window + 1) * period - now

    def allow_request(self, request, view) -> bool:
        rate = self.rate()
        identity = self.identity(request, view) if rate else None
        if not rate or identity is None:
            return True
        limit, period = parse_rate(rate)
        key, self.remaining_seconds = self.window(identity, period)
        if key in spent_budgets:
            return False  # refused until the window ends whatever the count: no round trip to learn it again
        timeout = period + EXPIRY_MARGIN_SECONDS
        try:
            if isinstance(self.cache, RedisCache) and (chunk := lease_size(limit)) > 1:
                admitted = self._spend_lease(key, limit=limit, chunk=chunk, timeout=timeout)
            else:
                admitted = self._count(key, timeout=timeout) <= limit
        except Exception:  # noqa: BLE001 - the cache being down must not refuse every request
            logger.warning("rate limit %s not counted: the cache is unavailable", self.scope, exc_info=True)
            return True
        if not admitted:
            spent_budgets.add(key)
        return admitted

    def _spend_lease(self, key: str, *, limit: int, chunk: int, timeout: int) -> bool:
        """Spend one request of this process's lease on ``key``'s budget, leasing ``chunk`` more from Redis when
        it has none left in this window. False: the budget is spent (Redis granted nothing more)."""
        redis_key = self.cache.make_key(key)  # the counter's name in Redis: its cache prefix and version included
        lease = self.leases.of(redis_key.rpartition(":")[0])  # the window is the key's last part
        with lease.lock:
            if lease.key != redis_key:  # a new window: what was left of the last one is gone with it
                lease.key, lease.remaining = redis_key, 0
            if not lease.remaining:
                count = redis_count(self.cache, key, timeout=timeout, amount=chunk)
                # only what fits under the limit: the counter held ``count - chunk`` before this lease
                lease.remaining = max(0, min(chunk, limit - (count - chunk)))
                if not lease.remaining:
                    return False
            lease.remaining -= 1
            return True

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

    def get_ident(self, request) -> str:
        # Not DRF's: it believes X-Forwarded-For from anyone unless NUM_PROXIES is set, and then still a client's.
        return client_address(request)


def redis_count(cache: RedisCache, key: str, *, timeout: int, amount: int = 1) -> int:
    """``key``'s counter in ``cache``'s Redis after adding ``amount``: a single round trip to the write server
    (two the first time a server sees the script)."""
    redis_key = cache.make_and_validate_key(key)  # the key cache.get(key) reads
    client = redis_write_client(cache)
    try:
        count = client.evalsha(REDIS_COUNT_SCRIPT_SHA1, 1, redis_key, timeout, amount)
    except NoScriptError:  # a server that does not know it yet (new, restarted, SCRIPT FLUSH): EVAL also keeps it
        count = client.eval(REDIS_COUNT_SCRIPT, 1, redis_key, timeout, amount)
    return int(count)


_write_clients: weakref.WeakKeyDictionary[RedisCache, object] = weakref.WeakKeyDictionary()


def redis_write_client(cache: RedisCache):
    """The redis-py client of ``cache``'s write server, on the cache's own connection pool, kept per cache.

    Django's RedisCache has no public way to its client: this is the one place that reaches in (its private
    ``_cache``, and that object's ``get_client``). Kept because ``get_client`` builds a new ``redis.Redis`` on
    each call, which costs more than the round trip it serves.
    """
    client = _write_clients.get(cache)
    if client is None:
        client = _write_clients[cache] = cache._cache.get_client(write=True)
    return client


class PrincipalRateThrottle(WindowRateThrottle):
    scope = "principal"
    rate_setting = "API_THROTTLE_RATE_USER"

    def identity(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return request_principal(request)


class AnonymousRateThrottle(WindowRateThrottle):
    scope = "anon"
    rate_setting = "API_THROTTLE_RATE_ANON"

    def identity(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        return self.get_ident(request)

    def wait_before_authentication(self, request, view) -> float | None:
        """Seconds left in the window when this process saw the client address spend its budget, else None.
        Asked by ``integrations.authentication`` before it looks a token up (so without ``request.user``): an
        address past its budget has its tokens refused unread, and trying tokens costs no query once over."""
        rate = self.rate()
        if not rate:
            return None
        key, remaining = self.window(self.get_ident(request), parse_rate(rate)[1])
        return remaining if key in spent_budgets else None


class TokenRequestRateThrottle(WindowRateThrottle):
    scope = "token"
    rate_setting = "API_THROTTLE_RATE_TOKEN"

    def identity(self, request, view) -> str | None:
        return self.get_ident(request)


class AdminLoginRateThrottle(WindowRateThrottle):
    scope = "admin_login"
    rate_setting = "ADMIN_LOGIN_THROTTLE_RATE"

    def identity(self, request, view) -> str | None:
        return self.get_ident(request)


DOOR_THROTTLES = [PrincipalRateThrottle, AnonymousRateThrottle]
TOKEN_THROTTLES = [TokenRequestRateThrottle]


# DRF authenticates, then checks permissions, then the rate limits: a request refused by the first two has not
# been counted yet.
REFUSED_BEFORE_THROTTLES = (exceptions.NotAuthenticated, exceptions.AuthenticationFailed, exceptions.PermissionDenied)


def refusal_counted(exc: Exception, context: dict) -> Exception:
    """A refusal of the caller (no token, a bad one, a route it may not use) spends a budget all the same: an
    unknown caller its address's, a known one its own. Past it the answer is Throttled rather than ``exc``."""
    view, request = context.get("view"), context.get("request")
    if not isinstance(exc, REFUSED_BEFORE_THROTTLES) or view is None or request is None:
        return exc
    for throttle in view.get_throttles():
        if not throttle.allow_request(request, view):
            return exceptions.Throttled(throttle.wait())
    return exc


def throttled_response(exc: exceptions.Throttled, body: dict) -> Response:
    """429 with ``Retry-After`` in whole seconds (at least 1) when the throttle knows the wait."""
    response = Response(body, status=429)
    wait: int | None = exc.wait  # type: ignore[attr-defined]  # DRF sets it in __init__; its stubs omit it
    if wait is not None:
        response["Retry-After"] = str(max(1, math.ceil(wait)))
    return response
