"""Sales > Orders: the grid, the order page and the Invoice button's create page."""

from django.contrib import admin, messages

from sales.admin.base import ReadOnlyAdmin, ReadOnlyInline, pdf_response
from sales.models import Invoice, Order, OrderItem, OrderStatusHistory
from sales.money import format_price
from sales.pdf import invoices_pdf


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ("sku", "name", "product_type", "parent_item", "qty_ordered", "qty_invoiced", "price", "row_total")
    readonly_fields = fields


class OrderStatusHistoryInline(ReadOnlyInline):
    model = OrderStatusHistory
    fields = ("created_at", "status", "comment", "is_customer_notified")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Sales > Orders: Magento's default grid columns, newest first."""

    list_display = ("order_number", "store", "purchase_date", "bill_to_name", "ship_to_name", "grand_total_base",
                    "grand_total_purchased", "status")  # fmt: skip
    list_filter = ("status", "store", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=increment_id", "=customer_email", "^billing_address__lastname")
    search_help_text = "Order #, customer e-mail or bill-to last name"
    list_select_related = ("store", "billing_address", "shipping_address")
    ordering = ("-id",)
    inlines = [OrderItemInline, OrderStatusHistoryInline]
    exclude = ("billing_address", "shipping_address")
    actions = ["print_invoices"]

    @admin.action(permissions=["view"], description="Print Invoices")
    def print_invoices(self, request, queryset):
        """One PDF of every invoice of the selected orders (Magento's orders grid mass action)."""
        invoices = list(Invoice.objects.filter(order__in=queryset).only("pk").order_by("order_id", "pk"))
        if not invoices:
            self.message_user(request, "There are no printable documents related to selected orders.", messages.ERROR)
            return None
        return pdf_response(invoices_pdf(invoices))

    @admin.display(description="ID", ordering="increment_id")
    def order_number(self, order):
        return order.increment_id

    @admin.display(description="Purchase Date", ordering="created_at")
    def purchase_date(self, order):
        return order.created_at

    @admin.display(description="Bill-to Name", ordering="billing_address__lastname")
    def bill_to_name(self, order):
        return order.billing_address.name if order.billing_address else ""

    @admin.display(description="Ship-to Name")
    def ship_to_name(self, order):
        return order.shipping_address.name if order.shipping_address else ""

    @admin.display(description="Grand Total (Base)", ordering="base_grand_total")
    def grand_total_base(self, order):
        return format_price(order.base_grand_total, order.base_currency_code)

    @admin.display(description="Grand Total (Purchased)", ordering="grand_total")
    def grand_total_purchased(self, order):
        return format_price(order.grand_total, order.order_currency_code)


