"""API tokens: issuing, storing, expiring, revoking and bearer authentication."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from integrations.admin import AccessTokenAdmin
from integrations.authentication import BearerTokenAuthentication
from integrations.exceptions import CredentialsMissing, InvalidCredentials, TokenExpired, TokenInvalid
from integrations.models import AccessToken, token_hash_of
from integrations.services import (
    access_token_authenticate,
    access_token_revoke,
    admin_token_create,
    integration_token_create,
)
from tests.factories import StaffUserFactory, UserFactory
from tests.integrations.test_admin_token_shown_once import shown_token

PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.django_db


@pytest.fixture
def magento_admin(django_user_model):
    return StaffUserFactory(username="admin", password=PASSWORD)


@pytest.fixture
def admin_raw_token(magento_admin) -> str:
    return admin_token_create(username="admin", password=PASSWORD)


def bearer_request(authorization: str | None):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    return APIRequestFactory().get("/rest/default/V1/invoices", **headers)


# --- issuing and storing ---------------------------------------------------------------------------


def test_admin_token_stores_only_the_sha256_of_the_raw_token(admin_raw_token):
    token = AccessToken.objects.get()

    assert token.token_hash == hashlib.sha256(admin_raw_token.encode()).hexdigest()
    assert admin_raw_token not in {str(value) for value in AccessToken.objects.values().get().values()}
    assert not AccessToken.objects.filter(token_hash=admin_raw_token).exists()


def test_each_admin_token_is_a_new_unguessable_token(magento_admin):
    first = admin_token_create(username="admin", password=PASSWORD)
    second = admin_token_create(username="admin", password=PASSWORD)

    assert first != second
    assert len(first) >= 43  # secrets.token_urlsafe(32)
    assert AccessToken.objects.filter(user=magento_admin, kind=AccessToken.Kind.ADMIN).count() == 2


def test_admin_token_expires_after_the_configured_lifetime(settings, magento_admin):
    settings.ADMIN_TOKEN_LIFETIME_HOURS = 2
    before = timezone.now()

    admin_token_create(username="admin", password=PASSWORD)

    after = timezone.now()
    token = AccessToken.objects.get()
    assert before + timedelta(hours=2) <= token.expires_at <= after + timedelta(hours=2)
    assert not token.is_expired(token.expires_at - timedelta(seconds=1))
    assert token.is_expired(token.expires_at)


def test_admin_token_lifetime_defaults_to_magentos_four_hours(magento_admin):
    before = timezone.now()

    admin_token_create(username="admin", password=PASSWORD)

    token = AccessToken.objects.get()
    assert before + timedelta(hours=4) <= token.expires_at <= timezone.now() + timedelta(hours=4)


@pytest.mark.parametrize("lifetime", [0, -1, None])
def test_an_empty_or_non_positive_admin_token_lifetime_means_never_expires(settings, magento_admin, lifetime):
    settings.ADMIN_TOKEN_LIFETIME_HOURS = lifetime

    raw_token = admin_token_create(username="admin", password=PASSWORD)

    token = access_token_authenticate(raw_token=raw_token)
    assert token.expires_at is None
    assert not token.is_expired(timezone.now() + timedelta(days=3650))


def test_integration_token_never_expires(magento_admin):
    raw_token = integration_token_create(user=magento_admin, name="ERP sync")

    token = access_token_authenticate(raw_token=raw_token)
    assert (token.kind, token.name, token.expires_at) == (AccessToken.Kind.INTEGRATION, "ERP sync", None)


# --- refusing credentials ----------------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", None])
def test_blank_username_is_reported_as_the_missing_field(magento_admin, blank):
    with pytest.raises(CredentialsMissing) as excinfo:
        admin_token_create(username=blank, password=PASSWORD)

    assert excinfo.value.field_name == "username"
    assert excinfo.value.field_names == ("username",)
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("blank", ["", None])
def test_blank_password_is_reported_as_the_missing_field(magento_admin, blank):
    with pytest.raises(CredentialsMissing) as excinfo:
        admin_token_create(username="admin", password=blank)

    assert excinfo.value.field_name == "password"
    assert excinfo.value.field_names == ("password",)


def test_both_blank_fields_are_reported_like_magentos_validator(magento_admin):
    with pytest.raises(CredentialsMissing) as excinfo:
        admin_token_create(username="", password="")

    assert excinfo.value.field_names == ("username", "password")


def test_wrong_password_is_refused_as_invalid_credentials(magento_admin):
    with pytest.raises(InvalidCredentials):
        admin_token_create(username="admin", password="wrong")

    assert not AccessToken.objects.exists()


def test_unknown_username_is_refused_as_invalid_credentials(magento_admin):
    with pytest.raises(InvalidCredentials):
        admin_token_create(username="nobody", password=PASSWORD)


def test_non_staff_user_gets_no_admin_token(django_user_model):
    UserFactory(username="shopper", password=PASSWORD)

    with pytest.raises(InvalidCredentials):
        admin_token_create(username="shopper", password=PASSWORD)

    assert not AccessToken.objects.exists()


def test_inactive_staff_user_gets_no_admin_token(django_user_model):
    StaffUserFactory(username="former", password=PASSWORD, inactive=True)

    with pytest.raises(InvalidCredentials):
        admin_token_create(username="former", password=PASSWORD)


# --- authenticating and revoking ---------------------------------------------------------------------


def test_authenticating_a_token_runs_one_select_and_writes_nothing(
    admin_raw_token, django_assert_num_queries, settings
):
    settings.API_TOKEN_CACHE_SECONDS = 0  # kept tokens: see test_token_cache.py
    with django_assert_num_queries(1) as captured:
        token = access_token_authenticate(raw_token=admin_raw_token)
        assert token.user.username == "admin"  # the user came with the same query

    assert captured.captured_queries[0]["sql"].lstrip().upper().startswith("SELECT")


def test_unknown_token_is_invalid(admin_raw_token):
    with pytest.raises(TokenInvalid):
        access_token_authenticate(raw_token=admin_raw_token + "x")


def test_token_past_its_expiry_is_expired(admin_raw_token):
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(TokenExpired):
        access_token_authenticate(raw_token=admin_raw_token)


def test_revoked_token_is_refused(admin_raw_token):
    access_token_revoke(token=AccessToken.objects.get())

    with pytest.raises(TokenInvalid):
        access_token_authenticate(raw_token=admin_raw_token)


def test_revoking_twice_keeps_the_first_revocation_time(admin_raw_token):
    token = AccessToken.objects.get()
    access_token_revoke(token=token)
    first_revoked_at = token.revoked_at

    access_token_revoke(token=AccessToken.objects.get())

    assert first_revoked_at is not None
    assert AccessToken.objects.get().revoked_at == first_revoked_at


def test_token_of_a_deactivated_user_is_invalid(magento_admin, admin_raw_token):
    magento_admin.is_active = False
    magento_admin.save(update_fields=["is_active"])

    with pytest.raises(TokenInvalid):
        access_token_authenticate(raw_token=admin_raw_token)


# --- the DRF authentication class --------------------------------------------------------------------


def test_no_authorization_header_is_anonymous():
    assert BearerTokenAuthentication().authenticate(bearer_request(None)) is None


def test_another_scheme_is_left_to_other_authenticators():
    assert BearerTokenAuthentication().authenticate(bearer_request("Basic YWRtaW46cGFzcw==")) is None


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer not-a-known-token", "Bearer two parts", "Bearer t\u00f6ken"],
    ids=["no-token", "unknown", "spaces", "non-ascii"],
)
def test_bad_bearer_header_fails_as_token_invalid(authorization):
    with pytest.raises(AuthenticationFailed) as excinfo:
        BearerTokenAuthentication().authenticate(bearer_request(authorization))

    assert excinfo.value.get_codes() == "token_invalid"


def test_revoked_bearer_token_fails_as_token_invalid(admin_raw_token):
    access_token_revoke(token=AccessToken.objects.get())

    with pytest.raises(AuthenticationFailed) as excinfo:
        BearerTokenAuthentication().authenticate(bearer_request(f"Bearer {admin_raw_token}"))

    assert excinfo.value.get_codes() == "token_invalid"


def test_expired_bearer_token_fails_as_token_expired(admin_raw_token):
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    with pytest.raises(AuthenticationFailed) as excinfo:
        BearerTokenAuthentication().authenticate(bearer_request(f"Bearer {admin_raw_token}"))

    assert excinfo.value.get_codes() == "token_expired"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_valid_bearer_token_authenticates_its_user_with_any_scheme_case(magento_admin, admin_raw_token, scheme):
    user, token = BearerTokenAuthentication().authenticate(bearer_request(f"{scheme} {admin_raw_token}"))

    assert user == magento_admin
    assert token == AccessToken.objects.get()


def test_bearer_authentication_asks_for_a_bearer_token_so_drf_answers_401():
    assert BearerTokenAuthentication().authenticate_header(bearer_request(None)) == "Bearer"


class _ProtectedView(APIView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"user": request.user.username, "kind": request.auth.kind})


def test_request_without_a_token_is_answered_401_with_a_bearer_challenge():
    response = _ProtectedView.as_view()(bearer_request(None))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_request_with_a_valid_token_reaches_the_view_as_its_user(admin_raw_token):
    response = _ProtectedView.as_view()(bearer_request(f"Bearer {admin_raw_token}"))

    assert response.status_code == 200
    assert response.data == {"user": "admin", "kind": "admin"}


# --- the admin ---------------------------------------------------------------------------------------


def test_admin_action_revokes_the_selected_live_tokens(magento_admin, monkeypatch):
    integration_token_create(user=magento_admin, name="ERP")
    integration_token_create(user=magento_admin, name="PIM")
    access_token_revoke(token=AccessToken.objects.get(name="PIM"))
    messages = []
    model_admin = AccessTokenAdmin(AccessToken, admin.site)
    monkeypatch.setattr(model_admin, "message_user", lambda request, message: messages.append(message))

    request = RequestFactory().post("/admin/integrations/accesstoken/")
    request.user = magento_admin  # the staff member revoking: the audit trail names them

    model_admin.revoke_selected_tokens(request, AccessToken.objects.all())

    assert not AccessToken.objects.filter(revoked_at__isnull=True).exists()
    assert messages == ["Revoked 1 token(s)."]


def test_admin_never_shows_nor_edits_the_token_hash():
    model_admin = AccessTokenAdmin(AccessToken, admin.site)
    token = AccessToken(kind=AccessToken.Kind.ADMIN)

    assert "token_hash" not in model_admin.get_fields(None) and "token_hash" not in model_admin.get_fields(None, token)
    assert set(model_admin.get_fields(None, token)) <= set(model_admin.get_readonly_fields(None, token))


# -- staff issue integration tokens in the admin ---------------------------------------------------


@pytest.mark.django_db
def test_staff_issue_an_integration_token_in_the_admin_and_see_it_once(admin_client, django_user_model):
    erp = UserFactory(username="erp-xyz", password=None)

    response = admin_client.post(
        "/admin/integrations/accesstoken/add/",
        {"user": erp.pk, "name": "ERP-XYZ", "acl_resources": ["Magento_Sales::sales_invoice"]},
        follow=True,
    )

    token = AccessToken.objects.get(user=erp)
    assert token.kind == AccessToken.Kind.INTEGRATION and token.name == "ERP-XYZ" and token.expires_at is None
    assert token.acl_resources == ["Magento_Sales::sales_invoice"]
    raw = shown_token(response)
    assert token_hash_of(raw) == token.token_hash  # the one shown is the one stored (as a hash)
    assert raw not in admin_client.get(f"/admin/integrations/accesstoken/{token.pk}/change/").content.decode()


@pytest.mark.django_db
def test_a_revoked_integration_token_no_longer_opens_api2(admin_client, api_client, django_user_model):
    erp = UserFactory(username="erp-xyz", password=None)
    erp.user_permissions.add(Permission.objects.get(content_type__app_label="sales", codename="view_invoice"))
    raw = integration_token_create(user=erp, name="ERP-XYZ", acl_resources=["Magento_Sales::sales_invoice"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get("/api2/invoice").status_code == 200

    token = AccessToken.objects.get(user=erp)
    admin_client.post(
        "/admin/integrations/accesstoken/", {"action": "revoke_selected_tokens", "_selected_action": [token.pk]}
    )

    assert api_client.get("/api2/invoice").status_code == 401
