"""The e-mail outbox and its attempts."""

from django.db import models


class EmailOutbox(models.Model):
    """One logical e-mail. ``key`` is unique, so asking twice for the same send makes one mail."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, db_index=True)  # invoice_new, invoice_update
    invoice = models.ForeignKey("sales.Invoice", on_delete=models.CASCADE, null=True, blank=True, related_name="emails")
    store_id = models.PositiveIntegerField(null=True, blank=True)
    recipients = models.JSONField(default=list)
    bcc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, help_text="Kept across retries: receivers can tell a repeat.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "e-mail"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notif_outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class EmailAttempt(models.Model):
    """One try at the SMTP server: when, and what it answered."""

    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        RETRY = "retry", "Failed, will retry"
        FAILED = "failed", "Failed for good"

    email = models.ForeignKey(EmailOutbox, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["email", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.outcome}"
