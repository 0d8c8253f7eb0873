"""Rate limits on both doors: 429 with ``Retry-After`` in the door's envelope, one budget per caller.

The throttles are tried on small views built from the doors' real base classes (``MagentoView``,
``AdminTokenView``, ``Api2View``) with the two lines each base takes (``throttle_classes`` and
``get_exception_handler``), mounted by this module's own URLconf. The clock is fixed so a window
never ends mid-test. The last tests count in a real Redis through two separate cache clients, as
two gunicorn workers would: they run when ``REDIS_URL`` answers, and fail without it when
``COUNTERFOIL_REQUIRE_POSTGRES=1`` (as CI runs), like the ``postgres`` marker.
"""

from __future__ import annotations

import os
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache.backends.redis import RedisCache
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from integrations.services import admin_token_create, integration_token_create
from sales.api.api2.errors import TOO_MANY_REQUESTS as API2_TOO_MANY_REQUESTS
from sales.api.api2.errors import exception_handler as api2_exception_handler
from sales.api.api2.views import Api2View
from sales.api.throttling import (
    DOOR_THROTTLES,
    EXPIRY_MARGIN_SECONDS,
    TOKEN_THROTTLES,
    AnonymousRateThrottle,
    PrincipalRateThrottle,
    WindowRateThrottle,
    parse_rate,
    quota_leases,
    spent_budgets,
)
from sales.api.v1.base import MagentoView
from sales.api.v1.errors import TOO_MANY_REQUESTS as V1_TOO_MANY_REQUESTS
from sales.api.v1.errors import exception_handler as v1_exception_handler
from sales.api.v1.views import AdminTokenView
from tests.factories import StaffUserFactory
from tests.helpers import bearer

PASSWORD = "s3cret-Passw0rd"
NOW = 1_000_000.0  # 16666 whole minutes and 40 s: 20 s left in this minute's window


class V1Probe(MagentoView):
    throttle_classes = DOOR_THROTTLES

    def get_exception_handler(self):
        return v1_exception_handler

    def get(self, request, **kwargs):
        return Response(True)


class V1AnonymousProbe(V1Probe):
    default_acl_resource = "anonymous"
    permission_classes = [AllowAny]


class TokenProbe(AdminTokenView):
    throttle_classes = TOKEN_THROTTLES

    def get_exception_handler(self):
        return v1_exception_handler


class Api2Probe(Api2View):
    default_acl_resource = "Magento_Sales::sales_invoice"
    throttle_classes = DOOR_THROTTLES

    def get_exception_handler(self):
        return api2_exception_handler

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("rest/<str:store_code>/V1/probe", V1Probe.as_view()),
    path("rest/<str:store_code>/V1/anonymous-probe", V1AnonymousProbe.as_view()),
    path("rest/<str:store_code>/V1/integration/admin/token", TokenProbe.as_view()),
    path("api2/probe", Api2Probe.as_view()),
]

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def own_cache_and_clock(settings, monkeypatch):
    """A cache of this test's own, no budget known spent, and a clock standing still in the middle of a minute."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: NOW))
    spent_budgets.clear()
    quota_leases.clear()
    yield
    spent_budgets.clear()
    quota_leases.clear()


def staff_token(django_user_model, username: str) -> str:
    StaffUserFactory(username=username, password=PASSWORD, superuser=True)
    return admin_token_create(username=username, password=PASSWORD)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "refusal"),
    [("/rest/default/V1/probe", {"message": V1_TOO_MANY_REQUESTS}), ("/api2/probe", {"error": API2_TOO_MANY_REQUESTS})],
    ids=["V1", "api2"],
)
def test_the_request_over_the_budget_is_429_with_retry_after_in_the_doors_envelope(
    client, django_user_model, default_store, settings, url, refusal
):
    settings.API_THROTTLE_RATE_USER = "3/min"
    token = staff_token(django_user_model, "busy-admin")

    answers = [client.get(url, **bearer(token)) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[3].json() == refusal
    assert answers[3]["Retry-After"] == "20"  # whole seconds to the end of the window
    assert all("Retry-After" not in answer for answer in answers[:3])


@pytest.mark.django_db
def test_callers_have_budgets_of_their_own_and_both_doors_spend_the_same_one(
    client, django_user_model, default_store, settings
):
    settings.API_THROTTLE_RATE_USER = "2/min"
    first = staff_token(django_user_model, "first-admin")
    second = staff_token(django_user_model, "second-admin")
    integration = integration_token_create(
        user=django_user_model.objects.get(username="first-admin"), name="erp", acl_resources=["Magento_Sales::sales"]
    )
    settings.INTEGRATION_TOKENS_AS_BEARER = True

    # the first admin spends its budget across both doors
    assert client.get("/rest/default/V1/probe", **bearer(first)).status_code == 200
    assert client.get("/api2/probe", **bearer(first)).status_code == 200
    assert client.get("/rest/default/V1/probe", **bearer(first)).status_code == 429
    # a new admin token of the same user is the same caller
    again = admin_token_create(username="first-admin", password=PASSWORD)
    assert client.get("/api2/probe", **bearer(again)).status_code == 429
    # another admin, and an integration acting as the first admin's user, each have their own
    assert [client.get("/rest/default/V1/probe", **bearer(second)).status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/rest/default/V1/probe", **bearer(integration)).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]


@pytest.mark.django_db
def test_a_new_window_opens_a_new_budget(client, django_user_model, default_store, settings, monkeypatch):
    settings.API_THROTTLE_RATE_USER = "1/min"
    token = staff_token(django_user_model, "patient-admin")
    assert [client.get("/api2/probe", **bearer(token)).status_code for _ in range(2)] == [200, 429]

    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: NOW + 20))

    assert client.get("/api2/probe", **bearer(token)).status_code == 200


@pytest.mark.django_db
def test_requests_without_a_token_are_limited_per_client_address(client, default_store, settings):
    settings.API_THROTTLE_RATE_ANON = "2/min"
    url = "/rest/default/V1/anonymous-probe"

    from_one = [client.get(url, REMOTE_ADDR="203.0.113.1").status_code for _ in range(3)]
    from_another = [client.get(url, REMOTE_ADDR="203.0.113.2").status_code for _ in range(3)]

    assert from_one == from_another == [200, 200, 429]


@pytest.mark.django_db
def test_the_token_request_has_its_own_stricter_limit_per_client_address(
    client, django_user_model, default_store, settings
):
    settings.API_THROTTLE_RATE_TOKEN = "2/min"
    StaffUserFactory(username="token-admin", password=PASSWORD)
    body = {"username": "token-admin", "password": PASSWORD}
    url = "/rest/default/V1/integration/admin/token"

    answers = [client.post(url, body, content_type="application/json", REMOTE_ADDR="198.51.100.7") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json() == {"message": V1_TOO_MANY_REQUESTS}
    assert answers[2]["Retry-After"] == "20"
    other_address = client.post(url, body, content_type="application/json", REMOTE_ADDR="198.51.100.8")
    assert other_address.status_code == 200


# -- the client's address: X-Forwarded-For only from trusted proxies -----------------------------------------

CLIENT, PROXY = "203.0.113.50", "10.0.0.2"


def spoofed(number: int) -> str:
    return f"198.51.100.{number}"


@pytest.mark.django_db
def test_a_client_sent_x_forwarded_for_gives_no_fresh_budget_for_anonymous_calls(client, default_store, settings):
    settings.API_THROTTLE_RATE_ANON = "2/min"  # TRUSTED_PROXY_COUNT is left at its default: none
    url = "/rest/default/V1/anonymous-probe"

    answers = [client.get(url, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=spoofed(n)).status_code for n in range(3)]

    assert answers == [200, 200, 429]


@pytest.mark.django_db
def test_a_client_sent_x_forwarded_for_gives_no_fresh_budget_on_the_token_route(
    client, django_user_model, default_store, settings
):
    settings.API_THROTTLE_RATE_TOKEN = "2/min"
    body = {"username": "nobody", "password": "guess"}
    url = "/rest/default/V1/integration/admin/token"

    answers = [
        client.post(url, body, content_type="application/json", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=spoofed(n))
        for n in range(3)
    ]

    assert [answer.status_code for answer in answers] == [401, 401, 429]


@pytest.mark.django_db
def test_behind_one_trusted_proxy_its_entry_is_the_client_and_a_prepended_spoof_is_ignored(
    client, default_store, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.API_THROTTLE_RATE_ANON = "2/min"
    url = "/rest/default/V1/anonymous-probe"

    # the client writes an entry of its own; the proxy appends the address it was reached from
    from_client = [
        client.get(url, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{spoofed(n)}, {CLIENT}").status_code for n in range(3)
    ]
    another_client = client.get(url, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.51").status_code

    assert from_client == [200, 200, 429]
    assert another_client == 200  # the proxy's address is not one budget for everyone behind it


def test_rates_read_drfs_notation_and_none_switches_a_limit_off(settings):
    assert parse_rate("600/min") == (600, 60)
    assert parse_rate("30/m") == (30, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("1000/hour") == (1000, 3600)
    assert parse_rate("10/day") == (10, 86400)
    settings.API_THROTTLE_RATE_USER = None
    caller = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=1), auth=None)
    assert all(PrincipalRateThrottle().allow_request(caller, None) for _ in range(100))


def test_an_unreachable_cache_lets_requests_through_and_says_so(settings, caplog):
    settings.API_THROTTLE_RATE_USER = "1/min"

    class DownCache:
        def add(self, *args, **kwargs):
            raise ConnectionError("connection refused")

    throttle = PrincipalRateThrottle()
    throttle.cache = DownCache()
    caller = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=1), auth=None)

    assert throttle.allow_request(caller, None) and throttle.allow_request(caller, None)
    assert any("cache is unavailable" in record.getMessage() for record in caplog.records)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "token", "status", "scope"),
    [
        ("/rest/default/V1/probe", "valid", 200, "principal"),
        ("/rest/default/V1/anonymous-probe", None, 200, "anon"),
        ("/rest/default/V1/probe", None, 401, "anon"),
        ("/rest/default/V1/probe", "not-a-token", 401, "anon"),
        ("/api2/probe", "not-a-token", 401, "anon"),
    ],
    ids=["caller", "anonymous", "refused for no token", "refused for its token on V1", "refused for its token on api2"],
)
def test_a_door_request_spends_one_budget_only(
    client, django_user_model, default_store, monkeypatch, url, token, status, scope
):
    counted = []
    monkeypatch.setattr(WindowRateThrottle, "_count", lambda self, key, timeout: counted.append(key) or 1)
    if token == "valid":
        token = staff_token(django_user_model, "counted-admin")
    headers = bearer(token) if token else {}

    assert client.get(url, **headers).status_code == status

    assert [key.split(":")[1] for key in counted] == [scope]


@pytest.mark.django_db
def test_anonymous_requests_and_refused_tokens_share_the_addresss_budget(client, default_store, settings):
    # a route open to anyone still refuses a bad token (401): both spend what the address may send
    settings.API_THROTTLE_RATE_ANON = "2/min"
    url = "/rest/default/V1/anonymous-probe"

    answers = [client.get(url), client.get(url, **bearer("not-a-token")), client.get(url)]

    assert [answer.status_code for answer in answers] == [200, 401, 429]
    assert answers[2].json() == {"message": V1_TOO_MANY_REQUESTS} and answers[2]["Retry-After"] == "20"


def test_a_throttle_that_does_not_apply_never_touches_the_cache():
    caller = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=1), auth=None)
    throttle = AnonymousRateThrottle()

    assert throttle.allow_request(caller, None)
    assert "cache" not in vars(throttle)


# -- Redis: one budget across workers ---------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    """REDIS_URL, answering; else skip, or fail when COUNTERFOIL_REQUIRE_POSTGRES=1 (CI's services)."""
    import redis

    url = os.environ.get("REDIS_URL", "")
    problem = "REDIS_URL is not set"
    if url:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
            return url
        except redis.exceptions.RedisError as error:
            problem = f"Redis at {url} does not answer: {error}"
    if os.environ.get("COUNTERFOIL_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"needs Redis, but {problem} (COUNTERFOIL_REQUIRE_POSTGRES=1)", pytrace=False)
    pytest.skip(f"needs Redis: {problem}")


@pytest.fixture
def two_workers_caches(redis_url):
    """Two cache clients with their own connection pools, like two gunicorn workers, on one Redis."""
    import redis

    prefix = f"counterfoil-test-throttle-{uuid.uuid4().hex}"
    caches = [RedisCache(redis_url, {"KEY_PREFIX": prefix}) for _ in range(2)]
    yield caches
    client = redis.Redis.from_url(redis_url)
    stale = list(client.scan_iter(f"{prefix}*"))
    if stale:
        client.delete(*stale)


def test_two_workers_count_one_budget_in_redis(two_workers_caches, settings):
    settings.API_THROTTLE_RATE_USER = "5/min"
    workers = []
    for cache in two_workers_caches:
        throttle = PrincipalRateThrottle()
        throttle.cache = cache
        workers.append(throttle)
    assert workers[0].cache._cache.get_client(None) is not workers[1].cache._cache.get_client(None)
    caller, other = (SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=pk), auth=None) for pk in (42, 43))

    # requests of one caller alternate between the two workers
    allowed = [workers[turn % 2].allow_request(caller, None) for turn in range(8)]

    assert allowed == [True] * 5 + [False] * 3
    assert 0 < workers[1].wait() <= 60
    # and another caller's budget is untouched
    assert workers[1].allow_request(other, None)


@pytest.mark.django_db
def test_the_doors_throttle_through_redis_when_caches_point_there(
    client, django_user_model, default_store, settings, redis_url
):
    import redis

    prefix = f"counterfoil-test-throttle-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    settings.API_THROTTLE_RATE_USER = "2/min"
    token = staff_token(django_user_model, "redis-admin")
    try:
        answers = [client.get("/api2/probe", **bearer(token)) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [200, 200, 429]
        assert answers[2]["Retry-After"] == "20"
        assert list(redis.Redis.from_url(redis_url).scan_iter(f"{prefix}*throttle:principal:*"))
    finally:
        client_ = redis.Redis.from_url(redis_url)
        stale = list(client_.scan_iter(f"{prefix}*"))
        if stale:
            client_.delete(*stale)


def test_each_request_costs_one_redis_round_trip_and_the_counter_expires(two_workers_caches, settings, monkeypatch):
    import redis

    settings.API_THROTTLE_RATE_USER = "5/min"
    throttle = PrincipalRateThrottle()
    throttle.cache = two_workers_caches[0]
    caller = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=7), auth=None)
    assert throttle.allow_request(caller, None)  # the first may load the script into the server
    commands = []
    execute = redis.Redis.execute_command
    monkeypatch.setattr(
        redis.Redis,
        "execute_command",
        lambda client, *args, **kw: commands.append(args[0]) or execute(client, *args, **kw),
    )

    allowed = [PrincipalRateThrottle.allow_request(throttle, caller, None) for _ in range(3)]

    assert allowed == [True] * 3 and len(commands) == 3
    key = f"throttle:principal:user:7:60:{int(NOW // 60)}"
    assert two_workers_caches[1].get(key) == 4  # the counter is the cache's own key and value
    redis_key = two_workers_caches[0].make_and_validate_key(key)
    assert 0 < two_workers_caches[0]._cache.get_client(redis_key).ttl(redis_key) <= 60 + EXPIRY_MARGIN_SECONDS


def test_a_redis_that_forgot_the_script_loads_it_and_counts_on(two_workers_caches, redis_url, settings, monkeypatch):
    import redis

    # given a server that knows no script: restarted, or as here SCRIPT FLUSH
    settings.API_THROTTLE_RATE_USER = "2/min"
    throttle = PrincipalRateThrottle()
    throttle.cache = two_workers_caches[0]
    caller = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=8), auth=None)
    redis.Redis.from_url(redis_url).script_flush()
    commands = []
    execute = redis.Redis.execute_command
    monkeypatch.setattr(
        redis.Redis,
        "execute_command",
        lambda client, *args, **kw: commands.append(args[0]) or execute(client, *args, **kw),
    )

    allowed = [throttle.allow_request(caller, None) for _ in range(3)]

    assert allowed == [True, True, False]
    assert commands == ["EVALSHA", "EVAL", "EVALSHA", "EVALSHA"]  # EVAL runs it once and the server keeps it
    key = f"throttle:principal:user:8:60:{int(NOW // 60)}"
    assert two_workers_caches[1].get(key) == 3
    redis_key = two_workers_caches[0].make_and_validate_key(key)
    assert 0 < redis.Redis.from_url(redis_url).ttl(redis_key) <= 60 + EXPIRY_MARGIN_SECONDS


def test_a_budget_seen_spent_is_refused_without_a_round_trip_until_its_window_ends(
    two_workers_caches, settings, monkeypatch
):
    import redis

    settings.API_THROTTLE_RATE_USER = "1/min"
    throttle = PrincipalRateThrottle()
    throttle.cache = two_workers_caches[0]
    caller = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=9), auth=None)
    assert [throttle.allow_request(caller, None) for _ in range(2)] == [True, False]
    commands = []
    execute = redis.Redis.execute_command
    monkeypatch.setattr(
        redis.Redis,
        "execute_command",
        lambda client, *args, **kw: commands.append(args[0]) or execute(client, *args, **kw),
    )

    assert throttle.allow_request(caller, None) is False and 0 < throttle.wait() <= 20
    assert commands == []
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: NOW + 20))
    assert throttle.allow_request(caller, None) is True
    assert commands == ["EVALSHA"]


def test_an_unreachable_redis_lets_requests_through_and_says_so(settings, caplog):
    settings.API_THROTTLE_RATE_USER = "1/min"
    throttle = PrincipalRateThrottle()
    throttle.cache = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 1}})
    caller = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=1), auth=None)

    assert throttle.allow_request(caller, None) and throttle.allow_request(caller, None)
    assert any("cache is unavailable" in record.getMessage() for record in caplog.records)
