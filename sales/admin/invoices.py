"""Sales > Invoices: the invoice page, its buttons, and the grid's actions."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html_join

from notifications.models import EmailOutbox
from payments.methods import OFFLINE_METHODS
from sales.admin.base import ReadOnlyAdmin, ReadOnlyInline, pdf_response
from sales.errors import DomainError
from sales.models import Invoice, InvoiceComment, InvoiceItem
from sales.money import format_price
from sales.pdf import invoices_pdf
from sales.services import invoice_cancel, invoice_capture, invoice_email_send, invoice_void
from sales.services.invoice_settlement import can_cancel, can_capture, can_void


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


# Invoice page buttons: label, permission, service, Magento's success message.
OPERATIONS = {
    "capture": ("Capture", "capture_invoice", invoice_capture, "The invoice has been captured."),
    "void": ("Void", "void_invoice", invoice_void, "The invoice has been voided."),
    "cancel": ("Cancel", "cancel_invoice", invoice_cancel, "You canceled the invoice."),
}


class PaymentMethodFilter(admin.SimpleListFilter):
    title = "payment method"
    parameter_name = "payment_method"

    def lookups(self, request, model_admin):
        return [(method.code, method.title) for method in OFFLINE_METHODS.values()] + [("sandbox", "Sandbox card")]

    def queryset(self, request, queryset):
        return queryset.filter(order__payment__method=self.value()) if self.value() else queryset


class EmailStatusFilter(admin.SimpleListFilter):
    title = "e-mail"
    parameter_name = "email"

    def lookups(self, request, model_admin):
        return [("sent", "Sent"), ("waiting", "Requested, not sent yet"), ("failed", "Failed"),
                ("none", "Not requested")]  # fmt: skip

    def queryset(self, request, queryset):
        value = self.value()
        if value == "sent":
            return queryset.filter(email_sent=1)
        if value == "waiting":
            return queryset.filter(send_email=1, email_sent__isnull=True)
        if value == "failed":
            return queryset.filter(emails__status=EmailOutbox.Status.FAILED).distinct()
        if value == "none":
            return queryset.filter(send_email__isnull=True)
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    """Sales > Invoices: Magento's grid columns, filters and search, newest first."""

    list_display = (
        "invoice_number", "invoice_date", "order_increment_id", "order_created_at", "bill_to_name", "status",
        "grand_total_base", "grand_total_purchased", "email_status",
    )  # fmt: skip
    list_display_links = ("invoice_number",)
    list_filter = (
        "state", "store", ("created_at", admin.DateFieldListFilter), ("order__created_at", admin.DateFieldListFilter),
        PaymentMethodFilter, EmailStatusFilter,
    )  # fmt: skip
    search_fields = ("=increment_id", "=order__increment_id", "^billing_address__lastname", "=order__customer_email")
    search_help_text = "Invoice #, order #, bill-to last name or customer e-mail"
    list_select_related = ("order", "billing_address")
    ordering = ("-id",)
    inlines = [InvoiceItemInline, InvoiceCommentInline, InvoiceEmailInline]
    exclude = ("billing_address", "shipping_address")
    actions = ["resend_invoice_email", "pdf_invoices"]
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

    @admin.display(description="Invoice", ordering="increment_id")
    def invoice_number(self, invoice):
        return invoice.increment_id

    @admin.display(description="Invoice Date", ordering="created_at")
    def invoice_date(self, invoice):
        return invoice.created_at

    @admin.display(description="Order #", ordering="order__increment_id")
    def order_increment_id(self, invoice):
        return invoice.order.increment_id

    @admin.display(description="Order Date", ordering="order__created_at")
    def order_created_at(self, invoice):
        return invoice.order.created_at

    @admin.display(description="Bill-to Name", ordering="billing_address__lastname")
    def bill_to_name(self, invoice):
        return invoice.billing_address.name if invoice.billing_address else ""

    @admin.display(description="Status", ordering="state")
    def status(self, invoice):
        return invoice.state_label

    @admin.display(description="Grand Total (Base)", ordering="base_grand_total")
    def grand_total_base(self, invoice):
        return format_price(invoice.base_grand_total, invoice.base_currency_code or "USD")

    @admin.display(description="Grand Total (Purchased)", ordering="grand_total")
    def grand_total_purchased(self, invoice):
        return format_price(invoice.grand_total, invoice.order_currency_code or "USD")

    @admin.display(description="E-mail")
    def email_status(self, invoice):
        """Magento's email_sent, with the outbox's word when a mail is on its way or failed."""
        if invoice.last_email_status is None:
            return "Not requested" if not invoice.send_email else "Pending"
        label = EmailOutbox.Status(invoice.last_email_status).label
        return f"{label} ({invoice.last_email_attempts} attempt{'s' if invoice.last_email_attempts != 1 else ''})"

    def has_email_permission(self, request) -> bool:
        return request.user.has_perm("sales.email_invoice")

    @admin.action(permissions=["email"], description="Resend invoice e-mail")
    def resend_invoice_email(self, request, queryset):
        for invoice_id in queryset.values_list("pk", flat=True):
            invoice_email_send(invoice_id=invoice_id)
        self.message_user(request, f"Queued the e-mail of {queryset.count()} invoice(s).")

    @admin.action(permissions=["view"], description="PDF Invoices")
    def pdf_invoices(self, request, queryset):
        return pdf_response(invoices_pdf(queryset))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        invoice = Invoice.objects.select_related("order").filter(pk=object_id).first()
        allowed = self.allowed_operations(request, invoice) if invoice else set()
        extra_context = {
            **(extra_context or {}),
            "can_send_email": self.has_email_permission(request),
            "invoice_operations": [(name, label) for name, (label, *_rest) in OPERATIONS.items() if name in allowed],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def allowed_operations(self, request, invoice: Invoice) -> set[str]:
        """The buttons Magento shows: each needs its permission and the invoice's state to allow it."""
        possible = {
            "capture": can_capture(invoice, invoice.order),
            "void": can_void(invoice),
            "cancel": can_cancel(invoice, invoice.order),
        }
        return {name for name, ok in possible.items() if ok and request.user.has_perm(f"sales.{OPERATIONS[name][1]}")}

    def operation_view(self, request, invoice_id: int, operation: str):
        """POST from the invoice page's Capture, Void or Cancel button."""
        label, permission, service, done = OPERATIONS[operation]
        if not request.user.has_perm(f"sales.{permission}"):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice, pk=invoice_id)
        if request.method == "POST":
            try:
                service(invoice_id=invoice.pk)
            except DomainError as refused:
                self.message_user(request, refused.message, messages.ERROR)
            else:
                self.message_user(request, done, messages.SUCCESS)
        return redirect(reverse("admin:sales_invoice_change", args=[invoice.pk]))

    def get_urls(self):
        send = self.admin_site.admin_view(self.send_email_view)
        print_pdf = self.admin_site.admin_view(self.print_view)
        return [
            path("<int:invoice_id>/send-email/", send, name="sales_invoice_send_email"),
            path("<int:invoice_id>/print/", print_pdf, name="sales_invoice_print"),
            *[
                path(
                    f"<int:invoice_id>/{name}/",
                    self.admin_site.admin_view(self.operation_view),
                    {"operation": name},
                    name=f"sales_invoice_{name}",
                )
                for name in OPERATIONS
            ],
            *super().get_urls(),
        ]

    def print_view(self, request, invoice_id: int):
        """The invoice page's Print button: the invoice as a PDF, under Magento's download name."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return pdf_response(invoices_pdf([get_object_or_404(Invoice, pk=invoice_id)]))

    def send_email_view(self, request, invoice_id: int):
        """The invoice page's Send Email button (POST only)."""
        if not self.has_email_permission(request):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice, pk=invoice_id)
        if request.method == "POST":
            invoice_email_send(invoice_id=invoice.pk)
            self.message_user(request, "You sent the message.", messages.SUCCESS)  # Magento's words
        return redirect(reverse("admin:sales_invoice_change", args=[invoice.pk]))


