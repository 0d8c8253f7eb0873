"""Seed the benchmark database ``counterfoil_bench`` with orders and many invoices.

Run from the repository root (no Django set-up needed; this script does it):

    DJANGO_SETTINGS_MODULE=config.settings.local \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterfoil_bench \\
    .venv/bin/python -m bench.seed_invoices --invoices 100000 [--reset]

Both variables default to the values above. A thin wrapper over ``manage.py seed_demo`` (the
bulk fill itself is ``sales.demo.bulk``) that adds the bench database's safety and set-up:

1. refuse any database whose name does not contain ``bench``; create it if it is missing
   (``--reset`` drops it first) and migrate it;
2. ``seed_demo``: ``--orders`` orders through ``order_import``, invoices up to ``--invoices``
   by ``INSERT ... SELECT ... generate_series`` batches, their grid rows through
   ``invoice_grid_refresh``, ``VACUUM ANALYZE`` (each phase with a progress line);
3. ``CHECKPOINT`` so the bulk load is on disk before a benchmark starts, and a summary.

The bulk invoices are read-only fixtures for the list/lookup benchmarks: the orders'
``*_invoiced`` bookkeeping is not updated for them, so do not benchmark invoicing on top.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.benchdb import bench_database_url

REPO = Path(__file__).resolve().parent.parent


def ensure_database(url: str, *, reset: bool) -> None:
    """Create (or with ``reset`` drop and create) the bench database, from the maintenance db."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if reset:
            print(f"dropping database {name}")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def checkpoint_and_summary() -> None:
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        try:
            # Flush the bulk load now, so a benchmark started right after does not share the
            # machine with the checkpointer writing hundreds of MB.
            cursor.execute("CHECKPOINT")
        except Exception as error:  # noqa: BLE001 - needs superuser or pg_checkpoint; only a nicety
            print(f"(no CHECKPOINT: {error})")
        cursor.execute(
            "SELECT count(*), min(created_at), max(created_at), count(*) FILTER (WHERE state = 2) FROM sales_invoice"
        )
        count, first, last, paid = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM sales_invoiceitem")
        (rows,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM sales_invoice_grid")
        (grid,) = cursor.fetchone()
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('sales_invoice')),"
            " pg_size_pretty(pg_total_relation_size('sales_invoice_grid'))"
        )
        invoice_size, grid_size = cursor.fetchone()
    print(f"checkpoint: {time.monotonic() - started:.1f} s")
    if count:
        print(
            f"invoices: {count:,} ({paid:,} paid), {rows:,} invoice rows, {grid:,} grid rows,"
            f" created {first:%Y-%m-%d} .. {last:%Y-%m-%d}"
        )
    print(f"with indexes: sales_invoice {invoice_size}, sales_invoice_grid {grid_size}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000, help="invoices wanted in total (default 100000)")
    parser.add_argument("--orders", type=int, default=300, help="orders imported through order_import (default 300)")
    parser.add_argument(
        "--batch", type=int, default=20_000, help="invoices per INSERT and grid refresh (default 20000)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the bench database first")
    args = parser.parse_args(argv)
    if args.invoices < 0 or args.orders < 1 or args.batch < 1:
        parser.error("--invoices >= 0, --orders >= 1 and --batch >= 1")

    url = bench_database_url(script="seed_invoices")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")  # order_import queues nothing; never reach a broker
    started = time.monotonic()
    ensure_database(url, reset=args.reset)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False  # no query log kept in memory while importing
    call_command("migrate", verbosity=0, interactive=False)
    print(f"migrated ({time.monotonic() - started:.1f} s)")
    # --force: DEBUG is off on purpose here, and the bench-only database name is this script's safety.
    call_command("seed_demo", invoices=args.invoices, orders=args.orders, batch=args.batch, seed=args.seed, force=True)
    checkpoint_and_summary()
    print(f"done in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
