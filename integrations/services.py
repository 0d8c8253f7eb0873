"""Writes and the authentication read for API tokens (admin and integration).

Raw tokens leave these functions once, as return values; the database only ever holds their
sha256, so a leaked database dump does not leak usable credentials.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from integrations.exceptions import (
    CredentialsMissing,
    InvalidCredentials,
    SignInLocked,
    TokenExpired,
    TokenInvalid,
)
from integrations.models import AccessToken, AdminTokenRequestLog, token_hash_of, username_throttle_key

DEFAULT_ADMIN_TOKEN_LIFETIME_HOURS = 4  # Magento's oauth/access_token_lifetime/admin
DEFAULT_ADMIN_TOKEN_MAX_FAILURES = 6  # Magento's oauth/authentication_lock/max_failures_count
DEFAULT_ADMIN_TOKEN_LOCK_SECONDS = 1800  # Magento's oauth/authentication_lock/timeout


def _new_raw_token() -> str:
    return secrets.token_urlsafe(32)


def _admin_token_expires_at(now: datetime) -> datetime | None:
    """``now`` + ADMIN_TOKEN_LIFETIME_HOURS; empty or <= 0 disables expiry, as in Magento."""
    hours = getattr(settings, "ADMIN_TOKEN_LIFETIME_HOURS", DEFAULT_ADMIN_TOKEN_LIFETIME_HOURS)
    if hours is None or hours <= 0:
        return None
    return now + timedelta(hours=hours)


def _is_blank(value: object) -> bool:
    # Magento: !is_string($value) || strlen($value) == 0 (no trimming).
    return not isinstance(value, str) or value == ""


_NO_FAILURES = object()


def _sign_in_lock_of(key: str):
    """The username's ``lock_expires_at`` (None: failures but no lock), or _NO_FAILURES without a row."""
    row = AdminTokenRequestLog.objects.filter(username=key).values_list("lock_expires_at", flat=True)
    return next(iter(row), _NO_FAILURES)


def admin_token_failure_record(*, username: str) -> AdminTokenRequestLog:
    """Count one failed sign-in of ``username``; the ``ADMIN_TOKEN_MAX_FAILURES``-th locks it.

    The row is created or locked (SELECT ... FOR UPDATE) and updated in one transaction, so parallel
    failures each count: none reads a stale count and overwrites another's increment.
    """
    max_failures = getattr(settings, "ADMIN_TOKEN_MAX_FAILURES", DEFAULT_ADMIN_TOKEN_MAX_FAILURES)
    lock_seconds = getattr(settings, "ADMIN_TOKEN_LOCK_SECONDS", DEFAULT_ADMIN_TOKEN_LOCK_SECONDS)
    with transaction.atomic():
        log, _ = AdminTokenRequestLog.objects.select_for_update().get_or_create(
            username=username_throttle_key(username)
        )
        now = timezone.now()
        if log.lock_expires_at is not None and log.lock_expires_at <= now:
            # The lock ran out: the username starts a fresh count, as in Magento.
            log.failures_count, log.lock_expires_at = 0, None
        log.failures_count += 1
        if max_failures and max_failures > 0 and log.failures_count >= max_failures and log.lock_expires_at is None:
            log.lock_expires_at = now + timedelta(seconds=lock_seconds)
        log.save(update_fields=["failures_count", "lock_expires_at", "updated_at"])
    return log


def admin_token_create(*, username: str, password: str) -> str:
    """Magento's ``POST /V1/integration/admin/token``: check credentials, return a new raw token.

    ``ADMIN_TOKEN_MAX_FAILURES`` consecutive failures for a username lock it for
    ``ADMIN_TOKEN_LOCK_SECONDS`` (Magento's 6 and 1800 s): while locked the password is not even
    checked (SignInLocked, answered like wrong credentials); a success resets the count.
    """
    missing = [name for name, value in (("username", username), ("password", password)) if _is_blank(value)]
    if missing:
        raise CredentialsMissing(*missing)

    key = username_throttle_key(username)
    lock_expires_at = _sign_in_lock_of(key)
    if lock_expires_at not in (None, _NO_FAILURES) and lock_expires_at > timezone.now():
        raise SignInLocked()
    user = authenticate(request=None, username=username, password=password)
    # ModelBackend already refuses inactive users; checked again for other backends.
    if user is None or not user.is_active or not user.is_staff:
        admin_token_failure_record(username=username)
        raise InvalidCredentials()
    if lock_expires_at is not _NO_FAILURES:
        AdminTokenRequestLog.objects.filter(username=key).delete()  # a success resets the count

    raw_token = _new_raw_token()
    AccessToken.objects.create(
        user=user,
        kind=AccessToken.Kind.ADMIN,
        token_hash=token_hash_of(raw_token),
        expires_at=_admin_token_expires_at(timezone.now()),
    )
    return raw_token


def integration_token_create(*, user: AbstractBaseUser, name: str, acl_resources: Iterable[str] = ()) -> str:
    """A long-lived token for a named integration; it never expires, it is revoked.

    ``acl_resources`` is its scope: the token opens a route only if the route's resources are all in
    it and its user has their permissions. An empty scope opens nothing.
    """
    raw_token = _new_raw_token()
    AccessToken.objects.create(
        user=user,
        kind=AccessToken.Kind.INTEGRATION,
        name=name,
        token_hash=token_hash_of(raw_token),
        expires_at=None,
        acl_resources=sorted(set(acl_resources)),
    )
    return raw_token


def access_token_revoke(*, token: AccessToken) -> None:
    """Revoke a token; revoking twice keeps the first revocation time."""
    now = timezone.now()
    # Conditional update: two concurrent revocations cannot overwrite each other's timestamp.
    revoked = AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
    else:
        token.refresh_from_db(fields=["revoked_at"])


def access_token_authenticate(*, raw_token: str) -> AccessToken:
    """The token (with its user) that ``raw_token`` names, or TokenInvalid/TokenExpired.

    One indexed SELECT and no write: authentication runs on every request.
    """
    if not raw_token:
        raise TokenInvalid()
    try:
        token = AccessToken.objects.select_related("user").get(token_hash=token_hash_of(raw_token))
    except AccessToken.DoesNotExist:
        raise TokenInvalid() from None
    # A disabled account's token is invalid whatever its expiry, so check that first.
    if token.is_revoked or not token.user.is_active:
        raise TokenInvalid()
    if token.is_expired(timezone.now()):
        raise TokenExpired()
    return token
