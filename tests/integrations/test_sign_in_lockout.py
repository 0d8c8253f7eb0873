"""One lockout for staff, whichever door they use: the admin login and ``POST /V1/integration/admin/token``
count failures together per username (Magento's 6 failures lock it for 1800 s), a locked username is refused
at both even with the right password, and a success at either resets the count. Beside it the admin login
has a rate limit per client address. (The token route alone: test_admin_token_lockout.py.)
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.exceptions import InvalidCredentials
from integrations.models import AccessToken, SignInFailureLog
from sales.admin.login import TOO_MANY_ATTEMPTS
from sales.api.throttling import WindowRateThrottle, quota_leases, spent_budgets
from tests.factories import StaffUserFactory, UserFactory
from tests.helpers import post_json

USERNAME, PASSWORD = "integration-admin", "s3cret-Passw0rd"  # the staff_user fixture's credentials
LOGIN_URL, TOKEN_URL = "/admin/login/", "/rest/V1/integration/admin/token"
SIGN_IN_REFUSED = InvalidCredentials.message  # Magento's text, the same for a wrong password and a lock
ADDRESS = "203.0.113.20"


@pytest.fixture(autouse=True)
def own_cache_and_clock(settings, monkeypatch):
    """The admin login's rate limit counts in a cache of this test's own, on a clock that never ends its window."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: 1_000_000.0))
    spent_budgets.clear()
    quota_leases.clear()
    yield
    spent_budgets.clear()
    quota_leases.clear()


def admin_login(client, password: str, username: str = USERNAME, **extra):
    return client.post(LOGIN_URL, {"username": username, "password": password, "next": "/admin/"}, **extra)


def is_signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def refusal_of(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return list(response.context["form"].non_field_errors())


def fail_admin_login(client, times: int) -> None:
    for _ in range(times):
        assert refusal_of(admin_login(client, "wrong-password")) == [SIGN_IN_REFUSED]


def request_token(client, password: str):
    return post_json(client, TOKEN_URL, {"username": USERNAME, "password": password})


def fail_token_requests(client, times: int) -> None:
    for _ in range(times):
        assert request_token(client, "wrong-password").status_code == 401


def is_token(response) -> bool:
    return response.status_code == 200 and isinstance(json.loads(response.content), str)


@pytest.mark.django_db
def test_ten_wrong_admin_passwords_lock_the_username_and_the_right_one_is_refused(client, staff_user):
    fail_admin_login(client, 10)

    response = admin_login(client, PASSWORD)

    assert refusal_of(response) == [SIGN_IN_REFUSED]  # the same text as a wrong password: the lock is not told
    assert client.get("/admin/").status_code == 302  # still signed out
    log = SignInFailureLog.objects.get()
    assert log.failures_count == 6  # attempts while locked are refused unchecked, so uncounted
    assert timedelta(seconds=1790) < log.lock_expires_at - timezone.now() <= timedelta(seconds=1800)


@pytest.mark.django_db
def test_five_wrong_admin_passwords_do_not_lock(client, staff_user):
    fail_admin_login(client, 5)

    assert is_signed_in(admin_login(client, PASSWORD))


@pytest.mark.django_db
def test_six_token_route_failures_lock_the_admin_login(client, api_client, staff_user):
    fail_token_requests(api_client, 6)

    assert refusal_of(admin_login(client, PASSWORD)) == [SIGN_IN_REFUSED]


@pytest.mark.django_db
def test_six_admin_login_failures_lock_the_token_route(client, api_client, staff_user):
    fail_admin_login(client, 6)

    response = request_token(api_client, PASSWORD)

    assert response.status_code == 401
    assert not AccessToken.objects.exists()


@pytest.mark.django_db
def test_failures_at_both_doors_add_up(client, api_client, staff_user):
    fail_admin_login(client, 3)
    fail_token_requests(api_client, 3)

    assert refusal_of(admin_login(client, PASSWORD)) == [SIGN_IN_REFUSED]
    assert request_token(api_client, PASSWORD).status_code == 401


@pytest.mark.django_db
def test_the_lock_ends_after_the_lock_period(client, api_client, staff_user, settings, monkeypatch):
    settings.SIGN_IN_LOCK_SECONDS = 600
    locked_at = timezone.now()
    fail_admin_login(client, 6)

    monkeypatch.setattr(timezone, "now", lambda: locked_at + timedelta(seconds=590))
    assert refusal_of(admin_login(client, PASSWORD)) == [SIGN_IN_REFUSED]
    assert request_token(api_client, PASSWORD).status_code == 401

    monkeypatch.setattr(timezone, "now", lambda: locked_at + timedelta(seconds=601))
    assert is_signed_in(admin_login(client, PASSWORD))
    assert not SignInFailureLog.objects.exists()


@pytest.mark.django_db
def test_an_admin_login_success_resets_the_count_for_both_doors(client, api_client, staff_user):
    fail_token_requests(api_client, 5)
    assert is_signed_in(admin_login(client, PASSWORD))
    assert not SignInFailureLog.objects.exists()

    fail_token_requests(api_client, 5)

    assert is_token(request_token(api_client, PASSWORD))


@pytest.mark.django_db
def test_a_token_route_success_resets_the_admin_logins_count(client, api_client, staff_user):
    fail_admin_login(client, 5)
    assert is_token(request_token(api_client, PASSWORD))

    fail_admin_login(client, 5)

    assert is_signed_in(admin_login(client, PASSWORD))


@pytest.mark.django_db
def test_staff_unlocking_a_username_lets_it_into_the_admin_again(client, admin_client, staff_user):
    fail_admin_login(client, 6)

    admin_client.post(
        "/admin/integrations/signinfailurelog/",
        {"action": "unlock_selected_usernames", "_selected_action": [SignInFailureLog.objects.get().pk]},
    )

    assert is_signed_in(admin_login(client, PASSWORD))


@pytest.mark.django_db
def test_accounts_that_may_not_use_the_admin_are_refused_with_the_same_text_and_counted(client, django_user_model):
    UserFactory(username="clerk", password=PASSWORD)
    StaffUserFactory(username="left", password=PASSWORD, inactive=True)

    for username in ("clerk", "left"):
        assert refusal_of(admin_login(client, PASSWORD, username=username)) == [SIGN_IN_REFUSED]

    assert sorted(SignInFailureLog.objects.values_list("username", flat=True)) == ["clerk", "left"]


# -- the admin login's rate limit per client address ------------------------------------------------------


@pytest.mark.django_db
def test_admin_login_attempts_past_the_addresss_rate_are_refused_unchecked(client, staff_user, settings):
    settings.ADMIN_LOGIN_THROTTLE_RATE = "3/min"
    fail_admin_login(client, 3)

    response = admin_login(client, PASSWORD, REMOTE_ADDR="127.0.0.1")

    assert refusal_of(response) == [TOO_MANY_ATTEMPTS]
    assert client.get("/admin/").status_code == 302
    assert SignInFailureLog.objects.get().failures_count == 3  # the refused attempt checked and counted nothing
    assert is_signed_in(admin_login(client, PASSWORD, REMOTE_ADDR=ADDRESS))  # another address has its own


@pytest.mark.django_db
def test_a_client_sent_x_forwarded_for_gives_no_fresh_admin_login_budget(client, staff_user, settings):
    settings.ADMIN_LOGIN_THROTTLE_RATE = "2/min"  # TRUSTED_PROXY_COUNT is left at its default: none

    answers = [
        admin_login(client, "wrong-password", REMOTE_ADDR=ADDRESS, HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")
        for number in range(3)
    ]

    assert [refusal_of(answer) for answer in answers] == [[SIGN_IN_REFUSED], [SIGN_IN_REFUSED], [TOO_MANY_ATTEMPTS]]
