"""Fill the configured PostgreSQL database with demo data at scale: ``--orders`` real orders, then
``--invoices`` invoices in all, with their invoice rows and grid rows (``sales.demo.bulk``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterfoil_demo \\
    .venv/bin/python manage.py seed_demo --invoices 1000000

It writes into whatever ``DATABASE_URL`` names, so it says which database first, and refuses to
run with ``DEBUG`` off (a production configuration) unless ``--force`` is given. Running it again
adds only what is missing; with the same targets it writes nothing. PostgreSQL only: on SQLite,
``manage.py load_demo`` makes the small demo through the services.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from sales.demo.bulk import Console, demo_fill


class Command(BaseCommand):
    help = (
        "Bulk-fill PostgreSQL with demo orders, invoices, invoice rows and grid rows up to the given totals "
        "(re-runnable; refuses DEBUG=False without --force)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--invoices",
            type=int,
            default=100_000,
            help="invoices wanted in total; only the missing ones are added (default 100000)",
        )
        parser.add_argument(
            "--orders",
            type=int,
            default=300,
            help="orders imported through order_import first, the invoices' orders (default 300)",
        )
        parser.add_argument(
            "--batch", type=int, default=20_000, help="invoices per INSERT and per grid refresh (default 20000)"
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed, for repeatable data (default 2026)")
        parser.add_argument(
            "--force", action="store_true", help="run even though DEBUG is False (a production-like configuration)"
        )

    def handle(
        self, *args: Any, invoices: int, orders: int, batch: int, seed: int, force: bool, **options: Any
    ) -> None:
        database = connection.settings_dict
        server = ":".join(str(part) for part in (database.get("HOST"), database.get("PORT")) if part)
        where = f", {server}" if server else ""
        self.stdout.write(f"Database: {database['NAME']} ({connection.vendor}{where})")
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_demo needs PostgreSQL (bulk INSERT ... SELECT, native sequences, VACUUM): "
                "set DATABASE_URL=postgres://..., or use `manage.py load_demo` for a small demo on SQLite."
            )
        if not settings.DEBUG and not force:
            raise CommandError(
                f"DEBUG is False: this looks like a production configuration. seed_demo writes demo data into "
                f"{database['NAME']!r}; pass --force if that is really what you want."
            )
        if invoices < 0 or orders < 1 or batch < 1:
            raise CommandError("--invoices must be >= 0, --orders and --batch >= 1")
        console = Console(partial(self.stdout.write, ending=""), self.stdout.flush, self.stdout.isatty())
        started = time.monotonic()
        try:
            phases = demo_fill(invoices=invoices, orders=orders, batch=batch, seed=seed, console=console)
        except ValueError as error:
            raise CommandError(str(error)) from error
        total = time.monotonic() - started
        if not any(phase.rows for phase in phases):
            self.stdout.write(self.style.SUCCESS(f"Nothing to do: the targets are met ({total:.1f} s)."))
            return
        self.stdout.write("; ".join(str(phase) for phase in phases if phase.rows))
        self.stdout.write(self.style.SUCCESS(f"Done in {total:.1f} s."))
