"""/V1 doors: the admin token, Bearer auth and Magento's 401s, store codes, routing, exact amounts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import AccessToken
from integrations.services import access_token_revoke, integration_token_create
from sales.models import Invoice
from tests.conftest import load_seed_order
from tests.factories import UserFactory
from tests.helpers import parse, post_json

pytestmark = pytest.mark.django_db

USERNAME, PASSWORD = "integration-admin", "s3cret-Passw0rd"  # the staff_user fixture's credentials
TOKEN_URL = "/rest/V1/integration/admin/token"
SIGN_IN_FAILED = {
    "message": "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
}
UNAUTHORIZED = "The consumer isn't authorized to access %resources."
NO_ROUTE = {"message": "Request does not match any route."}
STORE_NOT_FOUND = {"message": "The store that was requested wasn't found. Verify the store and try again."}


def send(client, method: str, url: str):
    """A request of any method; those that may carry a body carry ``{}``."""
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    return getattr(client, method)(url, "{}", content_type="application/json")


def unauthorized(resource: str) -> dict:
    return {"message": UNAUTHORIZED, "parameters": {"resources": resource}}


@pytest.fixture
def order(import_order):
    return import_order(load_seed_order("000"))


# -- POST /V1/integration/admin/token -------------------------------------------------------------------


def test_admin_token_is_a_bare_json_string_usable_as_bearer(api_client, staff_user, order):
    response = post_json(api_client, TOKEN_URL, {"username": USERNAME, "password": PASSWORD})

    assert response.status_code == 200
    assert response.content.startswith(b'"') and response.content.endswith(b'"')
    token = parse(response)
    assert isinstance(token, str) and len(token) >= 32
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get(f"/rest/V1/orders/{order.pk}").status_code == 200


def test_admin_token_is_issued_under_a_store_code_too(api_client, staff_user, default_store):
    response = post_json(
        api_client, "/rest/default/V1/integration/admin/token", {"username": USERNAME, "password": PASSWORD}
    )

    assert response.status_code == 200
    assert isinstance(parse(response), str)


def test_admin_token_with_a_wrong_password_is_401(api_client, staff_user):
    response = post_json(api_client, TOKEN_URL, {"username": USERNAME, "password": "wrong"})

    assert response.status_code == 401
    assert parse(response) == SIGN_IN_FAILED
    assert not AccessToken.objects.exists()


def test_admin_token_for_an_unknown_user_is_401(api_client, staff_user):
    response = post_json(api_client, TOKEN_URL, {"username": "nobody", "password": PASSWORD})

    assert response.status_code == 401
    assert parse(response) == SIGN_IN_FAILED


def test_admin_token_without_username_is_required(api_client, staff_user):
    response = post_json(api_client, TOKEN_URL, {"password": PASSWORD})

    assert response.status_code == 400
    assert parse(response) == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "username"},
    }


def test_admin_token_with_a_blank_password_is_required(api_client, staff_user):
    response = post_json(api_client, TOKEN_URL, {"username": USERNAME, "password": ""})

    assert response.status_code == 400
    assert parse(response) == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "password"},
    }


def test_admin_token_without_both_fields_reports_both(api_client, staff_user):
    # Magento's CredentialsValidator adds one error per blank field to one InputException.
    response = post_json(api_client, TOKEN_URL, {})

    assert response.status_code == 400
    assert parse(response) == {
        "message": "One or more input exceptions have occurred.",
        "errors": [
            {"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": "username"}},
            {"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": "password"}},
        ],
    }


def test_admin_token_for_a_user_who_is_not_staff_is_401(api_client):
    UserFactory(username="shopper", password=PASSWORD)

    response = post_json(api_client, TOKEN_URL, {"username": "shopper", "password": PASSWORD})

    assert response.status_code == 401
    assert parse(response) == SIGN_IN_FAILED
    assert not AccessToken.objects.exists()


def test_admin_token_for_an_inactive_staff_user_is_401(api_client, staff_user):
    staff_user.is_active = False
    staff_user.save()

    response = post_json(api_client, TOKEN_URL, {"username": USERNAME, "password": PASSWORD})

    assert response.status_code == 401
    assert parse(response) == SIGN_IN_FAILED


# -- Bearer auth and the route's ACL resource in the 401 ------------------------------------------------


def test_no_token_is_401_naming_the_routes_acl_resource(api_client, default_store):
    response = api_client.get("/rest/V1/invoices/1")

    assert response.status_code == 401
    assert parse(response) == unauthorized("Magento_Sales::sales_invoice")


@pytest.mark.parametrize(
    ("method", "url", "resource"),
    [
        ("post", "/rest/default/V1/order/1/invoice", "Magento_Sales::invoice"),
        ("get", "/rest/default/V1/invoices?searchCriteria", "Magento_Sales::sales_invoice"),
        ("get", "/rest/default/V1/invoices/1/comments", "Magento_Sales::sales_invoice"),
        ("post", "/rest/default/V1/invoices/comments", "Magento_Sales::comment"),
        ("post", "/rest/default/V1/invoices/1/capture", "Magento_Sales::capture"),
        ("post", "/rest/default/V1/invoices/1/void", "Counterfoil_Sales::void"),
        ("post", "/rest/default/V1/invoices/1/cancel", "Magento_Sales::cancel"),
        ("post", "/rest/default/V1/invoices/1/emails", "Magento_Sales::emails"),
        ("get", "/rest/default/V1/transactions?searchCriteria", "Magento_Sales::transactions_fetch"),
        ("get", "/rest/default/V1/orders?searchCriteria", "Magento_Sales::actions_view"),
        ("post", "/rest/default/V1/orders", "Magento_Sales::create"),
        ("put", "/rest/default/V1/orders/create", "Magento_Sales::create"),
        ("get", "/rest/default/V1/orders/1", "Magento_Sales::actions_view"),
        ("get", "/rest/default/V1/orders/1/statuses", "Magento_Sales::actions_view"),
        ("get", "/rest/default/V1/orders/1/comments", "Magento_Sales::actions_view"),
        ("post", "/rest/default/V1/orders/1/comments", "Magento_Sales::comment"),
    ],
)
def test_each_route_names_its_own_acl_resource_when_unauthorized(api_client, default_store, method, url, resource):
    response = send(api_client, method, url)

    assert response.status_code == 401
    assert parse(response) == unauthorized(resource)


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Bearer ", "Bearer two parts", "Basic aW50ZWdyYXRpb24tYWRtaW46czNjcmV0"],
)
def test_an_invalid_token_is_401(api_client, admin_token, order, authorization):
    api_client.credentials(HTTP_AUTHORIZATION=authorization)

    response = api_client.get(f"/rest/V1/orders/{order.pk}")

    assert response.status_code == 401
    assert parse(response) == unauthorized("Magento_Sales::actions_view")


def test_an_expired_token_is_401_consumer_key_has_expired(v1, order):
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = v1.get(f"/rest/V1/orders/{order.pk}")

    assert response.status_code == 401
    assert parse(response) == {"message": "Consumer key has expired"}


def test_an_admin_token_expires_after_the_configured_lifetime(api_client, staff_user, order, settings, monkeypatch):
    settings.ADMIN_TOKEN_LIFETIME_HOURS = 2
    token = parse(post_json(api_client, TOKEN_URL, {"username": USERNAME, "password": PASSWORD}))
    stored = AccessToken.objects.get()
    assert timedelta(hours=2) - timedelta(minutes=1) < stored.expires_at - stored.created_at <= timedelta(hours=2)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get(f"/rest/V1/orders/{order.pk}").status_code == 200

    # Two hours later (by the clock: a token the process keeps is held to its expiry all the same).
    monkeypatch.setattr(timezone, "now", lambda: stored.expires_at)

    assert parse(api_client.get(f"/rest/V1/orders/{order.pk}")) == {"message": "Consumer key has expired"}


def test_a_revoked_token_is_401(v1, order):
    access_token_revoke(token=AccessToken.objects.get())

    response = v1.get(f"/rest/V1/orders/{order.pk}")

    assert response.status_code == 401
    assert parse(response) == unauthorized("Magento_Sales::actions_view")


def test_a_token_of_a_deactivated_user_is_401(v1, staff_user, order):
    staff_user.is_active = False
    staff_user.save()

    response = v1.get(f"/rest/V1/orders/{order.pk}")

    assert response.status_code == 401
    assert parse(response) == unauthorized("Magento_Sales::actions_view")


def test_a_token_of_a_user_who_is_not_staff_is_401(api_client, order):
    shopper = UserFactory(username="shopper", password=PASSWORD)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token_create(user=shopper, name='shop')}")

    response = api_client.get(f"/rest/V1/orders/{order.pk}")

    assert response.status_code == 401
    assert parse(response) == unauthorized("Magento_Sales::actions_view")


# -- store codes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/rest/V1", "/rest/default/V1", "/rest/all/V1"])
def test_the_same_route_answers_under_every_store_prefix(v1, order, prefix):
    response = v1.get(f"{prefix}/orders/{order.pk}")

    assert response.status_code == 200, response.content
    assert parse(response)["increment_id"] == order.increment_id


@pytest.mark.parametrize("prefix", ["/rest/V1", "/rest/default/V1", "/rest/all/V1"])
def test_invoices_answer_under_every_store_prefix(v1, order, prefix):
    created = post_json(v1, f"{prefix}/order/{order.pk}/invoice", {"capture": True})
    assert created.status_code == 200, created.content

    response = v1.get(f"{prefix}/invoices/{parse(created)}")

    assert response.status_code == 200, response.content
    assert parse(response)["order_id"] == order.pk


def test_an_unknown_store_code_is_404(v1, order):
    response = v1.get(f"/rest/nope/V1/orders/{order.pk}")

    assert response.status_code == 404
    assert parse(response) == STORE_NOT_FOUND


def test_an_unknown_store_code_writes_nothing(v1, order):
    response = post_json(v1, f"/rest/nope/V1/order/{order.pk}/invoice", {"capture": True})

    assert response.status_code == 404
    assert parse(response) == STORE_NOT_FOUND
    assert not Invoice.objects.exists()


# -- routing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/rest/V1/nothing-here",
        "/rest/default/V1/orders/1/unknown",
        "/rest/default/V1/orders/abc",
        "/rest/default/V2/orders/1",
        "/rest/",
        "/rest/default/V1/",
    ],
)
def test_an_unknown_route_is_404_no_route(v1, url):
    response = v1.get(url)

    assert response.status_code == 404
    assert parse(response) == NO_ROUTE


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("delete", "/rest/V1/orders/{id}"),
        ("post", "/rest/V1/orders/{id}"),
        ("put", "/rest/V1/invoices/1"),
        ("get", "/rest/V1/order/{id}/invoice"),
        ("delete", "/rest/default/V1/orders/{id}/comments"),
        ("get", "/rest/default/V1/invoices/comments"),
        ("patch", "/rest/all/V1/orders"),
        ("post", "/rest/V1/orders/{id}/statuses"),
        ("get", "/rest/V1/integration/admin/token"),
    ],
)
def test_a_wrong_method_on_a_known_route_is_404_no_route(v1, order, method, url):
    response = send(v1, method, url.format(id=order.pk))

    assert response.status_code == 404
    assert parse(response) == NO_ROUTE


def test_a_wrong_method_is_404_no_route_even_without_a_token(api_client, order):
    # Magento matches the route before it checks the consumer's permissions.
    response = api_client.delete(f"/rest/V1/orders/{order.pk}")

    assert response.status_code == 404
    assert parse(response) == NO_ROUTE


# -- exact amounts -----------------------------------------------------------------------------------


def test_whole_amounts_render_as_integers_not_floats(v1, order):
    response = v1.get(f"/rest/V1/orders/{order.pk}")

    assert response.status_code == 200
    assert b'"grand_total":165,' in response.content
    assert b'"base_grand_total":165,' in response.content
    assert b'"subtotal":160,' in response.content
    assert b'"shipping_amount":5,' in response.content
    assert b'"price":22,' in response.content
    assert not re.search(rb":-?\d+\.0\b", response.content), "an amount rendered with a trailing .0"
    assert b'"165.0' not in response.content and b"165.0000" not in response.content


def test_fractional_amounts_render_exactly(v1, import_order):
    order = import_order(load_seed_order("001"))

    response = v1.get(f"/rest/V1/orders/{order.pk}")

    assert response.status_code == 200
    assert b'"grand_total":1917.6,' in response.content
    assert b'"discount_amount":-404.4,' in response.content
    assert b"1917.6000" not in response.content and b"1917.59" not in response.content


def test_invoice_amounts_render_exactly(v1, import_order):
    order = import_order(load_seed_order("001"))
    created = post_json(v1, f"/rest/V1/order/{order.pk}/invoice", {"capture": True})
    assert created.status_code == 200, created.content
    assert re.fullmatch(rb"[0-9]+", created.content), created.content

    response = v1.get(f"/rest/V1/invoices/{parse(created)}")

    assert response.status_code == 200
    assert b'"grand_total":1917.6,' in response.content
    assert b'"base_grand_total":1917.6,' in response.content
    assert b'"shipping_amount":300,' in response.content
    assert b'"discount_amount":-404.4,' in response.content
    assert not re.search(rb":-?\d+\.\d*0[,}]", response.content), "an amount rendered with trailing zeros"
