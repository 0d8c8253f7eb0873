"""Seed the benchmark database ``counterfoil_bench`` with orders and many invoices.

Run from the repository root (no management command; Django is set up here):

    DJANGO_SETTINGS_MODULE=config.settings.local \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterfoil_bench \\
    .venv/bin/python bench/seed_invoices.py --invoices 100000 [--reset]

Both variables default to the values above. Steps:

1. create the database if it is missing (``--reset`` drops it first) and migrate it;
2. import ``--orders`` real orders through ``sales.services.order_import`` from
   ``sales.demo.generator.demo_order_entity(random.Random(seed))`` (skipped when enough exist);
3. fill invoices up to ``--invoices`` with raw ``INSERT ... SELECT ... generate_series`` in
   batches, each with 1-3 invoice rows pointing at the imported orders' items, numbered from
   the store's own invoice sequence (so increment ids stay unique and later invoices follow);
4. ``VACUUM ANALYZE`` the tables, as autovacuum would have done on a live database, and
   ``CHECKPOINT`` so the bulk load is on disk before a benchmark starts.

The bulk invoices are read-only fixtures for the list/lookup benchmarks: the orders'
``*_invoiced`` bookkeeping is not updated for them, so do not benchmark invoicing on top.
Refuses any database whose name does not contain ``bench``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/counterfoil_bench"
PROTECTED_DATABASES = {"counterfoil", "test_counterfoil", "postgres", "template0", "template1"}

# Invoices are spread over this period in id order (after the generator's 2024 orders).
PERIOD_START = "2025-01-01 00:00:00+00"
PERIOD_SECONDS = 540 * 24 * 3600  # to late June 2026

INSERT_BATCH = """
WITH o AS (
    SELECT id, billing_address_id, shipping_address_id, customer_id, base_currency_code,
           global_currency_code, order_currency_code, store_currency_code,
           COALESCE(NULLIF(base_to_order_rate, 0), 1) AS rate,
           row_number() OVER (ORDER BY id) - 1 AS rn
    FROM sales_order WHERE store_id = %(store_id)s
),
oi AS (
    SELECT id, order_id, product_id, sku, name,
           row_number() OVER (PARTITION BY order_id ORDER BY id) AS rn,
           count(*) OVER (PARTITION BY order_id) AS cnt
    FROM sales_orderitem WHERE parent_item_id IS NULL
),
g AS (
    SELECT n, random() AS r_order, random() AS r_total, random() AS r_tax, random() AS r_ship,
           random() AS r_disc, random() AS r_state, random() AS r_upd, random() AS r_rows,
           random() AS r_time, random() AS r_mail
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
),
money AS (
    SELECT g.*, o.*,
           round((4.99 + power(g.r_total, 2.5) * 2495)::numeric, 2) AS grand,
           (ARRAY[0, 0, 0, 0.05, 0.0725, 0.0825, 0.10, 0.19, 0.20, 0.21])[1 + floor(g.r_tax * 10)::int] AS tax_rate,
           (ARRAY[0, 0, 5.00, 7.99, 9.99, 12.34, 4.99])[1 + floor(g.r_ship * 7)::int]::numeric AS ship,
           CASE WHEN g.r_disc < 0.2 THEN 0.10 ELSE 0 END AS disc_rate,
           CASE WHEN g.r_state < 0.72 THEN 2 WHEN g.r_state < 0.92 THEN 1 ELSE 3 END AS st,
           1 + floor(g.r_rows * 3)::int AS n_rows,
           %(start)s::timestamptz
               + make_interval(secs => ((g.n - 1 + g.r_time) / %(total)s::float8) * %(span)s) AS created
    FROM g JOIN o ON o.rn = floor(g.r_order * (SELECT count(*) FROM o))::bigint
),
parts AS (
    SELECT m.*,
           round(((m.grand - LEAST(m.ship, m.grand)) * m.tax_rate / (1 + m.tax_rate))::numeric, 2) AS tax,
           -round((m.grand * m.disc_rate)::numeric, 2) AS discount,
           LEAST(m.ship, m.grand) AS shipping
    FROM money m
),
ins AS (
    INSERT INTO sales_invoice (
        order_id, store_id, increment_id, state, customer_id, billing_address_id, shipping_address_id,
        can_void_flag, email_sent, send_email, global_currency_code, base_currency_code,
        store_currency_code, order_currency_code, store_to_base_rate, store_to_order_rate,
        base_to_global_rate, base_to_order_rate, total_qty,
        grand_total, base_grand_total, subtotal, base_subtotal, subtotal_incl_tax, base_subtotal_incl_tax,
        discount_amount, base_discount_amount, tax_amount, base_tax_amount,
        discount_tax_compensation_amount, base_discount_tax_compensation_amount,
        shipping_amount, base_shipping_amount, shipping_incl_tax, base_shipping_incl_tax,
        shipping_tax_amount, base_shipping_tax_amount, base_cost, created_at, updated_at
    )
    SELECT p.id, %(store_id)s,
           lpad(nextval(%(sequence)s)::text, 9, '0'),
           p.st, p.customer_id, p.billing_address_id, p.shipping_address_id,
           0, CASE WHEN p.r_mail < 0.8 THEN 1 END, 1,
           p.global_currency_code, p.base_currency_code, p.store_currency_code, p.order_currency_code,
           0, 0, 1, p.rate, p.n_rows,
           p.grand, round(p.grand / p.rate, 2),
           p.grand - p.shipping - p.tax - p.discount, round((p.grand - p.shipping - p.tax - p.discount) / p.rate, 2),
           p.grand - p.shipping - p.discount, round((p.grand - p.shipping - p.discount) / p.rate, 2),
           p.discount, round(p.discount / p.rate, 2), p.tax, round(p.tax / p.rate, 2),
           0, 0,
           p.shipping, round(p.shipping / p.rate, 2), p.shipping, round(p.shipping / p.rate, 2),
           0, 0, NULL,
           p.created,
           CASE WHEN p.st = 1 THEN p.created
                WHEN p.st = 2 AND p.r_upd < 0.6 THEN p.created
                ELSE p.created + make_interval(secs => p.r_upd * 14 * 86400) END
    FROM parts p
    ORDER BY p.n
    RETURNING id, order_id, total_qty, subtotal, base_subtotal, tax_amount, base_tax_amount
)
INSERT INTO sales_invoiceitem (
    parent_id, order_item_id, product_id, sku, name, qty,
    price, base_price, price_incl_tax, base_price_incl_tax,
    row_total, base_row_total, row_total_incl_tax, base_row_total_incl_tax,
    tax_amount, base_tax_amount, discount_amount, base_discount_amount,
    discount_tax_compensation_amount, base_discount_tax_compensation_amount
)
SELECT s.id, s.item_id, s.product_id, s.sku, s.name, 1,
       s.row_total, s.base_row_total, s.row_total + s.tax, s.base_row_total + s.base_tax,
       s.row_total, s.base_row_total, s.row_total + s.tax, s.base_row_total + s.base_tax,
       s.tax, s.base_tax, 0, 0, 0, 0
FROM (
    SELECT ins.id, oi.id AS item_id, oi.product_id, oi.sku, oi.name,
           -- Equal shares of the invoice's subtotal and tax; the last row takes the cents left over.
           CASE WHEN k < ins.total_qty THEN round(ins.subtotal / ins.total_qty, 2)
                ELSE ins.subtotal - (ins.total_qty - 1) * round(ins.subtotal / ins.total_qty, 2) END AS row_total,
           CASE WHEN k < ins.total_qty THEN round(ins.base_subtotal / ins.total_qty, 2)
                ELSE ins.base_subtotal - (ins.total_qty - 1) * round(ins.base_subtotal / ins.total_qty, 2)
           END AS base_row_total,
           CASE WHEN k < ins.total_qty THEN round(ins.tax_amount / ins.total_qty, 2)
                ELSE ins.tax_amount - (ins.total_qty - 1) * round(ins.tax_amount / ins.total_qty, 2) END AS tax,
           CASE WHEN k < ins.total_qty THEN round(ins.base_tax_amount / ins.total_qty, 2)
                ELSE ins.base_tax_amount - (ins.total_qty - 1) * round(ins.base_tax_amount / ins.total_qty, 2)
           END AS base_tax
    FROM ins
    CROSS JOIN LATERAL generate_series(1, ins.total_qty::int) AS k
    JOIN oi ON oi.order_id = ins.order_id AND oi.rn = 1 + (k - 1) %% oi.cnt
) AS s
"""

BENCH_TABLES = ("sales_order", "sales_orderitem", "sales_invoice", "sales_invoiceitem", "sales_invoicecomment")


def bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    name = urlsplit(url).path.lstrip("/")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"seed_invoices: DATABASE_URL must be PostgreSQL, got {url!r}")
    if not name or name in PROTECTED_DATABASES or "bench" not in name:
        sys.exit(f"seed_invoices: refusing database {name!r}; use a dedicated one such as counterfoil_bench")
    return url


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


def import_orders(count: int, seed: int) -> None:
    from sales.demo.generator import demo_order_entity
    from sales.models import Order, Store
    from sales.services import order_import

    existing = Order.objects.filter(store_id=Store.DEFAULT_ID).count()
    if existing >= count:
        print(f"orders: {existing} already imported")
        return
    rng = random.Random(seed)
    for _ in range(existing):  # continue the same stream after an interrupted run
        demo_order_entity(rng)
    started = time.monotonic()
    for done in range(existing + 1, count + 1):
        order_import(entity=demo_order_entity(rng), store_id=Store.DEFAULT_ID)
        if done % 50 == 0 or done == count:
            print(f"  orders {done}/{count} ({time.monotonic() - started:.1f} s)", flush=True)


def fill_invoices(target: int, batch: int, seed: int) -> None:
    from django.db import connection, transaction

    from sales.models import Invoice, Store
    from sales.numbering import sequence_name

    existing = Invoice.objects.count()
    if existing >= target:
        print(f"invoices: {existing} already present")
        return
    todo = target - existing
    print(f"invoices: {existing} present, inserting {todo} in batches of {batch}")
    started = time.monotonic()
    with connection.cursor() as cursor:
        # Repeatable draws for the same seed (one session, batches in order).
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        for first in range(existing + 1, target + 1, batch):
            last = min(first + batch - 1, target)
            with transaction.atomic():
                cursor.execute(
                    INSERT_BATCH,
                    {
                        "first": first,
                        "last": last,
                        "total": target,
                        "start": PERIOD_START,
                        "span": PERIOD_SECONDS,
                        "store_id": Store.DEFAULT_ID,
                        "sequence": sequence_name("invoice", Store.DEFAULT_ID),
                    },
                )
                rows = cursor.rowcount
            elapsed = time.monotonic() - started
            print(f"  invoices {last}/{target} (+{rows} invoice rows) {elapsed:.1f} s", flush=True)


def analyze() -> None:
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        for table in BENCH_TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
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
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('sales_invoice'))")
        (size,) = cursor.fetchone()
    print(f"vacuum analyze, checkpoint: {time.monotonic() - started:.1f} s")
    print(f"invoices: {count} ({paid} paid), {rows} invoice rows, created {first:%Y-%m-%d} .. {last:%Y-%m-%d}")
    print(f"sales_invoice with indexes: {size}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000, help="invoices wanted in total (default 100000)")
    parser.add_argument("--orders", type=int, default=300, help="orders imported through order_import (default 300)")
    parser.add_argument("--batch", type=int, default=20_000, help="invoices per INSERT (default 20000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the bench database first")
    args = parser.parse_args(argv)
    if args.invoices < 0 or args.orders < 1 or args.batch < 1:
        parser.error("--invoices >= 0, --orders >= 1 and --batch >= 1")

    url = bench_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")  # order_import queues nothing; never reach a broker
    sys.path.insert(0, str(REPO))
    started = time.monotonic()
    ensure_database(url, reset=args.reset)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False  # no query log kept in memory while importing
    call_command("migrate", verbosity=0, interactive=False)
    print("migrated")
    import_orders(args.orders, args.seed)
    fill_invoices(args.invoices, args.batch, args.seed)
    analyze()
    print(f"done in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
