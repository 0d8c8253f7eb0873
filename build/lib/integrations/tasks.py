"""Periodic housekeeping of the integrations app (scheduled by Celery beat)."""

from __future__ import annotations

import logging

from celery import shared_task

from integrations import idempotency

logger = logging.getLogger("counterfoil.integrations")


@shared_task(name="integrations.tasks.idempotency_keys_purge")
def idempotency_keys_purge() -> int:
    """Delete Idempotency-Key records past their expiry (``IDEMPOTENCY_KEY_TTL_HOURS``); the number deleted."""
    purged = idempotency.idempotency_keys_purge()
    if purged:
        logger.info("purged %s expired idempotency key(s)", purged)
    return purged
