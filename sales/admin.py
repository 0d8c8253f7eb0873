"""Sales > Orders and Sales > Invoices, read-only for now.

The full back office (Magento's grid columns, filters, invoice creation, e-mail and PDF
actions, permissions) is built on these with the admin issue. Rows change only through the
services, so nothing here is editable.
"""

from django.contrib import admin

from sales.models import Invoice, InvoiceComment, InvoiceItem, Order, OrderItem, OrderStatusHistory, Store


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ("sku", "name", "product_type", "parent_item", "qty_ordered", "qty_invoiced", "price", "row_total")
    readonly_fields = fields


class OrderStatusHistoryInline(ReadOnlyInline):
    model = OrderStatusHistory
    fields = ("created_at", "status", "comment", "is_customer_notified")
    readonly_fields = fields


class InvoiceItemInline(ReadOnlyInline):
    model = InvoiceItem
    fields = ("sku", "name", "qty", "price", "row_total", "discount_amount", "tax_amount")
    readonly_fields = fields


class InvoiceCommentInline(ReadOnlyInline):
    model = InvoiceComment
    fields = ("created_at", "comment", "is_customer_notified", "is_visible_on_front")
    readonly_fields = fields


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # no COUNT(*) over the whole table
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("increment_id", "created_at", "customer_email", "status", "base_grand_total", "grand_total")
    list_filter = ("status", "store")
    search_fields = ("=increment_id", "customer_email")
    list_select_related = ("store",)
    date_hierarchy = None
    inlines = [OrderItemInline, OrderStatusHistoryInline]
    exclude = ("billing_address", "shipping_address")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("increment_id", "created_at", "order_increment_id", "state", "base_grand_total", "grand_total")
    list_filter = ("state", "store")
    search_fields = ("=increment_id", "=order__increment_id")
    list_select_related = ("order",)
    inlines = [InvoiceItemInline, InvoiceCommentInline]
    exclude = ("billing_address", "shipping_address")

    @admin.display(description="Order #", ordering="order__increment_id")
    def order_increment_id(self, invoice):
        return invoice.order.increment_id


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("id", "code", "name", "base_currency_code", "is_active")
