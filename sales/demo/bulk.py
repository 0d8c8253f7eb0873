"""Bulk demo data on PostgreSQL: a million invoices in minutes, for ``manage.py seed_demo`` and
``bench/seed_invoices.py`` (one implementation for both).

Phases, each with a progress line (done/total, rows/s, ETA):

1. ``orders``: real orders imported through ``sales.services.order_import`` from
   ``demo_order_entity(random.Random(seed))``, continuing the same stream after an interrupted run;
2. ``invoices``: ``INSERT ... SELECT ... generate_series`` batches, each invoice with 1-3 invoice
   rows taken from its order's items, numbered from the store's own invoice sequence (prefix,
   start, step and suffix included), so increment ids stay unique and later invoices follow on;
3. ``grid rows``: ``sales.grid.invoice_grid_refresh`` over id ranges, for every invoice that has
   no grid row yet (the one place where Magento's grid columns are computed);
4. ``VACUUM ANALYZE`` of the tables written, as autovacuum would have done on a live database.

Every phase fills up to its target and skips what is there, so an interrupted run resumes and a
second run with the same target writes nothing. The bulk invoices are read-only fixtures for
lists, search and benchmarks: the orders' ``*_invoiced`` bookkeeping is not updated for them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

from django.db import connection, reset_queries, transaction

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
numbered AS (
    -- The store's numbering, as sales.numbering.next_increment_id formats it (held to it, prefix, suffix,
    -- start value and step included, by tests/sales/test_bulk_numbering.py).
    SELECT p.*, (%(start_value)s + (nextval(%(sequence)s) - 1) * %(step)s)::text AS seq
    FROM parts p
    ORDER BY p.n
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
           %(prefix)s || lpad(p.seq, greatest(%(pad)s, length(p.seq)), '0') || %(suffix)s,
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
    FROM numbered p
    ORDER BY p.n
    RETURNING id, order_id, total_qty, subtotal, base_subtotal, tax_amount, base_tax_amount
),
items AS (
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
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM items)
"""

# The invoices that have no grid row yet, in id order (an anti-join on the grid's primary key).
MISSING_GRID_IDS = """
SELECT i.id FROM sales_invoice i
WHERE NOT EXISTS (SELECT 1 FROM sales_invoice_grid g WHERE g.entity_id = i.id)
ORDER BY i.id
"""

ORDER_TABLES = ("sales_order", "sales_orderitem", "sales_orderaddress", "sales_orderstatushistory", "payments_payment")
INVOICE_TABLES = ("sales_invoice", "sales_invoiceitem", "sales_invoice_grid")


@dataclass(frozen=True)
class Console:
    """Where progress goes: ``write`` takes raw text (no newline added); ``tty`` redraws in place."""

    write: Callable[[str], object]
    flush: Callable[[], object] = lambda: None
    tty: bool = False

    @classmethod
    def of(cls, stream: TextIO) -> Console:
        """A console over a plain text stream such as ``sys.stdout``."""
        return cls(stream.write, stream.flush, stream.isatty())

    def line(self, text: str) -> None:
        self.write(f"{text}\n")
        self.flush()


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """One phase's progress line: ``done/total``, rate and ETA. On a terminal one line redrawn in
    place (``\\r``); in a log or a pipe one line per update, at most one every ``interval`` seconds
    (the last one always)."""

    WIDTH = 24

    def __init__(
        self, console: Console, label: str, total: int, *, done: int = 0, unit: str = "rows", interval: float = 1.0
    ) -> None:
        self.console, self.label, self.total, self.unit = console, label, total, unit
        self.first = self.done = done
        self.interval = 0.2 if console.tty else interval
        self.started = self.shown = time.monotonic()
        self.rows = 0  # secondary count shown after the rate (invoice rows)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def rate(self) -> float:
        return (self.done - self.first) / self.elapsed if self.elapsed > 0 else 0.0

    def text(self) -> str:
        filled = self.WIDTH * self.done // max(self.total, 1)
        rate = self.rate()
        eta = duration((self.total - self.done) / rate) if rate > 0 else "-:--:--"
        return (
            f"  {self.label:<10} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done:,}/{self.total:,}"
            f"  {rate:,.0f} {self.unit}/s  ETA {eta}  ({self.elapsed:.1f} s)"
        )

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if done < self.total and now - self.shown < self.interval:
            return
        self.shown = now
        if self.console.tty:
            self.console.write(f"\r{self.text()}\033[K" + ("\n" if done >= self.total else ""))
            self.console.flush()
        else:
            self.console.line(self.text())


@dataclass(frozen=True)
class Phase:
    """What a phase wrote and how long it took."""

    name: str
    rows: int
    seconds: float

    def __str__(self) -> str:
        rate = f", {self.rows / self.seconds:,.0f}/s" if self.rows and self.seconds else ""
        return f"{self.name}: {self.rows:,} in {self.seconds:.1f} s{rate}"


def orders_import(*, target: int, seed: int, console: Console, store_id: int | None = None) -> Phase:
    """Import orders through ``order_import`` until the store has ``target`` of them."""
    from sales.demo.generator import demo_order_entity
    from sales.models import Order, Store
    from sales.services import order_import

    store_id = Store.DEFAULT_ID if store_id is None else store_id
    existing = Order.objects.filter(store_id=store_id).count()
    if existing >= target:
        console.line(f"orders: {existing:,} present, none to import")
        return Phase("orders", 0, 0.0)
    console.line(f"orders: {existing:,} present, importing {target - existing:,} through order_import")
    rng = random.Random(seed)
    for _ in range(existing):  # continue the same stream after an interrupted run
        demo_order_entity(rng)
    progress = Progress(console, "orders", target, done=existing, unit="orders")
    for done in range(existing + 1, target + 1):
        order_import(entity=demo_order_entity(rng), store_id=store_id)
        reset_queries()  # DEBUG keeps a query log; not for thousands of orders
        progress.update(done)
    return Phase("orders", target - existing, progress.elapsed)


def invoice_numbering(store_id: int) -> dict:
    """The parameters of the store's invoice sequence, for ``INSERT_BATCH``."""
    from sales.models import SalesSequence
    from sales.numbering import PAD, sequence_name

    numbering = SalesSequence.objects.get(entity_type=SalesSequence.EntityType.INVOICE, store_id=store_id)
    return {
        "sequence": sequence_name(SalesSequence.EntityType.INVOICE, store_id),
        "prefix": numbering.prefix,
        "suffix": numbering.suffix,
        "start_value": numbering.start_value,
        "step": numbering.step,
        "pad": PAD,
    }


def invoices_fill(*, target: int, batch: int, seed: int, console: Console, store_id: int | None = None) -> Phase:
    """Insert invoices (and their invoice rows) until there are ``target`` invoices in all."""
    from sales.models import Invoice, Order, Store

    store_id = Store.DEFAULT_ID if store_id is None else store_id
    existing = Invoice.objects.count()
    if existing >= target:
        console.line(f"invoices: {existing:,} present, none to insert")
        return Phase("invoices", 0, 0.0)
    if not Order.objects.filter(store_id=store_id).exists():
        raise ValueError(f"store {store_id} has no orders to invoice: import some first")
    console.line(f"invoices: {existing:,} present, inserting {target - existing:,} in batches of {batch:,}")
    params = {
        "total": target,
        "start": PERIOD_START,
        "span": PERIOD_SECONDS,
        "store_id": store_id,
        **invoice_numbering(store_id),
    }
    progress = Progress(console, "invoices", target, done=existing, unit="invoices")
    item_rows = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])  # repeatable draws: one session, in order
        for first in range(existing + 1, target + 1, batch):
            last = min(first + batch - 1, target)
            with transaction.atomic():
                cursor.execute(INSERT_BATCH, {**params, "first": first, "last": last})
                _invoices, rows = cursor.fetchone()
            item_rows += rows
            reset_queries()
            progress.update(last)
    console.line(f"  {item_rows:,} invoice rows")
    return Phase("invoices", target - existing, progress.elapsed)


def id_runs(ids: list[int], size: int) -> Iterator[list[int]]:
    """``ids`` (ascending) in slices of at most ``size``."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def grid_fill(*, batch: int, console: Console) -> Phase:
    """Write the grid row of every invoice that has none, with ``invoice_grid_refresh`` by id range."""
    from sales.grid import invoice_grid_refresh

    with connection.cursor() as cursor:
        cursor.execute(MISSING_GRID_IDS)
        missing = [invoice_id for (invoice_id,) in cursor.fetchall()]
    if not missing:
        console.line("grid rows: every invoice has one")
        return Phase("grid rows", 0, 0.0)
    # The progress is over the rows it writes, which it knows: no COUNT(*) of a million-row grid.
    console.line(f"grid rows: writing {len(missing):,} with invoice_grid_refresh")
    progress = Progress(console, "grid rows", len(missing))
    done = 0
    for run in id_runs(missing, batch):
        # A range may also hold invoices that have a row (a resumed run): refreshing them is harmless.
        with transaction.atomic():
            invoice_grid_refresh(id_range=(run[0], run[-1]))
        done += len(run)
        reset_queries()
        progress.update(done)
    return Phase("grid rows", len(missing), progress.elapsed)


def vacuum_analyze(tables: tuple[str, ...] | list[str], *, console: Console) -> Phase:
    """``VACUUM (ANALYZE)`` each table; inside a transaction (a test's), where VACUUM cannot run, ``ANALYZE``."""
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    console.line(f"{command.lower()}: {', '.join(tables)}")
    progress = Progress(console, "vacuum", len(tables), unit="tables", interval=0.0)
    with connection.cursor() as cursor:
        for done, table in enumerate(tables, start=1):
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")
            progress.update(done)
    return Phase("vacuum analyze", len(tables), progress.elapsed)


def demo_fill(*, invoices: int, orders: int, batch: int, seed: int, console: Console) -> list[Phase]:
    """Every phase in turn; the tables written are vacuumed and analyzed at the end."""
    if connection.vendor != "postgresql":
        raise ValueError(f"bulk demo data needs PostgreSQL, not {connection.vendor}")
    phases = [
        orders_import(target=orders, seed=seed, console=console),
        invoices_fill(target=invoices, batch=batch, seed=seed, console=console),
        grid_fill(batch=batch, console=console),
    ]
    tables = [*(ORDER_TABLES if phases[0].rows else ()), *(INVOICE_TABLES if phases[1].rows or phases[2].rows else ())]
    if tables:
        phases.append(vacuum_analyze(tables, console=console))
    return phases
