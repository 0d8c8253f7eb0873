"""One row per staff action in the admin or write through the API, kept whatever its outcome.

A leaf app: it names the object it is about by content type, id and the text it had then, so it needs no
sales code and an entry outlives its object.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    """What was done, in Magento's and Counterfoil's words (``<entity>_<verb>``, as the services are named)."""

    INVOICE_CREATE = "invoice_create", "Create invoice"
    INVOICE_CAPTURE = "invoice_capture", "Capture invoice"
    INVOICE_VOID = "invoice_void", "Void invoice"
    INVOICE_CANCEL = "invoice_cancel", "Cancel invoice"
    INVOICE_EMAIL_RESEND = "invoice_email_resend", "Send invoice e-mail"
    INVOICE_COMMENT_ADD = "invoice_comment_add", "Add invoice comment"
    ORDER_COMMENT_ADD = "order_comment_add", "Add order comment"
    ORDER_IMPORT = "order_import", "Import order"
    SOURCE_ITEMS_SAVE = "source_items_save", "Save source items"
    TOKEN_ISSUE = "token_issue", "Issue integration token"
    TOKEN_REVOKE = "token_revoke", "Revoke token"
    SIGN_IN_UNLOCK = "sign_in_unlock", "Unlock username"


class AuditChannel(models.TextChoices):
    """The door the action came through."""

    ADMIN = "admin", "Admin"
    API_V1 = "api_v1", "/V1 API"
    API2 = "api2", "/api2 API"


class AuditOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # tried and did not happen: a gateway decline, a lost race, a server error
    REFUSED = "refused", "Refused"  # turned away: bad input, a state or permission that does not allow it


class AuditTokenKind(models.TextChoices):
    ADMIN = "admin", "Admin token"
    INTEGRATION = "integration", "Integration token"


class AuditEntry(models.Model):
    """Who did what to which object, when, from where, and how it ended. Written only by ``audit_record``."""

    created_at = models.DateTimeField("when", default=timezone.now, db_index=True)
    # The user may be deleted later: the entry keeps the name they acted under.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField("who", max_length=150, blank=True)
    channel = models.CharField(max_length=16, choices=AuditChannel.choices)
    token_kind = models.CharField(max_length=16, choices=AuditTokenKind.choices, blank=True)
    token_name = models.CharField(max_length=255, blank=True, help_text="An integration token's name.")
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=16, choices=AuditOutcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="API writes: the answer's status.")
    error_message = models.TextField(blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit log entries"
        ordering = ("-created_at", "-id")
        default_permissions = ("view",)  # nobody adds, changes or deletes the trail
        indexes = [
            # An object's History: its entries, newest first.
            models.Index(fields=["content_type", "object_id", "-created_at"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr} by {self.actor_username or 'nobody'}"

    @property
    def how(self) -> str:
        """The door, and for the API the token: "/V1 API, integration token ERP-XYZ"."""
        if not self.token_kind:
            return self.get_channel_display()
        name = f" {self.token_name}" if self.token_name else ""
        return f"{self.get_channel_display()}, {self.get_token_kind_display().lower()}{name}"
