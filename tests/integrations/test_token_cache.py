"""The per-process cache of accepted tokens: no query for a token used again, and never a refused
token accepted beyond the documented window (``API_TOKEN_CACHE_SECONDS``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from integrations.acl import acl_allows
from integrations.exceptions import TokenExpired, TokenInvalid
from integrations.models import AccessToken
from integrations.services import (
    AcceptedTokenCache,
    accepted_tokens,
    access_token_authenticate,
    access_token_revoke,
    admin_token_create,
    integration_token_create,
)
from tests.factories import StaffUserFactory

PASSWORD = "correct horse battery staple"
INVOICES = ("Magento_Sales::sales_invoice",)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.API_TOKEN_CACHE_SECONDS = 10  # tests/conftest.py empties the cache around every test


@pytest.fixture
def clerk(django_user_model):
    """A staff user who is not a superuser, allowed to view invoices."""
    return StaffUserFactory(username="clerk", password=PASSWORD, permissions=["sales.view_invoice"])


@pytest.fixture
def raw_token(clerk) -> str:
    return admin_token_create(username="clerk", password=PASSWORD)


def authenticated(raw: str) -> AccessToken:
    return access_token_authenticate(raw_token=raw)


def later(monkeypatch, seconds: float) -> None:
    """Move the cache's clock ``seconds`` on."""
    now = AcceptedTokenCache.clock()
    monkeypatch.setattr(AcceptedTokenCache, "clock", staticmethod(lambda: now + seconds))


def test_a_token_used_again_costs_no_query_not_even_for_its_users_permissions(raw_token, django_assert_num_queries):
    authenticated(raw_token)  # token + the user's permissions, once

    with django_assert_num_queries(0):
        token = authenticated(raw_token)
        assert acl_allows(user=token.user, token=token, resources=INVOICES)
        assert not acl_allows(user=token.user, token=token, resources=("Magento_Sales::capture",))


def test_authentication_never_writes(raw_token, django_assert_max_num_queries):
    with django_assert_max_num_queries(3) as captured:
        authenticated(raw_token)
        authenticated(raw_token)

    assert all(query["sql"].lstrip().upper().startswith("SELECT") for query in captured.captured_queries)


def test_each_request_gets_its_own_copies_of_the_token_and_user(raw_token):
    first = authenticated(raw_token)
    first.user.is_staff = False
    first.name = "changed by a request"

    second = authenticated(raw_token)

    assert second is not first and second.user is not first.user
    assert second.user.is_staff and second.name == ""
    assert second.user is second._state.fields_cache["user"]


def test_a_token_revoked_through_the_service_is_refused_at_once(raw_token):
    authenticated(raw_token)

    access_token_revoke(token=AccessToken.objects.get())

    with pytest.raises(TokenInvalid):
        authenticated(raw_token)


def test_a_revocation_that_lands_while_the_token_is_read_keeps_nothing(raw_token, monkeypatch):
    """Another thread of this process revokes between the read and the keeping: the stale read is not kept."""
    from integrations import services

    read = services._access_token_read

    def read_then_revoked_elsewhere(token_hash):
        token = read(token_hash)
        access_token_revoke(token=AccessToken.objects.get())
        return token

    monkeypatch.setattr(services, "_access_token_read", read_then_revoked_elsewhere)
    authenticated(raw_token)  # this request read the token before the revocation: it passes
    monkeypatch.setattr(services, "_access_token_read", read)

    assert len(accepted_tokens) == 0
    with pytest.raises(TokenInvalid):
        authenticated(raw_token)


def test_a_revocation_is_applied_again_when_it_commits(raw_token, django_capture_on_commit_callbacks):
    authenticated(raw_token)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        access_token_revoke(token=AccessToken.objects.get())
        authenticated_before_commit = len(accepted_tokens)

    assert callbacks  # the on-commit discard ran too
    assert authenticated_before_commit == 0
    with pytest.raises(TokenInvalid):
        authenticated(raw_token)


def test_a_request_cannot_grant_the_next_one_a_permission(raw_token):
    from django.contrib.auth.backends import ModelBackend

    first = authenticated(raw_token)
    with pytest.raises(AttributeError):
        ModelBackend().get_all_permissions(first.user).add("sales.void_invoice")

    assert not authenticated(raw_token).user.has_perm("sales.void_invoice")


def test_a_token_revoked_in_the_admin_is_refused_at_once(admin_client, raw_token):
    authenticated(raw_token)

    answer = admin_client.post(
        "/admin/integrations/accesstoken/",
        {"action": "revoke_selected_tokens", "_selected_action": [AccessToken.objects.get().pk]},
    )

    assert answer.status_code == 302
    with pytest.raises(TokenInvalid):
        authenticated(raw_token)


def test_a_kept_token_is_expired_at_its_expiry(raw_token, monkeypatch):
    expires_at = AccessToken.objects.get().expires_at
    authenticated(raw_token)
    monkeypatch.setattr(timezone, "now", lambda: expires_at)

    with pytest.raises(TokenExpired):
        authenticated(raw_token)
    assert len(accepted_tokens) == 0


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda user: setattr(user, "is_active", False) or user.save(), id="deactivated"),
        pytest.param(lambda user: user.delete(), id="deleted"),
        pytest.param(lambda user: AccessToken.objects.get().delete(), id="token deleted"),
    ],
)
def test_a_change_of_the_user_or_token_saved_here_is_seen_at_once(raw_token, clerk, change):
    authenticated(raw_token)

    change(clerk)

    with pytest.raises(TokenInvalid):
        authenticated(raw_token)


def test_a_password_change_makes_the_token_read_again(raw_token, clerk, django_assert_num_queries):
    authenticated(raw_token)
    clerk.set_password("another " + PASSWORD)
    clerk.save()

    with django_assert_num_queries(3):  # token, and the user's permissions again
        authenticated(raw_token)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda user, perm: user.user_permissions.remove(perm), id="permission removed"),
        pytest.param(lambda user, perm: perm.delete(), id="permission deleted"),
    ],
)
def test_a_permission_taken_away_here_is_refused_at_once(raw_token, clerk, change):
    token = authenticated(raw_token)
    assert acl_allows(user=token.user, token=token, resources=INVOICES)

    change(clerk, Permission.objects.get(codename="view_invoice"))

    token = authenticated(raw_token)
    assert not acl_allows(user=token.user, token=token, resources=INVOICES)


def test_group_changes_are_seen_at_once(raw_token, clerk):
    clerk.user_permissions.clear()
    group = Group.objects.create(name="invoice readers")
    token = authenticated(raw_token)
    assert not acl_allows(user=token.user, token=token, resources=INVOICES)

    group.permissions.add(Permission.objects.get(codename="view_invoice"))
    clerk.groups.add(group)
    token = authenticated(raw_token)
    assert acl_allows(user=token.user, token=token, resources=INVOICES)

    group.delete()
    token = authenticated(raw_token)
    assert not acl_allows(user=token.user, token=token, resources=INVOICES)


def test_a_change_another_process_made_is_seen_within_the_ttl(raw_token, monkeypatch):
    """A revocation by another worker (here: an UPDATE this process sends no signal for) waits out the TTL."""
    authenticated(raw_token)
    AccessToken.objects.update(revoked_at=timezone.now())

    later(monkeypatch, 9.9)
    assert authenticated(raw_token)  # the documented window
    later(monkeypatch, 10)
    with pytest.raises(TokenInvalid):
        authenticated(raw_token)


def test_zero_seconds_switches_the_cache_off(raw_token, settings, django_assert_num_queries):
    settings.API_TOKEN_CACHE_SECONDS = 0
    authenticated(raw_token)
    with django_assert_num_queries(1):
        authenticated(raw_token)
    assert len(accepted_tokens) == 0

    AccessToken.objects.update(revoked_at=timezone.now())
    with pytest.raises(TokenInvalid):
        authenticated(raw_token)


def test_refused_tokens_are_never_kept(raw_token, clerk):
    with pytest.raises(TokenInvalid):
        authenticated(raw_token + "x")
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(TokenExpired):
        authenticated(raw_token)

    assert len(accepted_tokens) == 0


def test_an_integration_tokens_scope_is_kept_with_it(clerk, settings):
    raw = integration_token_create(user=clerk, name="erp", acl_resources=INVOICES)
    authenticated(raw)

    token = authenticated(raw)

    assert token.kind == AccessToken.Kind.INTEGRATION and token.acl_resources == list(INVOICES)
    assert acl_allows(user=token.user, token=token, resources=INVOICES)


def test_the_cache_keeps_the_most_recently_used_tokens_up_to_its_bound(django_user_model):
    cache = AcceptedTokenCache(max_entries=2)
    user = django_user_model(pk=1)
    tokens = {name: AccessToken(user=user, token_hash=name) for name in ("a", "b", "c")}
    cache.put("a", tokens["a"], ttl=10, read_from=cache.mark())
    cache.put("b", tokens["b"], ttl=10, read_from=cache.mark())
    assert cache.get("a") is tokens["a"]  # "b" is now the least recently used

    cache.put("c", tokens["c"], ttl=10, read_from=cache.mark())

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (tokens["a"], None, tokens["c"])
