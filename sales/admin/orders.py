"""Sales > Orders: the grid, the order page and the Invoice button's create page."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from audit.admin import AuditHistoryMixin
from audit.models import AuditAction
from payments.methods import is_offline, method_get
from payments.services import is_gateway_method
from sales.admin.base import ReadOnlyAdmin, pdf_response
from sales.admin.invoice_page import item_row
from sales.audit import admin_action_recorded
from sales.documents import invoice_totals, qty_text
from sales.errors import (
    INVALID_QTY,
    INVOICE_REFUSALS,
    DocumentValidationError,
    DomainError,
    ErrorCode,
    InputError,
    NoSuchEntityError,
    render_template,
)
from sales.items import ItemTree
from sales.models import Invoice, Order, OrderItem, OrderStatus
from sales.money import ZERO, as_decimal, format_price
from sales.order_state import order_can_invoice
from sales.pdf import invoices_pdf
from sales.selectors import invoices_of_orders, order_with_items_get, orders_with_documents
from sales.services import CaptureCase, InvoiceCommentRequest, InvoiceLineRequest, invoice_order, invoice_preview
from sales.totals import InvoiceDraft

INVOICE_CREATED = "The invoice has been created."
ORDER_GONE = "The order no longer exists."
OFFLINE_NOTE = "The invoice will be created offline without the payment gateway."
CAPTURE_CHOICES = [
    (CaptureCase.ONLINE.value, "Capture Online"),
    (CaptureCase.OFFLINE.value, "Capture Offline"),
    (CaptureCase.NOT_CAPTURE.value, "Not Capture"),
]
NOTIFIED_LABELS = {True: "Customer Notified", False: "Customer Not Notified", None: "Notification Not Applicable"}
ITEM_AMOUNTS = ("price", "row_total", "tax_amount", "discount_amount")
ORDER_TOTALS = (
    ("Subtotal", "subtotal"),
    ("Discount", "discount_amount"),
    ("Shipping & Handling", "shipping_amount"),
    ("Tax", "tax_amount"),
    ("Grand Total", "grand_total"),
    ("Total Paid", "total_paid"),
    ("Total Invoiced", "total_invoiced"),
    ("Total Refunded", "total_refunded"),
    ("Total Due", "total_due"),
)


def price(obj, field: str, order: Order) -> str:
    """An amount in the order's currency, its base twin in brackets when the currencies differ."""
    text = format_price(getattr(obj, field), order.order_currency_code)
    if order.base_currency_code != order.order_currency_code:
        text += f" [{format_price(getattr(obj, f'base_{field}'), order.base_currency_code)}]"
    return text


def lines(tree: ItemTree) -> list[tuple[OrderItem, bool]]:
    """Each top-level row followed by its children, as Magento lists a composite line."""
    return [
        (row, row is not item)
        for item in tree.items
        if tree.parent(item) is None
        for row in (item, *tree.children(item))
    ]


def qty_summary(item: OrderItem) -> list[tuple[str, str]]:
    """Magento's Qty cell: ordered and invoiced always, the other counters once they move."""
    counters = [
        ("Ordered", item.qty_ordered),
        ("Invoiced", item.qty_invoiced),
        ("Shipped", item.qty_shipped),
        ("Refunded", item.qty_refunded),
        ("Canceled", item.qty_canceled),
    ]
    return [(label, qty_text(qty)) for index, (label, qty) in enumerate(counters) if index < 2 or qty > 0]


def rows_taking_qty(tree: ItemTree) -> dict[OrderItem, Decimal]:
    """The rows the service takes a quantity for, with what is left to invoice: the priced side of each
    line (a dummy row follows its line), not locked, with something left."""
    return {
        item: tree.qty_to_invoice(item)
        for item in tree.items
        if not tree.is_dummy(item) and not item.locked_do_invoice and tree.qty_to_invoice(item) > 0
    }


def line_takes_qty(tree: ItemTree, item: OrderItem, takes_qty: dict[OrderItem, Decimal]) -> bool:
    head = tree.parent(item) or item
    return any(row in takes_qty for row in (head, *tree.children(head)))


def base_grand_total(invoice: Invoice, order: Order) -> str:
    """The grand total in the base currency, shown in brackets under it when the currencies differ."""
    if order.base_currency_code == order.order_currency_code:
        return ""
    return format_price(as_decimal(invoice.base_grand_total), order.base_currency_code)


def refusal_messages(refused: DomainError) -> list[str]:
    return refused.messages if isinstance(refused, DocumentValidationError) else [refused.message]


def status_label(status: str | None) -> str:
    return OrderStatus(status).label if status in OrderStatus.values else status or ""


def order_payment_method(order: Order) -> str:
    payment = getattr(order, "payment", None)
    return payment.method if payment is not None else ""


def capture_mode(request, order: Order) -> str:
    """``select`` when the payment can capture online (Magento's Capture select), ``note`` for an online
    method that will be paid offline, ``""`` for offline methods (paid offline, nothing to choose)."""
    method = order_payment_method(order)
    if is_gateway_method(method) and request.user.has_perm("sales.capture_invoice"):
        return "select"
    return "note" if method and not is_offline(method) else ""


class InvoiceCreateForm(forms.Form):
    """Magento's New Invoice form: one ``qty_<order item id>`` per row that takes a quantity."""

    comment_text = forms.CharField(
        label="Invoice Comments", required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 60})
    )
    comment_customer_notify = forms.BooleanField(label="Append Comments", required=False)
    send_email = forms.BooleanField(label="Email Copy of Invoice", required=False)

    def __init__(self, *args, qty_rows: list[tuple[OrderItem, Decimal]], with_capture_case: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.qty_rows = qty_rows
        for item, qty_to_invoice in qty_rows:
            # The qty column's shape: a longer number is a typo, and would overflow the service's arithmetic.
            self.fields[f"qty_{item.pk}"] = forms.DecimalField(
                label="Qty to Invoice",
                required=False,
                max_digits=12,
                decimal_places=4,
                initial=qty_text(qty_to_invoice),
                widget=forms.TextInput(attrs={"size": 6, "class": "vIntegerField"}),
            )
        if with_capture_case:
            self.fields["capture_case"] = forms.ChoiceField(
                label="Amount", choices=CAPTURE_CHOICES, initial=CaptureCase.ONLINE.value
            )

    def problems(self) -> list[str]:
        """The form's errors in Magento's words, naming the row whose quantity is wrong."""
        found = [
            render_template(INVALID_QTY, [item.name or item.sku])
            for item, _qty in self.qty_rows
            if f"qty_{item.pk}" in self.errors
        ]
        if "capture_case" in self.errors:
            found.append(InputError.invalid_value("capture_case", self.data.get("capture_case")).message)
        return found

    def invoice_lines(self) -> list[InvoiceLineRequest]:
        """The quantities entered, or on a first visit those shown by default (all still to invoice)."""
        if not self.is_bound:
            return [InvoiceLineRequest(order_item_id=item.pk, qty=qty) for item, qty in self.qty_rows]
        return [
            InvoiceLineRequest(order_item_id=item.pk, qty=self.cleaned_data[f"qty_{item.pk}"] or ZERO)
            for item, _qty in self.qty_rows
        ]

    def capture_case(self) -> CaptureCase:
        return CaptureCase(self.cleaned_data.get("capture_case") or CaptureCase.OFFLINE)


@admin.register(Order)
class OrderAdmin(AuditHistoryMixin, ReadOnlyAdmin):
    """Sales > Orders: Magento's default grid columns, newest first; the order page; New Invoice."""

    list_display = (
        "order_number",
        "store",
        "purchase_date",
        "bill_to_name",
        "ship_to_name",
        "grand_total_base",
        "grand_total_purchased",
        "status",
    )
    list_filter = ("status", "store", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=increment_id", "=customer_email", "^billing_address__lastname")
    search_help_text = "Order #, customer e-mail or bill-to last name"
    list_select_related = ("store", "billing_address", "shipping_address")
    ordering = ("-id",)
    exclude = ("billing_address", "shipping_address")
    actions = ["print_invoices"]
    change_form_template = "admin/sales/order/change_form.html"
    invoice_create_template = "admin/sales/order/invoice_create.html"

    @admin.action(permissions=["view"], description="Print Invoices")
    def print_invoices(self, request, queryset):
        """One PDF of every invoice of the selected orders (Magento's orders grid mass action)."""
        invoices = list(invoices_of_orders(queryset))
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

    # -- the order page --------------------------------------------------------------------------------

    def get_object(self, request, object_id, from_field=None):
        """The order page reads the order with everything it shows, through one selector."""
        if from_field is not None:
            return super().get_object(request, object_id, from_field)
        try:
            return orders_with_documents().filter(pk=int(object_id)).first()
        except ValueError:
            return None

    def has_invoice_permission(self, request) -> bool:
        return request.user.has_perm("sales.invoice_order")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.order_page_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def order_page_context(self, request, order: Order) -> dict:
        tree = ItemTree(order.items.all())
        discount_label = f"Discount ({order.discount_description})" if order.discount_description else "Discount"
        return {
            "title": f"Order # {order.increment_id}",
            "subtitle": None,
            "status_label": order.get_status_display(),
            "payment_title": method_get(order_payment_method(order)).title,
            "can_invoice": order_can_invoice(order, tree) and self.has_invoice_permission(request),
            "items": [
                {
                    "item": item,
                    "is_child": is_child,
                    "priced": not tree.is_dummy(item),
                    "qty": qty_summary(item),
                    "amounts": [price(item, field, order) for field in ITEM_AMOUNTS],
                }
                for item, is_child in lines(tree)
            ],
            "totals": [
                (
                    discount_label if field == "discount_amount" else label,
                    price(order, field, order),
                    field == "grand_total",
                )
                for label, field in ORDER_TOTALS
                if field != "discount_amount" or order.discount_amount  # Magento hides a zero discount
            ],
            "history": [
                (entry, status_label(entry.status), NOTIFIED_LABELS[entry.is_customer_notified])
                for entry in order.status_histories.all()
            ],
            "invoices": [(invoice, price(invoice, "grand_total", order)) for invoice in order.invoices.all()],
        }

    def audit_targets(self, order: Order) -> list[tuple[type, list]]:
        """The order's History lists what was done to it and to each of its invoices."""
        return [(Order, [order.pk]), (Invoice, [invoice.pk for invoice in order.invoices.all()])]

    # -- the Invoice button's page ----------------------------------------------------------------------

    def get_urls(self):
        create = self.admin_site.admin_view(self.invoice_create_view)
        return [path("<int:order_id>/invoice/", create, name="sales_order_invoice"), *super().get_urls()]

    def invoice_create_view(self, request, order_id: int):
        """Magento's New Invoice page: "Update Qty's" re-reads the quantities and shows the invoice they
        would make, totals included (nothing written); "Submit Invoice" invoices."""
        if not (self.has_view_permission(request) and self.has_invoice_permission(request)):
            raise PermissionDenied
        try:
            order = order_with_items_get(order_id=order_id)
        except NoSuchEntityError:
            self.message_user(request, ORDER_GONE, messages.ERROR)
            return redirect("admin:sales_order_changelist")
        tree = ItemTree(order.items.all())
        if not order_can_invoice(order, tree):
            self.message_user(request, INVOICE_REFUSALS[ErrorCode.NOTHING_TO_INVOICE], messages.ERROR)
            return redirect("admin:sales_order_change", order.pk)

        takes_qty = rows_taking_qty(tree)
        mode = capture_mode(request, order)
        form = InvoiceCreateForm(
            request.POST if request.method == "POST" else None,
            qty_rows=list(takes_qty.items()),
            with_capture_case=mode == "select",
        )
        draft = None
        if form.is_bound and not form.is_valid():
            for problem in form.problems():
                self.message_user(request, problem, messages.ERROR)
        elif form.is_bound and "update_qty" not in request.POST:
            invoice = self.submit_invoice(request, order, form)
            if invoice is not None:
                self.message_user(request, INVOICE_CREATED, messages.SUCCESS)
                return redirect("admin:sales_invoice_change", invoice.pk)
        else:  # a first visit or "Update Qty's"
            draft = self.preview_invoice(request, order, form)
        invoiced = {
            row.order_item_id: item_row(row, order.order_currency_code, is_child=False)
            for row in (draft.rows if draft is not None else ())
        }

        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            self.invoice_create_template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "New Invoice",
                "original": order,
                "status_label": order.get_status_display(),
                "payment_title": method_get(order_payment_method(order)).title,
                "form": form,
                "capture_mode": mode,
                "offline_note": OFFLINE_NOTE,
                "invoice_totals": invoice_totals(draft.invoice, order) if draft is not None else [],
                "base_grand_total": base_grand_total(draft.invoice, order) if draft is not None else "",
                "rows": [
                    {
                        "item": item,
                        "is_child": is_child,
                        "price": "" if tree.is_dummy(item) else price(item, "price", order),
                        "qty": qty_summary(item),
                        "field": form[f"qty_{item.pk}"] if item in takes_qty else None,
                        "invoiced": invoiced.get(item.pk),  # None: a row this invoice leaves out
                    }
                    for item, is_child in lines(tree)
                    if line_takes_qty(tree, item, takes_qty) and (item in takes_qty or tree.is_dummy(item))
                ],
            },
        )

    def submit_invoice(self, request, order: Order, form: InvoiceCreateForm) -> Invoice | None:
        """The one service call; a refusal is told in Magento's words and has written nothing."""
        comment_text = form.cleaned_data["comment_text"]
        capture = dict(CAPTURE_CHOICES)[form.capture_case().value]
        try:
            # A refusal is recorded against the order; the invoice made, against the invoice.
            with admin_action_recorded(request, action=AuditAction.INVOICE_CREATE, obj=order, detail=capture) as made:
                invoice = invoice_order(
                    order_id=order.pk,
                    capture_case=form.capture_case(),
                    items=form.invoice_lines(),
                    notify=form.cleaned_data["send_email"],
                    append_comment=form.cleaned_data["comment_customer_notify"],
                    comment=InvoiceCommentRequest(comment_text) if comment_text else None,
                )
                made.update(obj=invoice, detail=f"order #{order.increment_id}, {capture}")
        except DomainError as refused:
            for reason in refusal_messages(refused):
                self.message_user(request, reason, messages.ERROR)
            return None
        return invoice

    def preview_invoice(self, request, order: Order, form: InvoiceCreateForm) -> InvoiceDraft | None:
        """The invoice these quantities would make, unsaved; a refusal is told as a submit tells it."""
        try:
            return invoice_preview(order_id=order.pk, items=form.invoice_lines())
        except DomainError as refused:
            for reason in refusal_messages(refused):
                self.message_user(request, reason, messages.ERROR)
            return None
