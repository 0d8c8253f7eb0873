"""Magento's MSI tables: sources, stocks and their links, source items, per-SKU stock settings, reservations.

Quantities are ``DECIMAL(12,4)`` and Decimal in Python, never floats. Table and column names are
Magento's (``inventory_source``, ``inventory_source_item.source_code``, ``inventory_reservation``, ...),
so a reader of Magento's schema finds every column where it expects it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NoReturn

from django.db import models
from django.db.models import Q

from inventory.quantity import QTY_DECIMAL_PLACES, QTY_MAX_DIGITS

ZERO = Decimal("0")
SKU_MAX_LENGTH = 64  # catalog_product_entity.sku, inventory_source_item.sku
SOURCE_CODE_MAX_LENGTH = 255  # inventory_source.source_code

DEFAULT_SOURCE_CODE = "default"
DEFAULT_SOURCE_NAME = "Default Source"
DEFAULT_STOCK_ID = 1
DEFAULT_STOCK_NAME = "Default Stock"


def QtyField(**kwargs: Any) -> models.DecimalField:  # noqa: N802 - reads as a field type
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(max_digits=QTY_MAX_DIGITS, decimal_places=QTY_DECIMAL_PLACES, **kwargs)


class Source(models.Model):
    """A place that holds stock (warehouse, store, drop-shipper): ``inventory_source``."""

    source_code = models.CharField(max_length=SOURCE_CODE_MAX_LENGTH, primary_key=True)
    name = models.CharField(max_length=255)
    enabled = models.BooleanField(default=True)
    description = models.TextField(blank=True, null=True)
    email = models.EmailField(max_length=255, blank=True, null=True)
    contact_name = models.CharField(max_length=255, blank=True, null=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=6, blank=True, null=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, blank=True, null=True)
    country_id = models.CharField(max_length=2, default="US")
    region_id = models.PositiveIntegerField(blank=True, null=True)
    region = models.CharField(max_length=255, blank=True, null=True)
    city = models.CharField(max_length=255, blank=True, null=True)
    street = models.CharField(max_length=255, blank=True, null=True)
    postcode = models.CharField(max_length=255, default="00000")
    phone = models.CharField(max_length=255, blank=True, null=True)
    fax = models.CharField(max_length=255, blank=True, null=True)
    use_default_carrier_config = models.BooleanField(default=True)

    class Meta:
        db_table = "inventory_source"
        ordering = ["source_code"]

    def __str__(self) -> str:
        return self.name


class Stock(models.Model):
    """A virtual aggregation of sources that sales channels sell from: ``inventory_stock``."""

    stock_id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=255, unique=True)
    sources = models.ManyToManyField(Source, through="StockSourceLink", related_name="stocks")

    class Meta:
        db_table = "inventory_stock"
        ordering = ["stock_id"]

    def __str__(self) -> str:
        return self.name


class StockSourceLink(models.Model):
    """A source assigned to a stock; the lower ``priority`` is taken from first: ``inventory_source_stock_link``."""

    link_id = models.AutoField(primary_key=True)
    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, db_column="stock_id", related_name="source_links")
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, to_field="source_code", db_column="source_code", related_name="stock_links"
    )
    priority = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "inventory_source_stock_link"
        ordering = ["stock_id", "priority", "source_id"]
        constraints = [
            models.UniqueConstraint(fields=["stock", "source"], name="inventory_source_stock_link_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} in stock {self.stock_id} (priority {self.priority})"


class SourceItemStatus(models.IntegerChoices):
    OUT_OF_STOCK = 0, "Out of Stock"
    IN_STOCK = 1, "In Stock"


class SourceItem(models.Model):
    """How many units of a SKU one source holds, and whether they may be sold: ``inventory_source_item``."""

    source_item_id = models.BigAutoField(primary_key=True)
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, to_field="source_code", db_column="source_code", related_name="items"
    )
    sku = models.CharField(max_length=SKU_MAX_LENGTH)
    quantity = QtyField()
    status = models.PositiveSmallIntegerField(choices=SourceItemStatus.choices, default=SourceItemStatus.IN_STOCK)
    # Magento's ``stock_status_changed_auto`` (cataloginventory_stock_item), per source item: the status was
    # set by a deduction, not by staff or an integration, so giving quantities back may set it in stock again.
    stock_status_changed_auto = models.BooleanField(default=False)

    class Meta:
        db_table = "inventory_source_item"
        ordering = ["sku", "source_id"]
        verbose_name = "source item"
        constraints = [
            models.UniqueConstraint(fields=["source", "sku"], name="inventory_source_item_source_sku_uniq"),
            # The last line behind the row locks of the deduction: no source ever holds less than nothing.
            models.CheckConstraint(condition=Q(quantity__gte=0), name="inventory_source_item_quantity_gte_0"),
        ]
        indexes = [models.Index(fields=["sku", "source"], name="inventory_source_item_sku_idx")]

    def __str__(self) -> str:
        return f"{self.sku} @ {self.source_id}"


class InvoiceSource(models.Model):
    """What each source gave up for one invoice, as Magento's ``inventory_shipment_source`` records a
    shipment's source: a canceled or voided invoice gives exactly this back, to the same sources."""

    invoice_id = models.PositiveBigIntegerField(db_index=True)  # sales' invoice (inventory never imports sales)
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, to_field="source_code", db_column="source_code", related_name="+"
    )
    sku = models.CharField(max_length=SKU_MAX_LENGTH)
    quantity = QtyField()

    class Meta:
        db_table = "inventory_invoice_source"
        verbose_name = "invoice source deduction"

    def __str__(self) -> str:
        return f"invoice {self.invoice_id}: {self.quantity} x {self.sku} from {self.source_id}"


class StockItemConfiguration(models.Model):
    """A SKU's stock options (Magento's ``cataloginventory_stock_item``, keyed by SKU).

    A SKU without a row has Magento's defaults: stock managed, out-of-stock threshold 0.
    """

    sku = models.CharField(max_length=SKU_MAX_LENGTH, unique=True)
    manage_stock = models.BooleanField(default=True)
    min_qty = QtyField(verbose_name="out-of-stock threshold")

    class Meta:
        db_table = "cataloginventory_stock_item"
        ordering = ["sku"]
        verbose_name = "product"
        verbose_name_plural = "products"
        constraints = [
            models.CheckConstraint(condition=Q(min_qty__gte=0), name="cataloginventory_stock_item_min_qty_gte_0"),
        ]

    def __str__(self) -> str:
        return self.sku


class AppendOnlyError(Exception):
    """Reservations are never updated, and deleted only by the zero-sum cleanup."""


class ReservationQuerySet(models.QuerySet["Reservation"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("reservations are append-only")

    def bulk_update(
        self, objs: Iterable[Reservation], fields: Iterable[str], batch_size: int | None = None
    ) -> NoReturn:
        raise AppendOnlyError("reservations are append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("reservations are deleted only by reservations_cleanup()")

    def delete_settled(self) -> int:
        """Delete these rows; for ``reservations_cleanup`` only, with the ids of groups that sum to zero."""
        return models.QuerySet.delete(self)[0]


class Reservation(models.Model):
    """A signed quantity a sales event holds on a stock's SKU: ``inventory_reservation``.

    Append-only: an order places ``-qty``, its invoice or shipment the compensating ``+qty``.
    ``stock_id`` is a plain column, as in Magento (no foreign key): a reservation outlives its stock.
    """

    reservation_id = models.BigAutoField(primary_key=True)
    stock_id = models.PositiveIntegerField()
    sku = models.CharField(max_length=255)
    quantity = QtyField()
    # event_type, object_type, object_id, object_increment_id (Magento's SalesEventToArrayConverter)
    metadata = models.JSONField(default=dict, blank=True)

    objects = ReservationQuerySet.as_manager()

    class Meta:
        db_table = "inventory_reservation"
        ordering = ["reservation_id"]
        indexes = [
            models.Index(fields=["stock_id", "sku", "quantity"], name="inventory_reservation_sku_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity:+} {self.sku} on stock {self.stock_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("reservations are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("reservations are deleted only by reservations_cleanup()")

    @property
    def event_type(self) -> str | None:
        return (self.metadata or {}).get("event_type")

    @property
    def object_increment_id(self) -> str | None:
        return (self.metadata or {}).get("object_increment_id")
