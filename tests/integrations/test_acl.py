"""ACL resources as Django permissions; integration token scopes chosen by staff in the admin."""

from __future__ import annotations

import pytest
from django.utils import timezone

from integrations.acl import (
    ANONYMOUS,
    acl_allows,
    acl_permission_of,
    acl_resource_choices,
    acl_resources_of_user,
    view_acl_resources,
)
from integrations.models import AccessToken, SignInFailureLog, is_integration
from integrations.services import integration_token_create
from tests.factories import StaffUserFactory, add_permissions
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/integrations/accesstoken/add/"


def grant(user, *names: str):
    add_permissions(user, *names)
    return type(user).objects.get(pk=user.pk)  # a fresh object: Django caches permissions per instance


@pytest.fixture
def staff(db):
    return StaffUserFactory(username="clerk")


def token(kind=AccessToken.Kind.ADMIN, resources=()):
    return AccessToken(kind=kind, acl_resources=list(resources))


# -- the table -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "permission"),
    [
        ("Magento_Sales::sales_invoice", "sales.view_invoice"),
        ("Magento_Sales::invoice", "sales.invoice_order"),
        ("Magento_Sales::capture", "sales.capture_invoice"),
        ("Counterfoil_Sales::void", "sales.void_invoice"),
        ("Magento_Sales::cancel", "sales.cancel_invoice"),
        ("Magento_Sales::emails", "sales.email_invoice"),
        ("Magento_Sales::comment", "sales.comment_invoice"),
        ("Magento_Sales::actions_view", "sales.view_order"),
        ("Magento_Sales::create", "sales.add_order"),
        ("Magento_Sales::transactions_fetch", "sales.view_order"),
    ],
)
def test_magento_resources_map_to_django_permissions(resource, permission):
    assert acl_permission_of(resource) == permission


def test_every_resource_offered_is_one_a_route_declares():
    from tests.api.test_authorization_matrix import api_routes

    declared = {resource for route in api_routes() for resource in route.resources}

    assert {resource for resource, _label in acl_resource_choices()} == declared


def test_the_setting_adds_or_overrides_resources(settings):
    settings.ACL_RESOURCE_PERMISSIONS = {"Vendor_Module::thing": "sales.view_store"}

    assert acl_permission_of("Vendor_Module::thing") == "sales.view_store"
    assert ("Vendor_Module::thing", "Vendor_Module::thing (Vendor_Module::thing)") in acl_resource_choices()


def test_a_view_declares_resources_per_method_or_by_default():
    class View:
        default_acl_resource = "Magento_Sales::sales_invoice"
        acl_resources = {"POST": ("Magento_Sales::invoice", "Magento_Sales::capture")}

    assert view_acl_resources(View, "get") == ("Magento_Sales::sales_invoice",)
    assert view_acl_resources(View, "POST") == ("Magento_Sales::invoice", "Magento_Sales::capture")


def test_a_head_request_needs_the_resources_of_get():
    class View:
        default_acl_resource = "Magento_Sales::sales"
        acl_resources = {"GET": "Magento_Sales::actions_view", "POST": "Magento_Sales::create"}

    assert view_acl_resources(View, "HEAD") == ("Magento_Sales::actions_view",)


def test_a_head_on_a_list_route_is_open_to_whoever_may_get_it(api_client, staff):
    from integrations.services import admin_token_create

    grant(staff, "sales.view_order")
    token = admin_token_create(username="clerk", password=PASSWORD)

    response = api_client.head("/rest/V1/orders", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code not in (401, 403), response.content


def test_only_an_integration_tokens_kind_makes_a_caller_an_integration():
    assert is_integration(AccessToken(kind=AccessToken.Kind.INTEGRATION))
    assert not is_integration(AccessToken(kind=AccessToken.Kind.ADMIN))
    assert not is_integration(None)  # no token: a session or an anonymous caller


# -- who is allowed ------------------------------------------------------------------------------------------


def test_an_admin_token_acts_with_its_users_permissions(staff):
    assert not acl_allows(user=staff, token=token(), resources=["Magento_Sales::capture"])

    staff = grant(staff, "sales.capture_invoice")

    assert acl_allows(user=staff, token=token(), resources=["Magento_Sales::capture"])
    assert not acl_allows(user=staff, token=token(), resources=["Magento_Sales::capture", "Magento_Sales::invoice"])


def test_a_superuser_has_every_resource_even_unknown_ones():
    root = StaffUserFactory(superuser=True)

    assert acl_allows(user=root, token=token(), resources=["Magento_Sales::capture", "Vendor_Module::unknown"])


def test_an_unknown_resource_is_refused_to_everyone_but_superusers(staff):
    staff = grant(staff, "sales.view_invoice")

    assert not acl_allows(user=staff, token=token(), resources=["Vendor_Module::unknown"])


def test_an_integration_token_needs_its_scope_and_its_users_permission():
    erp = StaffUserFactory(is_staff=False, permissions=["sales.invoice_order"])

    assert acl_allows(
        user=erp, token=token("integration", ["Magento_Sales::invoice"]), resources=["Magento_Sales::invoice"]
    )
    assert not acl_allows(
        user=erp, token=token("integration", ["Magento_Sales::sales_invoice"]), resources=["Magento_Sales::invoice"]
    )
    assert not acl_allows(
        user=erp, token=token("integration", ["Magento_Sales::capture"]), resources=["Magento_Sales::capture"]
    )


def test_a_superusers_integration_token_is_still_limited_to_its_scope():
    root = StaffUserFactory(superuser=True)
    scoped = token("integration", ["Magento_Sales::sales_invoice"])

    assert acl_allows(user=root, token=scoped, resources=["Magento_Sales::sales_invoice"])
    assert not acl_allows(user=root, token=scoped, resources=["Magento_Sales::invoice"])


def test_anonymous_routes_are_open_and_routes_without_resources_are_closed(staff):
    assert acl_allows(user=staff, token=None, resources=[ANONYMOUS])
    assert not acl_allows(user=staff, token=None, resources=[])


def test_the_resources_of_a_user_follow_their_groups():
    staff = StaffUserFactory(groups=["Sales viewer"])

    resources = set(acl_resources_of_user(staff))

    assert {"Magento_Sales::sales_invoice", "Magento_Sales::actions_view"} <= resources
    assert "Magento_Sales::invoice" not in resources


def test_integration_token_scope_is_stored_sorted_and_unique(staff):
    integration_token_create(
        user=staff,
        name="ERP",
        acl_resources=["Magento_Sales::invoice", "Magento_Sales::emails", "Magento_Sales::invoice"],
    )

    assert AccessToken.objects.get().acl_resources == ["Magento_Sales::emails", "Magento_Sales::invoice"]


# -- the admin -----------------------------------------------------------------------------------------------


def test_the_issue_form_offers_a_checkbox_per_resource(admin_client):
    page = admin_client.get(ADD_URL).content.decode()

    for resource, _ in acl_resource_choices():
        assert f'value="{resource}"' in page
    assert 'type="checkbox"' in page


def test_a_token_needs_at_least_one_resource(admin_client):
    erp = StaffUserFactory(username="erp", is_staff=False)

    response = admin_client.post(ADD_URL, {"user": erp.pk, "name": "ERP"})

    assert response.status_code == 200  # the form again, with its error
    assert not AccessToken.objects.exists()


def test_staff_can_only_hand_out_resources_they_hold(client, staff):
    staff = grant(staff, "integrations.add_accesstoken", "integrations.view_accesstoken", "sales.view_invoice")
    erp = StaffUserFactory(username="erp", is_staff=False)
    client.login(username="clerk", password=PASSWORD)

    page = client.get(ADD_URL).content.decode()
    refused = client.post(ADD_URL, {"user": erp.pk, "name": "ERP", "acl_resources": ["Magento_Sales::invoice"]})
    issued = client.post(ADD_URL, {"user": erp.pk, "name": "ERP", "acl_resources": ["Magento_Sales::sales_invoice"]})

    assert 'value="Magento_Sales::sales_invoice"' in page and 'value="Magento_Sales::invoice"' not in page
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert issued.status_code == 200 and 'id="issued-token"' in issued.content.decode()
    assert AccessToken.objects.get().acl_resources == ["Magento_Sales::sales_invoice"]


def test_issuing_warns_when_the_user_lacks_a_resources_permission(admin_client):
    erp = StaffUserFactory(username="erp", is_staff=False)

    response = admin_client.post(
        ADD_URL, {"user": erp.pk, "name": "ERP", "acl_resources": ["Magento_Sales::invoice"]}, follow=True
    )

    shown = [str(message) for message in response.context["messages"]]
    assert any("lacks the permissions of Magento_Sales::invoice" in message for message in shown)


def test_the_change_page_shows_the_scope_read_only(admin_client, staff):
    integration_token_create(user=staff, name="ERP", acl_resources=["Magento_Sales::emails"])
    token_pk = AccessToken.objects.get().pk

    page = admin_client.get(f"/admin/integrations/accesstoken/{token_pk}/change/").content.decode()

    assert "Magento_Sales::emails" in page
    assert 'name="acl_resources"' not in page


def test_revoking_needs_the_change_permission(client, staff):
    integration_token_create(user=staff, name="ERP", acl_resources=["Magento_Sales::emails"])
    staff = grant(staff, "integrations.view_accesstoken")
    client.login(username="clerk", password=PASSWORD)
    token_pk = AccessToken.objects.get().pk

    client.post(
        "/admin/integrations/accesstoken/", {"action": "revoke_selected_tokens", "_selected_action": [token_pk]}
    )

    assert AccessToken.objects.get().revoked_at is None


def test_staff_unlock_a_locked_username(admin_client):
    SignInFailureLog.objects.create(username="ops", failures_count=6, lock_expires_at=timezone.now())
    log_pk = SignInFailureLog.objects.get().pk

    admin_client.post(
        "/admin/integrations/signinfailurelog/",
        {"action": "unlock_selected_usernames", "_selected_action": [log_pk]},
    )

    assert not SignInFailureLog.objects.exists()
