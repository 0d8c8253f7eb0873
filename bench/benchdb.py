"""The benchmarks' database: PostgreSQL, and only one whose name says it is for benchmarks."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/counterfoil_bench"
PROTECTED_DATABASES = {"counterfoil", "test_counterfoil", "postgres", "template0", "template1"}


def bench_database_url(default: str = DEFAULT_DATABASE_URL, script: str = "bench") -> str:
    """``DATABASE_URL`` (else ``default``); the script stops unless it names a PostgreSQL database with
    ``bench`` in its name, so a developer's or the test suite's database is never written to.

    The benchmarks reach PostgreSQL directly, so ``DATABASE_SESSION_FEATURES`` is on (unless set) for the
    script and the servers it starts: prepared statements, as the figures in RESULTS.md were taken with."""
    os.environ.setdefault("DATABASE_SESSION_FEATURES", "1")
    url = os.environ.get("DATABASE_URL") or default
    name = urlsplit(url).path.lstrip("/")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"{script}: DATABASE_URL must be PostgreSQL, got {url!r}")
    if not name or name in PROTECTED_DATABASES or "bench" not in name:
        sys.exit(f"{script}: refusing database {name!r}; use a dedicated one such as {urlsplit(default).path[1:]}")
    return url
