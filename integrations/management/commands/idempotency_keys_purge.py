"""``manage.py idempotency_keys_purge``: what the periodic task does, on demand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from integrations.idempotency import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete Idempotency-Key records past their expiry (IDEMPOTENCY_KEY_TTL_HOURS, default 24)."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = idempotency_keys_purge()
        self.stdout.write(f"Purged {purged} expired idempotency key(s).")
