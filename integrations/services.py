"""Writes and the authentication read for API tokens (admin and integration).

Raw tokens leave these functions once, as return values; the database only ever holds their
sha256, so a leaked database dump does not leak usable credentials.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from integrations.exceptions import (
    CredentialsMissing,
    InvalidCredentials,
    TokenExpired,
    TokenInvalid,
)
from integrations.models import AccessToken, token_hash_of

DEFAULT_ADMIN_TOKEN_LIFETIME_HOURS = 4  # Magento's oauth/access_token_lifetime/admin


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


def admin_token_create(*, username: str, password: str) -> str:
    """Magento's ``POST /V1/integration/admin/token``: check credentials, return a new raw token."""
    missing = [name for name, value in (("username", username), ("password", password)) if _is_blank(value)]
    if missing:
        raise CredentialsMissing(*missing)

    user = authenticate(request=None, username=username, password=password)
    # ModelBackend already refuses inactive users; checked again for other backends.
    if user is None or not user.is_active or not user.is_staff:
        raise InvalidCredentials()

    raw_token = _new_raw_token()
    AccessToken.objects.create(
        user=user,
        kind=AccessToken.Kind.ADMIN,
        token_hash=token_hash_of(raw_token),
        expires_at=_admin_token_expires_at(timezone.now()),
    )
    return raw_token


def integration_token_create(*, user: AbstractBaseUser, name: str) -> str:
    """A long-lived token for a named integration; it never expires, it is revoked."""
    raw_token = _new_raw_token()
    AccessToken.objects.create(
        user=user,
        kind=AccessToken.Kind.INTEGRATION,
        name=name,
        token_hash=token_hash_of(raw_token),
        expires_at=None,
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
