"""``POST /V1/integration/admin/token`` locks a username after Magento's 6 failures, for 1800 s.

While locked even the right password gets the wrong-credentials 401 (the answer does not tell a
guesser that the username exists or is locked); a success resets the count; the count lives in the
database, one row per case-folded username, updated under a row lock so parallel failures all count.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from integrations.exceptions import InvalidCredentials, SignInLocked
from integrations.models import AccessToken, SignInFailureLog
from integrations.services import admin_token_create
from tests.factories import StaffUserFactory
from tests.helpers import post_json

USERNAME, PASSWORD = "integration-admin", "s3cret-Passw0rd"  # the staff_user fixture's credentials
TOKEN_URL = "/rest/V1/integration/admin/token"
SIGN_IN_FAILED = {
    "message": "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
}


def request_token(client, username: str, password: str):
    return post_json(client, TOKEN_URL, {"username": username, "password": password})


def fail(client, times: int, username: str = USERNAME) -> None:
    for _ in range(times):
        response = request_token(client, username, "wrong-password")
        assert response.status_code == 401, response.content
        assert json.loads(response.content) == SIGN_IN_FAILED


def is_token(response) -> bool:
    return response.status_code == 200 and isinstance(json.loads(response.content), str)


@pytest.mark.django_db
def test_six_failures_lock_the_username_and_even_the_right_password_is_refused(api_client, staff_user):
    fail(api_client, 6)

    response = request_token(api_client, USERNAME, PASSWORD)

    assert response.status_code == 401
    assert json.loads(response.content) == SIGN_IN_FAILED  # the same text as wrong credentials
    assert not AccessToken.objects.exists()
    log = SignInFailureLog.objects.get()
    assert log.failures_count == 6
    assert timedelta(seconds=1790) < log.lock_expires_at - timezone.now() <= timedelta(seconds=1800)


@pytest.mark.django_db
def test_five_failures_do_not_lock(api_client, staff_user):
    fail(api_client, 5)

    assert is_token(request_token(api_client, USERNAME, PASSWORD))


@pytest.mark.django_db
def test_the_username_signs_in_again_once_the_lock_has_expired(api_client, staff_user):
    fail(api_client, 6)
    assert request_token(api_client, USERNAME, PASSWORD).status_code == 401

    SignInFailureLog.objects.update(lock_expires_at=timezone.now() - timedelta(seconds=1))

    assert is_token(request_token(api_client, USERNAME, PASSWORD))
    assert not SignInFailureLog.objects.exists()


@pytest.mark.django_db
def test_a_failure_after_an_expired_lock_starts_a_fresh_count(staff_user):
    for _ in range(6):
        with pytest.raises(InvalidCredentials):
            admin_token_create(username=USERNAME, password="wrong")
    SignInFailureLog.objects.update(lock_expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(InvalidCredentials):
        admin_token_create(username=USERNAME, password="wrong")

    log = SignInFailureLog.objects.get()
    assert (log.failures_count, log.lock_expires_at) == (1, None)
    assert admin_token_create(username=USERNAME, password=PASSWORD)


@pytest.mark.django_db
def test_a_success_resets_the_count(api_client, staff_user):
    fail(api_client, 5)
    assert is_token(request_token(api_client, USERNAME, PASSWORD))
    assert not SignInFailureLog.objects.exists()

    fail(api_client, 5)

    assert is_token(request_token(api_client, USERNAME, PASSWORD))


@pytest.mark.django_db
def test_a_locked_username_does_not_lock_other_usernames(api_client, staff_user, django_user_model):
    StaffUserFactory(username="second-admin", password=PASSWORD)
    fail(api_client, 6)

    assert is_token(request_token(api_client, "second-admin", PASSWORD))
    assert request_token(api_client, USERNAME, PASSWORD).status_code == 401


@pytest.mark.django_db
def test_usernames_are_counted_case_insensitively(api_client, staff_user):
    for username in ("Integration-Admin", "INTEGRATION-ADMIN", "integration-ADMIN"):
        fail(api_client, 2, username=username)

    assert request_token(api_client, USERNAME, PASSWORD).status_code == 401
    assert SignInFailureLog.objects.get().username == "integration-admin"


@pytest.mark.django_db
def test_unknown_usernames_are_counted_and_locked_too(staff_user):
    for _ in range(6):
        with pytest.raises(InvalidCredentials):
            admin_token_create(username="nobody", password="guess")

    with pytest.raises(SignInLocked):
        admin_token_create(username="nobody", password="guess")


@pytest.mark.django_db
def test_while_locked_the_password_is_not_checked_nor_counted(staff_user, monkeypatch):
    for _ in range(6):
        with pytest.raises(InvalidCredentials):
            admin_token_create(username=USERNAME, password="wrong")
    checked = []
    monkeypatch.setattr("integrations.services.authenticate", lambda **kwargs: checked.append(kwargs))

    with pytest.raises(SignInLocked):
        admin_token_create(username=USERNAME, password=PASSWORD)

    assert checked == []
    assert SignInFailureLog.objects.get().failures_count == 6


@pytest.mark.django_db
def test_blank_fields_are_not_counted_as_failures(api_client, staff_user):
    for _ in range(7):
        assert request_token(api_client, USERNAME, "").status_code == 400

    assert not SignInFailureLog.objects.exists()
    assert is_token(request_token(api_client, USERNAME, PASSWORD))


@pytest.mark.django_db
def test_the_limits_come_from_settings(api_client, staff_user, settings):
    settings.SIGN_IN_MAX_FAILURES = 2
    settings.SIGN_IN_LOCK_SECONDS = 60
    fail(api_client, 2)

    assert request_token(api_client, USERNAME, PASSWORD).status_code == 401
    remaining = SignInFailureLog.objects.get().lock_expires_at - timezone.now()
    assert timedelta(seconds=50) < remaining <= timedelta(seconds=60)


@pytest.mark.django_db
def test_the_successful_sign_in_of_a_user_without_failures_writes_no_log(staff_user, django_assert_num_queries):
    # lock read 1 + user read 1 + token insert 1 (no DELETE when there was no failure)
    with django_assert_num_queries(3):
        admin_token_create(username=USERNAME, password=PASSWORD)


# -- parallel failures (PostgreSQL) -------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_failures_are_all_counted(django_user_model):
    StaffUserFactory(username=USERNAME, password=PASSWORD)
    attempts = 5  # below the limit: every one of them reaches the password check and must be counted
    barrier = threading.Barrier(attempts)
    outcomes: list[object] = []

    def attempt() -> None:
        try:
            barrier.wait(timeout=30)
            admin_token_create(username=USERNAME, password="wrong")
        except BaseException as error:  # noqa: BLE001 - collected and checked below
            outcomes.append(type(error))
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == [InvalidCredentials] * attempts
    log = SignInFailureLog.objects.get()
    assert (log.failures_count, log.lock_expires_at) == (attempts, None)
    with pytest.raises(InvalidCredentials):
        admin_token_create(username=USERNAME, password="wrong")  # the sixth
    assert SignInFailureLog.objects.get().failures_count == 6
    with pytest.raises(SignInLocked):
        admin_token_create(username=USERNAME, password=PASSWORD)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_past_the_limit_counts_every_failure_and_locks(django_user_model):
    StaffUserFactory(username=USERNAME, password=PASSWORD)
    attempts = 10
    barrier = threading.Barrier(attempts)
    outcomes: list[object] = []

    def attempt() -> None:
        try:
            barrier.wait(timeout=30)
            admin_token_create(username=USERNAME, password="wrong")
        except BaseException as error:  # noqa: BLE001 - collected and checked below
            outcomes.append(type(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == attempts and set(outcomes) <= {InvalidCredentials, SignInLocked}
    log = SignInFailureLog.objects.get()
    # attempts that saw the lock were refused before the password check and not counted
    assert log.failures_count == outcomes.count(InvalidCredentials) >= 6
    assert log.is_locked()
    with pytest.raises(SignInLocked):
        admin_token_create(username=USERNAME, password=PASSWORD)
