"""Errors raised by the integrations services.

``integrations`` is a leaf app and must not import ``sales``, so it has its own small hierarchy.
Each error carries a stable ``code``; the doors map codes to their own envelopes and texts
(Magento /V1 or /api2). The codes of ``TokenInvalid`` and ``TokenExpired`` are also the
``AuthenticationFailed`` codes raised by ``integrations.authentication``.
"""

from __future__ import annotations


class IntegrationError(Exception):
    """Base of every error an integrations service raises on purpose."""

    code = "integration_error"


class CredentialsMissing(IntegrationError):
    """A blank or missing username/password (Magento's CredentialsValidator).

    Magento checks both fields and reports every missing one: a single field renders as
    ``"%fieldName" is required. Enter and try again.``, both as an aggregate InputException.
    """

    code = "required"

    def __init__(self, *field_names: str):
        if not field_names:
            raise ValueError("CredentialsMissing needs at least one field name")
        self.field_names: tuple[str, ...] = field_names
        self.field_name: str = field_names[0]
        super().__init__(f"Required: {', '.join(field_names)}")


class InvalidCredentials(IntegrationError):
    """Wrong username/password, or an account that may not have an admin token (401)."""

    code = "invalid_credentials"


class SignInLocked(InvalidCredentials):
    """Too many failed sign-ins for this username: refused, right password or not, until the lock ends.

    A subclass of InvalidCredentials so every door answers exactly as for wrong credentials: the
    answer must not tell an attacker that the username exists or that it is locked.
    """

    code = "sign_in_locked"


class TokenInvalid(IntegrationError):
    """Unknown or revoked token, or a token whose user is inactive (401)."""

    code = "token_invalid"


class TokenExpired(IntegrationError):
    """A token past its ``expires_at`` (401, Magento's ``Consumer key has expired``)."""

    code = "token_expired"


class IdempotencyKeyError(IntegrationError):
    """A refused ``Idempotency-Key``; each door renders the code in its own envelope and status."""

    code = "idempotency_key"


class IdempotencyKeyInvalid(IdempotencyKeyError):
    """An empty key, or one longer than 255 characters (400)."""

    code = "idempotency_key_invalid"


class IdempotencyKeyReused(IdempotencyKeyError):
    """The key already named a different request of this caller (422, as the IETF draft says)."""

    code = "idempotency_key_reused"


class IdempotencyKeyInProgress(IdempotencyKeyError):
    """The first request with this key is still running (409, with ``Retry-After``)."""

    code = "idempotency_key_in_progress"
