"""Quota leases on Redis: a process takes a budget's requests from the shared counter in chunks and spends them
without a round trip, and the processes together never admit more than the limit.

Each "process" is a throttle with a cache client of its own and leases of its own (``throttle.leases``), on one
Redis, as two gunicorn workers would be; threads of one process share its leases, each with its own cache object as
Django gives each thread. Redis commands are counted by wrapping redis-py's ``execute_command``. The clock stands
still mid-minute. Like tests/api/test_throttling.py's Redis tests, these need ``REDIS_URL``.
"""

from __future__ import annotations

import sys
import threading
from types import SimpleNamespace

import pytest
from django.core.cache.backends.redis import RedisCache

from sales.api.throttling import (
    PrincipalRateThrottle,
    QuotaLeases,
    WindowRateThrottle,
    lease_size,
    quota_leases,
    spent_budgets,
)
from tests.api import test_throttling

redis_url = test_throttling.redis_url  # REDIS_URL, answering (else skip, or fail when CI requires it)
two_workers_caches = test_throttling.two_workers_caches  # two cache clients on one Redis, one fresh key prefix

NOW = 1_000_000.0  # 20 s left in this minute's window
WINDOW = int(NOW // 60)


@pytest.fixture(autouse=True)
def clock_and_clean_process(monkeypatch):
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: NOW))
    spent_budgets.clear()
    quota_leases.clear()
    yield
    spent_budgets.clear()
    quota_leases.clear()


def caller(pk: int) -> SimpleNamespace:
    return SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=pk), auth=None)


def process(cache: RedisCache, leases: QuotaLeases | None = None) -> PrincipalRateThrottle:
    """A throttle as one web process has it: its cache client, and its own leases unless given a process's."""
    throttle = PrincipalRateThrottle()
    throttle.cache = cache
    throttle.leases = leases if leases is not None else QuotaLeases(max_entries=100)
    return throttle


def counter(cache: RedisCache, pk: int, window: int = WINDOW) -> int | None:
    return cache.get(f"throttle:principal:user:{pk}:60:{window}")


@pytest.fixture
def redis_commands(monkeypatch):
    """The names of the Redis commands sent from here on, by any client of this process."""
    import redis

    commands = []
    execute = redis.Redis.execute_command
    monkeypatch.setattr(
        redis.Redis,
        "execute_command",
        lambda client, *args, **kw: commands.append(args[0]) or execute(client, *args, **kw),
    )
    return commands


def leases_of_the_script(commands: list[str]) -> int:
    """Round trips that ran the count script: EVALSHA, or EVAL right after a server that did not know it."""
    return commands.count("EVALSHA")


def test_the_lease_is_one_percent_of_the_limit_between_one_and_the_lease_max(settings):
    assert lease_size(1_000_000) == 50  # the declared default
    settings.API_THROTTLE_LEASE_MAX = 50
    assert [lease_size(limit) for limit in (600, 60, 30, 199, 200, 1005, 1_000_000)] == [6, 1, 1, 1, 2, 10, 50]
    settings.API_THROTTLE_LEASE_MAX = 1
    assert lease_size(1_000_000) == 1


def test_processes_leasing_on_one_budget_never_admit_more_than_the_limit_together(two_workers_caches, settings):
    # given a limit that is no multiple of the chunk (10): the last lease fits only in part
    settings.API_THROTTLE_RATE_USER = "1005/min"
    settings.API_THROTTLE_LEASE_MAX = 50
    workers = [process(cache) for cache in two_workers_caches]
    who = caller(11)

    # when the two processes take turns irregularly, far past the budget
    turns = [0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1] * 200
    admitted = [0, 0]
    for turn in turns:
        admitted[turn] += workers[turn].allow_request(who, None)

    assert sum(admitted) <= 1005
    assert sum(admitted) >= 1005 - 2 * (10 - 1)  # each may hold at most its chunk less one unspent
    assert all(admitted)
    assert not any(worker.allow_request(who, None) for worker in workers)


def test_a_process_with_requests_left_on_its_lease_admits_without_a_round_trip(
    two_workers_caches, settings, redis_commands
):
    settings.API_THROTTLE_RATE_USER = "1000/min"  # chunks of 10
    settings.API_THROTTLE_LEASE_MAX = 50
    worker = process(two_workers_caches[0])
    who = caller(12)

    first = worker.allow_request(who, None)
    assert first and leases_of_the_script(redis_commands) == 1
    assert counter(two_workers_caches[1], 12) == 10  # the whole chunk is taken from the shared counter

    redis_commands.clear()
    assert all(worker.allow_request(who, None) for _ in range(9))
    assert redis_commands == []  # the other nine of the chunk are spent in the process

    assert worker.allow_request(who, None)  # the eleventh needs a new lease
    assert leases_of_the_script(redis_commands) == 1 and counter(two_workers_caches[1], 12) == 20


def test_a_new_window_starts_a_new_lease(two_workers_caches, settings, redis_commands, monkeypatch):
    settings.API_THROTTLE_RATE_USER = "1000/min"
    settings.API_THROTTLE_LEASE_MAX = 50
    worker = process(two_workers_caches[0])
    who = caller(13)
    assert worker.allow_request(who, None)  # nine left on this window's lease
    redis_commands.clear()

    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: NOW + 20))

    assert worker.allow_request(who, None)
    assert leases_of_the_script(redis_commands) == 1  # the old window's nine are not spent in the new one
    assert counter(two_workers_caches[1], 13, WINDOW + 1) == 10
    assert counter(two_workers_caches[1], 13) == 10


def test_a_lease_max_of_one_counts_every_request_in_redis(two_workers_caches, settings, redis_commands):
    settings.API_THROTTLE_RATE_USER = "1000/min"
    settings.API_THROTTLE_LEASE_MAX = 1
    worker = process(two_workers_caches[0])
    who = caller(14)

    assert all(worker.allow_request(who, None) for _ in range(5))

    assert leases_of_the_script(redis_commands) == 5
    assert counter(two_workers_caches[1], 14) == 5


def test_a_lease_granted_in_part_admits_only_what_fit(two_workers_caches, settings, redis_commands):
    # given a budget of 1000 of which another process took 995
    settings.API_THROTTLE_RATE_USER = "1000/min"
    settings.API_THROTTLE_LEASE_MAX = 50
    two_workers_caches[1].set(f"throttle:principal:user:15:60:{WINDOW}", 995, timeout=120)
    worker = process(two_workers_caches[0])
    who = caller(15)

    # when this process leases a chunk of 10: 5 of it fit
    allowed = [worker.allow_request(who, None) for _ in range(7)]

    assert allowed == [True] * 5 + [False] * 2
    # one lease for the five, one that got nothing; the seventh is refused from what the process saw
    assert leases_of_the_script(redis_commands) == 2
    assert not process(two_workers_caches[1]).allow_request(who, None)  # nothing is left for anyone


@pytest.mark.parametrize("processes", [1, 2])
def test_threads_of_processes_sharing_leases_never_admit_more_than_the_limit(
    two_workers_caches, redis_url, settings, processes
):
    # given gthread-like processes: four threads each, each thread with its own cache client, one lease per process
    settings.API_THROTTLE_RATE_USER = "1005/min"
    settings.API_THROTTLE_LEASE_MAX = 50
    switch_interval = sys.getswitchinterval()
    prefix = two_workers_caches[0].key_prefix
    workers = []
    for _ in range(processes):
        leases = QuotaLeases(max_entries=100)
        workers += [process(RedisCache(redis_url, {"KEY_PREFIX": prefix}), leases) for _ in range(4)]
    who = caller(16)
    admitted = [0] * len(workers)
    start = threading.Barrier(len(workers))

    def serve(index: int) -> None:
        start.wait()
        admitted[index] = sum(workers[index].allow_request(who, None) for _ in range(400))

    threads = [threading.Thread(target=serve, args=(index,)) for index in range(len(workers))]
    sys.setswitchinterval(1e-6)  # threads switch often, so an unlocked lease would be caught
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch_interval)

    # then one process admits exactly the limit, and several never more, less at most a chunk's rest each
    if processes == 1:
        assert sum(admitted) == 1005
    else:
        assert 1005 - processes * (10 - 1) <= sum(admitted) <= 1005
