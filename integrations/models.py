from __future__ import annotations

import hashlib
from datetime import datetime

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
