"""Celery beat's daily reservation cleanup (Magento's ``inventory_cleanup_reservations`` cron, 00:00)."""

from __future__ import annotations

from celery import shared_task

from inventory.services import reservations_cleanup as cleanup


@shared_task(ignore_result=True)
def reservations_cleanup() -> int:
    """Delete the reservation groups that add up to zero; returns how many reservations went."""
    return sum(group.reservations for group in cleanup())
