"""Sales > Orders and Sales > Invoices, read-only for now.

The full back office (Magento's grid columns, filters, invoice creation, e-mail and PDF
actions, permissions) is built on these with the admin issue. Rows change only through the
services, so nothing here is editable.
"""

from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html_join

from notifications.models import EmailOutbox
from sales.models import Invoice, InvoiceComment, InvoiceItem, Order, OrderItem, OrderStatusHistory, Store
from sales.services import invoice_email_send


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


class InvoiceEmailInline(ReadOnlyInline):
    """Every e-mail of the invoice, with each attempt at the SMTP server."""

    model = EmailOutbox
    fields = ("kind", "recipients", "status", "attempts", "attempt_log", "last_error", "sent_at", "message_id")
    readonly_fields = fields
    verbose_name_plural = "e-mails"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("attempt_log")

    @admin.display(description="Attempts at the SMTP server")
    def attempt_log(self, email):
        return format_html_join(
            "", "<div>#{} {} - {}{}</div>",
            ((a.number, a.finished_at.strftime("%Y-%m-%d %H:%M:%S"), a.get_outcome_display(),
              f": {a.error}" if a.error else "") for a in email.attempt_log.all()),
        )  # fmt: skip


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
    list_display = (
        "increment_id", "created_at", "order_increment_id", "state", "base_grand_total", "grand_total", "email_status",
    )  # fmt: skip
    list_filter = ("state", "store", "email_sent")
    search_fields = ("=increment_id", "=order__increment_id")
    list_select_related = ("order",)
    inlines = [InvoiceItemInline, InvoiceCommentInline, InvoiceEmailInline]
    exclude = ("billing_address", "shipping_address")
    actions = ["resend_invoice_email"]
    change_form_template = "admin/sales/invoice/change_form.html"

    def get_queryset(self, request):
        latest = EmailOutbox.objects.filter(invoice=OuterRef("pk")).order_by("-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_email_status=Subquery(latest.values("status")[:1]),
                last_email_attempts=Subquery(latest.values("attempts")[:1]),
            )
        )

    @admin.display(description="E-mail")
    def email_status(self, invoice):
        """Magento's email_sent, with the outbox's word when a mail is on its way or failed."""
        if invoice.last_email_status is None:
            return "Not requested" if not invoice.send_email else "Pending"
        label = EmailOutbox.Status(invoice.last_email_status).label
        return f"{label} ({invoice.last_email_attempts} attempt{'s' if invoice.last_email_attempts != 1 else ''})"

    @admin.action(description="Resend invoice e-mail")
    def resend_invoice_email(self, request, queryset):
        for invoice_id in queryset.values_list("pk", flat=True):
            invoice_email_send(invoice_id=invoice_id)
        self.message_user(request, f"Queued the e-mail of {queryset.count()} invoice(s).")

    def get_urls(self):
        send = self.admin_site.admin_view(self.send_email_view)
        return [path("<int:invoice_id>/send-email/", send, name="sales_invoice_send_email"), *super().get_urls()]

    def send_email_view(self, request, invoice_id: int):
        """The invoice page's Send Email button (POST only)."""
        invoice = get_object_or_404(Invoice, pk=invoice_id)
        if request.method == "POST":
            invoice_email_send(invoice_id=invoice.pk)
            self.message_user(request, "You sent the message.", messages.SUCCESS)  # Magento's words
        return redirect(reverse("admin:sales_invoice_change", args=[invoice.pk]))

    @admin.display(description="Order #", ordering="order__increment_id")
    def order_increment_id(self, invoice):
        return invoice.order.increment_id


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("id", "code", "name", "base_currency_code", "is_active")
