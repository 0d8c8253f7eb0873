"""Sales > Invoices: the invoice page and its buttons; the list is ``sales.admin.invoice_grid``."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property

from audit.admin import AuditHistoryMixin
from audit.models import AuditAction
from payments.services import is_gateway_method
from sales.admin.base import ReadOnlyAdmin, pdf_response
from sales.admin.invoice_grid import InvoiceGridAdmin
from sales.admin.invoice_page import invoice_page_context
from sales.admin.orders import order_payment_method, price
from sales.audit import admin_action_recorded
from sales.errors import DomainError, NoSuchEntityError
from sales.models import Invoice, InvoiceGrid
from sales.pdf import invoices_pdf
from sales.selectors import invoice_page_get
from sales.services import invoice_cancel, invoice_capture, invoice_comment_add, invoice_email_send, invoice_void
from sales.services.invoice_settlement import can_cancel, can_capture, can_void

# Invoice page buttons: label, permission, service, Magento's success message, audit action.
OPERATIONS = {
    "capture": (
        "Capture",
        "capture_invoice",
        invoice_capture,
        "The invoice has been captured.",
        AuditAction.INVOICE_CAPTURE,
    ),
    "void": ("Void", "void_invoice", invoice_void, "The invoice has been voided.", AuditAction.INVOICE_VOID),
    "cancel": ("Cancel", "cancel_invoice", invoice_cancel, "You canceled the invoice.", AuditAction.INVOICE_CANCEL),
}


def operation_consequence(operation: str, invoice: Invoice) -> str:
    """What the button will do, in words staff confirm before it moves money."""
    order = invoice.order
    amount = price(invoice, "grand_total", order)
    if operation == "capture":
        if is_gateway_method(order_payment_method(order)):
            return f"{amount} will be captured online at the payment gateway and the invoice will be Paid."
        return f"{amount} will be recorded as paid offline and the invoice will be Paid."
    if operation == "void":
        return (
            f"The online capture of {amount} will be voided at the payment gateway; the invoice will be "
            "Canceled and the order's invoiced and paid totals will go back."
        )
    return (
        f"The invoice of {amount} will be Canceled and its quantities will go back to the order to be "
        "invoiced again. No money moves."
    )


@admin.register(Invoice)
class InvoiceAdmin(AuditHistoryMixin, ReadOnlyAdmin):
    """Sales > Invoices: the invoice page and its buttons. The list is the grid's
    (``InvoiceGridAdmin``), served here at Magento's address."""

    change_form_template = "admin/sales/invoice/change_form.html"
    operation_confirm_template = "admin/sales/invoice/operation_confirm.html"

    def has_email_permission(self, request) -> bool:
        return request.user.has_perm("sales.email_invoice")

    @cached_property
    def grid(self) -> InvoiceGridAdmin:
        return InvoiceGridAdmin(InvoiceGrid, self.admin_site)

    def changelist_view(self, request, extra_context=None):
        return self.grid.changelist_view(request, extra_context)

    def get_object(self, request, object_id, from_field=None):
        """The invoice page reads the invoice with everything it shows, in a fixed number of queries."""
        if from_field is not None:
            return super().get_object(request, object_id, from_field)
        try:
            return invoice_page_get(invoice_id=int(object_id))
        except (TypeError, ValueError):
            return None

    def get_fields(self, request, obj=None):
        return ()  # the page template shows the invoice; there is nothing to edit

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        allowed = self.allowed_operations(request, obj)
        context.update(invoice_page_context(obj))
        context.update(
            title=context["invoice_header"],
            subtitle=None,
            can_send_email=self.has_email_permission(request),
            can_comment=self.has_comment_permission(request),
            invoice_operations=[(name, label) for name, (label, *_rest) in OPERATIONS.items() if name in allowed],
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def has_comment_permission(self, request) -> bool:
        return request.user.has_perm("sales.comment_invoice")

    def allowed_operations(self, request, invoice: Invoice) -> set[str]:
        """The buttons Magento shows: each needs its permission and the invoice's state to allow it."""
        possible = {
            "capture": can_capture(invoice, invoice.order),
            "void": can_void(invoice),
            "cancel": can_cancel(invoice, invoice.order),
        }
        return {name for name, ok in possible.items() if ok and request.user.has_perm(f"sales.{OPERATIONS[name][1]}")}

    def operation_view(self, request, invoice_id: int, operation: str):
        """The invoice page's Capture, Void or Cancel button: a GET asks for confirmation (what will happen,
        the amount), the POST of that page's Yes runs the operation."""
        label, permission, service, done, action = OPERATIONS[operation]
        if not request.user.has_perm(f"sales.{permission}"):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice.objects.select_related("order__payment"), pk=invoice_id)
        page = reverse("admin:sales_invoice_change", args=[invoice.pk])
        if request.method != "POST":
            if operation not in self.allowed_operations(request, invoice):
                self.message_user(request, f"The {operation} action is not available.", messages.ERROR)
                return redirect(page)
            request.current_app = self.admin_site.name
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Are you sure?",
                "subtitle": None,
                "original": invoice,
                "label": label,
                "question": f"Are you sure you want to {label.lower()} invoice #{invoice.increment_id}?",
                "consequence": operation_consequence(operation, invoice),
            }
            return TemplateResponse(request, self.operation_confirm_template, context)
        try:
            with admin_action_recorded(request, action=action, obj=invoice):
                service(invoice_id=invoice.pk)
        except DomainError as refused:
            self.message_user(request, refused.message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return redirect(page)

    def get_urls(self):
        send = self.admin_site.admin_view(self.send_email_view)
        print_pdf = self.admin_site.admin_view(self.print_view)
        comment = self.admin_site.admin_view(self.comment_view)
        return [
            path("<int:invoice_id>/comment/", comment, name="sales_invoice_comment"),
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
            try:
                with admin_action_recorded(request, action=AuditAction.INVOICE_EMAIL_RESEND, obj=invoice):
                    invoice_email_send(invoice_id=invoice.pk)
            except DomainError as refused:
                self.message_user(request, refused.message, messages.ERROR)
            else:
                self.message_user(request, "You sent the message.", messages.SUCCESS)  # Magento's words
        return redirect(reverse("admin:sales_invoice_change", args=[invoice.pk]))

    def comment_view(self, request, invoice_id: int):
        """POST from the invoice page's comment box; with notify the customer gets the "Invoice Update" mail."""
        if not self.has_comment_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        comment = request.POST.get("comment", "")
        if not comment.strip():
            self.message_user(request, "The comment is missing. Enter and try again.", messages.ERROR)  # Magento's
            return redirect(reverse("admin:sales_invoice_change", args=[invoice_id]))
        notify = bool(request.POST.get("is_customer_notified"))
        invoice = Invoice.objects.only("increment_id").filter(pk=invoice_id).first()  # its number names it in the log
        if invoice is None:
            raise Http404
        try:
            with admin_action_recorded(
                request,
                action=AuditAction.INVOICE_COMMENT_ADD,
                obj=invoice,
                detail="customer notified" if notify else "",
            ):
                invoice_comment_add(
                    invoice_id=invoice_id,
                    comment=comment,
                    is_customer_notified=notify,
                    is_visible_on_front=bool(request.POST.get("is_visible_on_front")),
                )
        except NoSuchEntityError:
            raise Http404 from None
        except DomainError as refused:
            self.message_user(request, refused.message, messages.ERROR)
        else:
            self.message_user(request, "You added the comment.", messages.SUCCESS)
        return redirect(reverse("admin:sales_invoice_change", args=[invoice_id]))
