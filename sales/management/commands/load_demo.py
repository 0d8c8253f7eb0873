"""Load the demo data of ``make run``: the two tutorial orders and a few hundred varied ones.

Everything goes through the same services as the API (order_import, invoice_order), so the
demo data obeys every rule the API does. Running it again adds nothing.
"""

from __future__ import annotations

import datetime
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser, OutputWrapper
from django.utils import timezone

from inventory.models import DEFAULT_SOURCE_CODE, SourceItemStatus
from inventory.services import SourceItemData
from sales.demo.generator import DOWNLOADABLES, SIMPLES, VIRTUALS, demo_order_entity
from sales.models import Order, Store
from sales.services import CaptureCase, InvoiceLineRequest, invoice_order, order_import
from sales.stock import source_items_save

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
SEED_ORDERS = ("seed_000_order.json", "seed_001_order.json")
MARKER_INCREMENT_ID = "000000003"  # seed 000's order
DEMO_STOCK = Decimal(1000)


def progress(stream: OutputWrapper, done: int, total: int, label: str) -> None:
    """A bar redrawn in place on a terminal; a line every tenth of the way in a log."""
    width = 30
    filled = width * done // max(total, 1)
    line = f"  {label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
    if stream.isatty():
        stream.write(f"\r{line}", ending="\n" if done == total else "")
    elif done == total or done % max(total // 10, 1) == 0:
        stream.write(line)


class Command(BaseCommand):
    help = "Load the tutorial orders of seeds 000 and 001 and a few hundred generated orders (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=300, help="generated orders (default 300)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed, for repeatable data")

    def handle(self, *args: Any, orders: int, seed: int, **options: Any) -> None:
        if Order.objects.filter(store_id=Store.DEFAULT_ID, increment_id=MARKER_INCREMENT_ID).exists():
            self.stdout.write("Demo data already loaded.")
            return
        self.stock_demo_products()
        for name in SEED_ORDERS:
            entity = json.loads((DEMO_DIR / name).read_text(), parse_float=Decimal)["entity"]
            order = order_import(entity=entity, store_id=Store.DEFAULT_ID)
            self.stdout.write(f"  tutorial order #{order.increment_id} (id {order.pk}), not invoiced")

        rng = random.Random(seed)
        now = timezone.now()
        invoiced = 0
        for done in range(1, orders + 1):
            created_at = now - datetime.timedelta(minutes=rng.randint(60, 60 * 24 * 90))
            entity = demo_order_entity(rng, created_at=created_at)
            if done % 10 == 0:  # some orders paid by card through the simulated gateway
                entity["payment"] = {"method": "sandbox", "additional_information": {"sandbox_outcome": "approve"}}
            order = order_import(entity=entity, store_id=Store.DEFAULT_ID)
            invoiced += self.invoice_some(order, rng)
            progress(self.stdout, done, orders, "generated orders")
        self.stdout.write(self.style.SUCCESS(f"Loaded {orders + len(SEED_ORDERS)} orders and {invoiced} invoices."))

    def stock_demo_products(self) -> None:
        """Quantity per Source for the generator's simple, virtual and downloadable products, so orders
        reserve them and invoices take the virtual ones out (Inventory > Products shows both)."""
        products = [sku for sku, *_ in (*SIMPLES, *VIRTUALS, *DOWNLOADABLES)]
        source_items_save(
            items=[
                SourceItemData(
                    sku=sku, source_code=DEFAULT_SOURCE_CODE, quantity=DEMO_STOCK, status=SourceItemStatus.IN_STOCK
                )
                for sku in products
            ]
        )
        self.stdout.write(f"  {len(products)} products stocked: {DEMO_STOCK} units each, {DEFAULT_SOURCE_CODE} source")

    @staticmethod
    def invoice_some(order: Order, rng: random.Random) -> int:
        """Leave some orders open, invoice some in full, and some in part then in full."""
        roll = rng.random()
        if roll < 0.3:
            return 0
        count = 0
        if roll < 0.55:
            line = order.items.filter(parent_item__isnull=True, qty_ordered__gt=1).first()
            if line is not None:
                invoice_order(order_id=order.pk, items=[InvoiceLineRequest(order_item_id=line.pk, qty=Decimal(1))])
                count += 1
            if rng.random() < 0.5:
                return count
        capture = CaptureCase.NOT_CAPTURE if rng.random() < 0.1 else CaptureCase.ONLINE
        invoice_order(order_id=order.pk, capture_case=capture, notify=rng.random() < 0.5)
        return count + 1
