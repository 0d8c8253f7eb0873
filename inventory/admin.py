"""Stores > Sources, Stores > Stocks, the source items, Catalog > Products' inventory columns, reservations.

Quantities change only through the services: a source item saved here goes through
``source_items_save`` (Magento's validators, upsert), reservations are read-only (append-only; the
cleanup deletes settled groups). Every list runs a fixed number of queries per page.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from inventory.errors import InventoryError, InventoryValidationError
from inventory.models import (
    DEFAULT_STOCK_ID,
    Reservation,
    Source,
    SourceItem,
    Stock,
    StockItemConfiguration,
    StockSourceLink,
)
from inventory.selectors import SkuInventory, sku_inventories
from inventory.services import EventType, SourceItemData, source_items_save, source_items_validate


def quantity_text(quantity: Decimal) -> str:
    """9998.0000 as ``9998``, 2.5000 as ``2.5``: what Magento's grids show."""
    return "0" if quantity == 0 else format(quantity.normalize(), "f")


def _lines(pairs) -> str:
    """``label: value`` lines, as Magento's grid cells list a product's sources and stocks."""
    pairs = list(pairs)
    return format_html_join(mark_safe("<br>"), "{}: {}", pairs) if pairs else "—"


class NoFullCountMixin:
    show_full_result_count = False  # no second COUNT(*) over the whole table
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50


# -- sources and stocks ------------------------------------------------------------------------------


class StockSourceLinkInline(admin.TabularInline):
    """The sources a stock sells from; the lowest priority number is taken from first."""

    model = StockSourceLink
    fields = ("source", "priority")
    extra = 0
    ordering = ("priority", "source_id")


@admin.register(Source)
class SourceAdmin(NoFullCountMixin, admin.ModelAdmin):
    list_display = ("source_code", "name", "enabled", "priority_per_stock")
    list_filter = ("enabled",)
    search_fields = ("source_code", "name")
    fieldsets = [
        ("General", {"fields": ["source_code", "name", "enabled", "description"]}),
        ("Contact Info", {"fields": ["contact_name", "email", "phone", "fax"]}),
        (
            "Address Data",
            {"fields": ["country_id", "region_id", "region", "city", "street", "postcode", "latitude", "longitude"]},
        ),
        ("Delivery Method", {"fields": ["use_default_carrier_config"]}),
    ]

    def get_queryset(self, request):
        links = StockSourceLink.objects.select_related("stock").order_by("stock_id")
        return super().get_queryset(request).prefetch_related(Prefetch("stock_links", queryset=links))

    def get_readonly_fields(self, request, obj=None):
        return ("source_code",) if obj is not None else ()  # the code names the source everywhere

    def has_delete_permission(self, request, obj=None):
        return False  # Magento cannot delete a source either: disable it

    @admin.display(description="Priority")
    def priority_per_stock(self, source: Source) -> str:
        return _lines((link.stock.name, link.priority) for link in source.stock_links.all())


@admin.register(Stock)
class StockAdmin(NoFullCountMixin, admin.ModelAdmin):
    list_display = ("stock_id", "name", "sources_by_priority")
    search_fields = ("name",)
    inlines = [StockSourceLinkInline]

    def get_queryset(self, request):
        links = StockSourceLink.objects.select_related("source").order_by("priority", "source_id")
        return super().get_queryset(request).prefetch_related(Prefetch("source_links", queryset=links))

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.pk == DEFAULT_STOCK_ID:
            return False  # every store sells from the Default Stock
        return super().has_delete_permission(request, obj)

    @admin.display(description="Assigned Sources")
    def sources_by_priority(self, stock: Stock) -> str:
        return _lines((link.priority, link.source.name) for link in stock.source_links.all())


# -- source items --------------------------------------------------------------------------------------


class SourceItemForm(forms.ModelForm):
    """Checked by Magento's source item validators (``source_items_validate``), saved by the service."""

    class Meta:
        model = SourceItem
        fields = ("sku", "source", "quantity", "status")

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns
        if self.errors:
            return data
        source = data.get("source") or self.instance.source
        item = SourceItemData(
            sku=data.get("sku", self.instance.sku),
            source_code=source.source_code,
            quantity=data.get("quantity"),
            status=data.get("status"),
        )
        try:
            source_items_validate(items=[item])
        except InventoryValidationError as invalid:
            raise ValidationError([_message(template, parameters) for template, parameters in invalid.errors]) from None
        except InventoryError as refused:
            raise ValidationError(refused.template) from None
        self.source_item_data = item
        return data


def _message(template: str, parameters: dict) -> str:
    for key, value in parameters.items():
        template = template.replace(f"%{key}", str(value))
    return template.replace("sourceItems[0].", "")


@admin.register(SourceItem)
class SourceItemAdmin(NoFullCountMixin, admin.ModelAdmin):
    form = SourceItemForm
    list_display = ("sku", "source", "quantity_per_source", "status")
    list_filter = ("source", "status")
    list_select_related = ("source",)
    search_fields = ("sku",)
    ordering = ("sku", "source_id")

    def get_readonly_fields(self, request, obj=None):
        return ("sku", "source") if obj is not None else ()  # a new SKU or source is a new source item

    def save_model(self, request, obj, form, change):
        (saved,) = source_items_save(items=[form.source_item_data])
        obj.pk = SourceItem.objects.values_list("pk", flat=True).get(source_id=saved.source_id, sku=saved.sku)

    @admin.display(description="Quantity per Source", ordering="quantity")
    def quantity_per_source(self, item: SourceItem) -> str:
        return quantity_text(item.quantity)


# -- Products: Quantity per Source and Salable Quantity per SKU ---------------------------------------


class ProductChangeList(ChangeList):
    """Attaches each page row's inventory summary, computed for the whole page in three queries."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        summaries = sku_inventories(self.result_list)
        for product in self.result_list:
            product.inventory = summaries[product.sku]


def _quantity_per_source(summary: SkuInventory) -> str:
    return _lines((item.source.name, quantity_text(item.quantity)) for item in summary.source_items)


def _salable_quantity(summary: SkuInventory) -> str:
    return _lines(
        (stock.stock_name, "Manage Stock: No" if stock.salable_qty is None else quantity_text(stock.salable_qty))
        for stock in summary.stocks
    )


@admin.register(StockItemConfiguration)
class ProductInventoryAdmin(NoFullCountMixin, admin.ModelAdmin):
    """Catalog > Products, inventory columns: a row per SKU the inventory knows."""

    list_display = ("sku", "quantity_per_source", "salable_quantity", "manage_stock", "min_qty")
    list_filter = ("manage_stock",)
    search_fields = ("sku",)
    fields = ("sku", "manage_stock", "min_qty", "quantity_per_source", "salable_quantity")
    readonly_fields = ("quantity_per_source", "salable_quantity")

    def get_changelist(self, request, **kwargs):
        return ProductChangeList

    def get_readonly_fields(self, request, obj=None):
        return ("sku", *self.readonly_fields) if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def _summary(self, product: StockItemConfiguration) -> SkuInventory:
        summary: SkuInventory | None = getattr(product, "inventory", None)  # the list page's, from ProductChangeList
        if summary is None:  # the change page: one product, kept on it for the second column
            summary = sku_inventories([product])[product.sku] if product.sku else SkuInventory(sku="")
            vars(product)["inventory"] = summary
        return summary

    @admin.display(description="Quantity per Source")
    def quantity_per_source(self, product: StockItemConfiguration) -> str:
        return _quantity_per_source(self._summary(product))

    @admin.display(description="Salable Quantity")
    def salable_quantity(self, product: StockItemConfiguration) -> str:
        return _salable_quantity(self._summary(product))


# -- reservations (read-only) -----------------------------------------------------------------------------


class EventTypeFilter(admin.SimpleListFilter):
    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [(value, value) for name, value in vars(EventType).items() if name.isupper()]

    def queryset(self, request, queryset):
        return queryset.filter(metadata__event_type=self.value()) if self.value() else queryset


@admin.register(Reservation)
class ReservationAdmin(NoFullCountMixin, admin.ModelAdmin):
    """Append-only: nothing here adds, changes or deletes (``manage.py inventory_cleanup_reservations`` does)."""

    list_display = (
        "reservation_id",
        "stock_id",
        "sku",
        "quantity_text",
        "event_type",
        "object_type",
        "object_increment_id",
    )
    list_filter = ("stock_id", EventTypeFilter)
    search_fields = ("sku", "=metadata__object_increment_id")
    ordering = ("-reservation_id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Quantity")
    def quantity_text(self, reservation: Reservation) -> str:
        return f"{'+' if reservation.quantity > 0 else ''}{quantity_text(reservation.quantity)}"

    @admin.display(description="Event")
    def event_type(self, reservation: Reservation) -> str | None:
        return reservation.event_type

    @admin.display(description="Object")
    def object_type(self, reservation: Reservation) -> str | None:
        return (reservation.metadata or {}).get("object_type")

    @admin.display(description="Order #")
    def object_increment_id(self, reservation: Reservation) -> str | None:
        return reservation.object_increment_id
