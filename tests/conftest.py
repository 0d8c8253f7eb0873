import os

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `postgres` skip on other databases, or fail when PostgreSQL is required."""
    if item.get_closest_marker("postgres") is None:
        return
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    if os.environ.get("COUNTERFOIL_REQUIRE_POSTGRES") == "1":
        pytest.fail(
            f"{item.nodeid} requires PostgreSQL but DATABASE_URL points to {connection.vendor} "
            "(COUNTERFOIL_REQUIRE_POSTGRES=1)",
            pytrace=False,
        )
    pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def forget_accepted_tokens():
    """Each test starts with an empty per-process token cache (tokens a test accepted stay its own)."""
    from integrations.services import accepted_tokens

    accepted_tokens.clear()
    yield
    accepted_tokens.clear()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


# -- shared fixtures for the sales core and its doors --------------------------------------------

SEEDS_DIR = __import__("pathlib").Path(__file__).resolve().parent.parent / "sales" / "demo"


def load_seed_order(name: str) -> dict:
    """A tutorial order as ``POST /V1/orders`` takes it (``{"entity": {...}}``), numbers as Decimal."""
    import json
    from decimal import Decimal

    return json.loads((SEEDS_DIR / f"seed_{name}_order.json").read_text(), parse_float=Decimal)


@pytest.fixture
def default_store(db):
    """Store 1 (``default``); recreated after tests that flush the database."""
    from sales.models import Store

    store, _ = Store.objects.get_or_create(
        id=Store.DEFAULT_ID, defaults={"code": "default", "name": "Default Store View"}
    )
    return store


@pytest.fixture
def staff_user(db):
    """The admin behind the ``v1`` fixture's token: a superuser (Magento's "All" role), so every route's
    ACL resource is allowed without a permission query; tests of refusals make their own users."""
    from tests.factories import StaffUserFactory

    return StaffUserFactory(username="integration-admin", email="ops@example.com", superuser=True)


@pytest.fixture
def admin_token(staff_user) -> str:
    from integrations.services import admin_token_create

    return admin_token_create(username="integration-admin", password="s3cret-Passw0rd")


@pytest.fixture
def v1(api_client, admin_token, default_store):
    """An APIClient carrying an admin Bearer token, for /rest/.../V1/ routes."""
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_token}")
    return api_client


@pytest.fixture
def import_order(default_store):
    """Store an order through the import service: ``import_order(payload_or_entity, **overrides)``."""
    from sales.services import order_import

    def _import(payload: dict, **overrides):
        entity = dict(payload.get("entity", payload))
        entity.update(overrides)
        return order_import(entity=entity, store_id=default_store.id)

    return _import


@pytest.fixture
def audited_content_types_cached(db):
    """Query budgets count a warm worker: the audit entry of a write names its object's content type, which Django
    looks up once per process and then caches, so the first test to write would otherwise pay one query more."""
    from django.contrib.contenttypes.models import ContentType

    from sales.models import Invoice, Order

    ContentType.objects.get_for_models(Invoice, Order)
