"""Tests behind a real PgBouncer (marker ``pgbouncer``): skipped without the binary, or failing when
``COUNTERFOIL_REQUIRE_PGBOUNCER=1`` (CI, which installs Debian's pgbouncer)."""

from __future__ import annotations

import os

import pytest

from tests.pooler.pgbouncer import pgbouncer_path


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture (no flush, no server): tests marked `pgbouncer` need the binary."""
    if item.get_closest_marker("pgbouncer") is None or pgbouncer_path():
        return
    reason = "needs PgBouncer (apt-get install pgbouncer, or PGBOUNCER_PATH)"
    if os.environ.get("COUNTERFOIL_REQUIRE_PGBOUNCER") == "1":
        pytest.fail(f"{item.nodeid} {reason} (COUNTERFOIL_REQUIRE_PGBOUNCER=1)", pytrace=False)
    pytest.skip(reason)
