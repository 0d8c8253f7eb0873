"""``manage.py inventory_cleanup_reservations``: Magento's cron job by hand, saying what it deleted."""

from typing import Any

from django.core.management.base import BaseCommand

from inventory.services import reservations_cleanup


class Command(BaseCommand):
    help = "Delete reservation groups (one order's reservations on one stock's SKU) that add up to zero."

    def handle(self, *args: Any, **options: Any) -> None:
        settled = reservations_cleanup()
        for group in settled:
            self.stdout.write(
                f"stock {group.stock_id} sku {group.sku}: {group.reservations} reservations of "
                f"{group.object_type or '-'} {group.object_increment_id or group.object_id or '-'}"
            )
        total = sum(group.reservations for group in settled)
        self.stdout.write(self.style.SUCCESS(f"Deleted {total} reservations in {len(settled)} zero-sum groups."))
