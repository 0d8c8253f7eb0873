from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime
from typing import TypeGuard

from django.conf import settings
from django.db import models
from django.utils import timezone


def token_hash_of(raw_token: str) -> str:
    """The sha256 hex digest stored in place of a raw token."""
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


class AccessToken(models.Model):
    """A bearer token for the REST doors; only the sha256 of the raw token is stored."""

    class Kind(models.TextChoices):
        ADMIN = "admin", "Admin"
        INTEGRATION = "integration", "Integration"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=255, blank=True, help_text="Label of an integration token.")
    token_hash = models.CharField(max_length=64, unique=True, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    acl_resources = models.JSONField(
        default=list,
        blank=True,
        help_text="Integration tokens: the ACL resources (e.g. Magento_Sales::invoice) it may use. "
        "Admin tokens act with their user's permissions and ignore this.",
    )

    class Meta:
        verbose_name = "access token"
        verbose_name_plural = "access tokens"
        indexes = [models.Index(fields=["user", "kind"], name="integ_token_user_kind_idx")]

    def __str__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"{self.get_kind_display()} token{label} for user #{self.user_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: datetime | None = None) -> bool:
        if self.expires_at is None:
            return False
        return self.expires_at <= (now or timezone.now())


def is_integration(token: object) -> TypeGuard[AccessToken]:
    """Whether a request's token (``request.auth``: an AccessToken, or None) is an integration's."""
    return getattr(token, "kind", None) == AccessToken.Kind.INTEGRATION


USERNAME_KEY_MAX_LENGTH = 255  # SignInFailureLog.username: a longer key cannot be counted


def username_throttle_key(username: str) -> str:
    """The username as the sign-in lockout counts it: Unicode-normalised like Django's
    ``normalize_username`` (NFKC), then case-folded, so ``Admin`` and ``admin`` share one count."""
    return unicodedata.normalize("NFKC", username).casefold()


class SignInFailureLog(models.Model):
    """Failed staff sign-ins per username, through either door: the admin login and
    ``POST /V1/integration/admin/token`` count together (Magento's oauth_token_request_log and admin lock).

    A row exists only after a failure; a successful sign-in deletes it. ``lock_expires_at`` is set when
    the count reaches ``SIGN_IN_MAX_FAILURES``; until then every sign-in of that username is refused.
    """

    username = models.CharField(
        max_length=USERNAME_KEY_MAX_LENGTH, unique=True, help_text="Normalised (NFKC) and case-folded."
    )
    failures_count = models.PositiveIntegerField(default=0)
    lock_expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "staff sign-in failure"
        verbose_name_plural = "staff sign-in failures"

    def __str__(self) -> str:
        return f"{self.username}: {self.failures_count} failure(s)"

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.lock_expires_at is not None and self.lock_expires_at > (now or timezone.now())


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` of one caller: the request it named and, once done, the answer to replay.

    Unique per (principal, key): the first request inserts the row in its own committed transaction
    before it runs, so a concurrent twin finds it (409 while in progress, the stored answer after).
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    principal = models.CharField(max_length=64, help_text="Who sent it: user:<id> (admin tokens) or integration:<id>.")
    key = models.CharField(max_length=255)
    request_method = models.CharField(max_length=10)
    request_path = models.CharField(max_length=2048)
    request_fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and canonical body.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    response_content_type = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(default=timezone.now, help_text="When the running request took the key.")
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "idempotency key"
        verbose_name_plural = "idempotency keys"
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="integ_idempotency_principal_key_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.principal})"
