"""Queue an e-mail: render it, store it in the caller's transaction, send it after commit."""

from __future__ import annotations

import logging
import uuid
from email.utils import make_msgid

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import EmailOutbox

logger = logging.getLogger("counterfoil.notifications")


def email_queue(
    *,
    key: str | None,
    kind: str,
    template: str,
    context: dict,
    recipients: list[str],
    subject: str,
    invoice_id: int | None = None,
    store_id: int | None = None,
) -> EmailOutbox:
    """The outbox row for one logical e-mail; an existing ``key`` returns the row already queued.

    Runs in the caller's transaction: the row exists exactly when the business change does. The
    Celery task is enqueued on commit; if the broker is down then, the sweeper sends it later.
    """
    key = key or f"{kind}:{uuid.uuid4().hex}"
    existing = EmailOutbox.objects.filter(key=key).first()
    if existing is not None:
        return existing
    copy_to = [address for address in settings.INVOICE_EMAIL_COPY_TO if address]
    email = EmailOutbox.objects.create(
        key=key,
        kind=kind,
        invoice_id=invoice_id,
        store_id=store_id,
        recipients=recipients,
        bcc=copy_to,
        subject=subject,
        body_text=render_to_string(f"notifications/email/{template}.txt", context),
        body_html=render_to_string(f"notifications/email/{template}.html", context),
        message_id=make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN),
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: enqueue(email.pk))
    return email


def enqueue(email_id: int) -> None:
    """Hand the e-mail to the worker; a broker that is down is not an error (the sweeper retries)."""
    from notifications.tasks import email_send

    try:
        email_send.delay(email_id)
    except Exception:  # noqa: BLE001 - any broker failure: the row stays pending for the sweeper
        logger.warning("could not enqueue e-mail %s; the sweeper will send it", email_id, exc_info=True)
