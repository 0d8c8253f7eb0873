"""Create the demo admin of ``make run`` if it is missing, and say how to use it."""

from __future__ import annotations

import json
import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Create the local demo admin (DJANGO_SUPERUSER_USERNAME/PASSWORD/EMAIL, default admin/admin123)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="allow outside DEBUG (never in production)")

    def handle(self, *args: Any, force: bool, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("The demo admin has a well-known password: only with DEBUG on (or --force).")
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or "admin123"
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL") or "admin@example.com"
        user_model = get_user_model()
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username=username, email=email, password=password)
            self.stdout.write(f"Created the demo admin {username!r}.")
        base = "http://127.0.0.1:8000"
        credentials = json.dumps({"username": username, "password": password})
        self.stdout.write(
            f"\nBack office: {base}/admin/   login: {username} / {password}\n\n"
            "Get an admin token and read an order:\n"
            f"  TOKEN=$(curl -s -X POST {base}/rest/V1/integration/admin/token \\\n"
            f"      -H 'Content-Type: application/json' -d '{credentials}' | tr -d '\"')\n"
            f'  curl -s {base}/rest/default/V1/orders/1 -H "Authorization: Bearer $TOKEN"\n'
        )
