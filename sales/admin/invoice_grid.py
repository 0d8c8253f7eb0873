"""Sales > Invoices, the grid: Magento's sales_invoice_grid columns, filters, keyword search and
mass actions over one flat table, so a million invoices page, filter and search from indexes.

The grid is drawn by ``InvoiceGridAdmin`` over ``InvoiceGrid`` rows, and served at Magento's
address (``/admin/sales/invoice/``) by the invoice admin, which hands its list view here; a
row links to the invoice page.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.query import ValuesListIterable
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction
from notifications.models import EmailOutbox
from payments.gateways import gateways
from payments.methods import OFFLINE_METHODS, method_get
from sales.admin.base import NoFullCountPaginator, ReadOnlyAdmin, pdf_response
from sales.admin.filters import AmountRangeFilter, DateRangeFilter
from sales.audit import admin_action_recorded
from sales.csv_export import csv_lines
from sales.errors import DomainError
from sales.grid import keyword_words
from sales.models import Invoice, InvoiceGrid
from sales.money import format_price, round_price
from sales.pdf import invoices_pdf
from sales.services import invoice_email_send
from sales.services.invoice_email import INVOICE_NEW

# Mass actions that work inside the request: a PDF page per invoice, an outbox row per e-mail.
PDF_ACTION_MAX = 500
RESEND_ACTION_MAX = 1000

# Magento's grid columns: (name, label), the default ones first, then those the column chooser adds.
DEFAULT_COLUMNS = (
    ("increment_id", "Invoice"),
    ("created_at", "Invoice Date"),
    ("order_increment_id", "Order #"),
    ("order_created_at", "Order Date"),
    ("billing_name", "Bill-to Name"),
    ("status", "Status"),
    ("grand_total_base", "Grand Total (Base)"),
    ("grand_total_purchased", "Grand Total (Purchased)"),
    ("email_status", "E-mail"),
)
OPTIONAL_COLUMNS = (
    ("store_name", "Purchased From"),
    ("billing_address", "Billing Address"),
    ("shipping_address", "Shipping Address"),
    ("customer_name", "Customer Name"),
    ("customer_email", "Email"),
    ("payment_method_title", "Payment Method"),
    ("shipping_information", "Shipping Information"),
    ("subtotal_base", "Subtotal"),
    ("shipping_and_handling_base", "Shipping and Handling"),
)
COLUMNS_SESSION_KEY = "sales_invoice_grid_columns"
# Sortable: the columns with a (column, entity_id) index; sorting a million rows by an address would not be.
SORTABLE_COLUMNS = (
    "increment_id",
    "created_at",
    "order_increment_id",
    "order_created_at",
    "billing_name",
    "status",
    "grand_total_base",
    "grand_total_purchased",
    "payment_method_title",
    "subtotal_base",
    "shipping_and_handling_base",
)
MIN_WORD_LENGTH = 3

# The CSV export: every grid column, as numbers and ISO dates a spreadsheet or an ERP reads back.
EXPORT_COLUMNS = (
    ("increment_id", "Invoice"),
    ("created_at", "Invoice Date"),
    ("order_increment_id", "Order #"),
    ("order_created_at", "Order Date"),
    ("billing_name", "Bill-to Name"),
    ("state", "Status"),
    ("base_grand_total", "Grand Total (Base)"),
    ("base_currency_code", "Base Currency"),
    ("grand_total", "Grand Total (Purchased)"),
    ("order_currency_code", "Purchased Currency"),
    ("store_name", "Purchased From"),
    ("billing_address", "Billing Address"),
    ("shipping_address", "Shipping Address"),
    ("customer_name", "Customer Name"),
    ("customer_email", "Email"),
    ("payment_method", "Payment Method"),
    ("shipping_information", "Shipping Information"),
    ("subtotal", "Subtotal"),
    ("shipping_and_handling", "Shipping and Handling"),
)
EXPORT_CHUNK = 2000  # rows per round trip: what the web worker holds at a time, however long the export


def payment_methods() -> list[tuple[str, str]]:
    """The offline methods and every method a gateway is configured for."""
    codes = [*OFFLINE_METHODS, *(code for code in gateways() if code not in OFFLINE_METHODS)]
    return [(code, method_get(code).title) for code in codes]


def money_column(field: str, currency_field: str, label: str):
    """A grid column showing an amount in its currency, sorted by the amount."""

    @admin.display(description=label, ordering=field)
    def column(self, row):
        return format_price(getattr(row, field), getattr(row, currency_field) or "USD")

    return column


class PaymentMethodFilter(admin.SimpleListFilter):
    """The known methods (a DISTINCT over a million rows would be the slow way to list them)."""

    title = "Payment Method"
    parameter_name = "payment_method"

    def lookups(self, request, model_admin):
        return payment_methods()

    def queryset(self, request, queryset):
        return queryset.filter(payment_method=self.value()) if self.value() else queryset


class EmailStatusFilter(admin.SimpleListFilter):
    title = "E-mail"
    parameter_name = "email"

    def lookups(self, request, model_admin):
        return [
            ("sent", "Sent"),
            ("waiting", "Requested, not sent yet"),
            ("failed", "Failed"),
            ("none", "Not requested"),
        ]

    def queryset(self, request, queryset):
        # Failed as the column says it: the invoice's newest invoice e-mail failed (a later resend that went
        # out, or is on its way, takes the invoice off this list; an "Invoice Update" mail does not).
        invoice_mails = EmailOutbox.objects.filter(kind=INVOICE_NEW)
        newer = invoice_mails.filter(invoice_id=OuterRef("invoice_id"), pk__gt=OuterRef("pk"))
        failed = invoice_mails.filter(status=EmailOutbox.Status.FAILED).exclude(Exists(newer)).values("invoice_id")
        conditions = {
            "sent": Q(invoice__email_sent=1),
            "waiting": Q(invoice__send_email=1, invoice__email_sent__isnull=True) & ~Q(pk__in=failed),
            "failed": Q(pk__in=failed),
            "none": Q(invoice__send_email__isnull=True),
        }
        value = self.value()
        return queryset.filter(conditions[value]) if value in conditions else queryset


class InvoiceGridChangeList(ChangeList):
    def get_ordering(self, request, queryset):
        """A sorted column, then the row id in the same direction: every sort index is (column,
        entity_id), which serves "column, id" and "column DESC, id DESC" but neither Django's fixed
        "-pk" tie-break nor the default "newest first" it appends after the column."""
        ordering = super().get_ordering(request, queryset)
        default = [*queryset.query.order_by, "pk", "-pk"]
        chosen = [field for field in ordering if field not in default]
        if ORDER_VAR not in self.params or not chosen:
            return ordering
        first = chosen[0]
        descending = first.descending if hasattr(first, "descending") else str(first).startswith("-")
        return [*chosen, "-pk" if descending else "pk"]

    def url_for_result(self, result):
        """A row opens the invoice page."""
        return reverse("admin:sales_invoice_change", args=[result.pk], current_app=self.model_admin.admin_site.name)

    def get_results(self, request):
        super().get_results(request)
        cap = NoFullCountPaginator.CAP
        self.result_count_label = f"{cap:,}+" if self.result_count > cap else f"{self.result_count:,}"
        attach_email_status(self.result_list)


def attach_email_status(rows: list[InvoiceGrid]) -> None:
    """The E-mail column of a page of rows, in one query: Magento's email_sent, or the outbox's
    word on the newest invoice e-mail of the invoice (not an "Invoice Update" mail)."""
    newest = EmailOutbox.objects.filter(invoice_id=OuterRef("pk"), kind=INVOICE_NEW).order_by("-pk")
    states = {
        row["pk"]: row
        for row in Invoice.objects.filter(pk__in=[row.pk for row in rows])
        .annotate(
            outbox_status=Subquery(newest.values("status")[:1]), outbox_attempts=Subquery(newest.values("attempts")[:1])
        )
        .values("pk", "send_email", "email_sent", "outbox_status", "outbox_attempts")
    }
    for row in rows:
        vars(row)["email"] = states.get(row.pk, {})  # read by the column, email_status


class InvoiceGridAdmin(ReadOnlyAdmin):
    """Not registered on the site: ``InvoiceAdmin`` serves it at Sales > Invoices."""

    list_display_links = ("increment_id",)
    list_filter = (
        "state",
        "store",
        ("created_at", DateRangeFilter),
        ("order_created_at", DateRangeFilter),
        PaymentMethodFilter,
        EmailStatusFilter,
        ("base_grand_total", AmountRangeFilter),
        ("grand_total", AmountRangeFilter),
    )
    search_fields = ("keywords",)  # the box; the search itself is get_search_results
    sortable_by = SORTABLE_COLUMNS
    search_help_text = "Invoice #, order #, bill-to name, addresses, customer name or e-mail"
    # Newest first, read from the (created_at, entity_id) index: with "-pk" the planner walks the
    # primary key past every row outside an invoice-date filter (it cannot know ids follow dates).
    ordering = ("-created_at", "-pk")
    actions = ["pdf_invoices", "resend_invoice_email", "export_csv"]
    change_list_template = "admin/sales/invoicegrid/change_list.html"

    # Permissions are the invoice's: the grid is a way of reading invoices.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("sales.view_invoice")

    def has_email_permission(self, request) -> bool:
        return request.user.has_perm("sales.email_invoice")

    def get_changelist(self, request, **kwargs):
        return InvoiceGridChangeList

    def get_list_display(self, request):
        chosen = set(request.session.get(COLUMNS_SESSION_KEY, []))
        return [name for name, _label in DEFAULT_COLUMNS] + [
            name for name, _label in OPTIONAL_COLUMNS if name in chosen
        ]

    def get_search_results(self, request, queryset, search_term):
        """Every word must appear in Magento's full-text columns (trigram-indexed on PostgreSQL).
        Words under 3 characters are not searched, as in Magento's MySQL full-text search: no
        trigram index can serve them, so each would read the whole grid."""
        words = keyword_words(search_term)
        short = [word for word in words if len(word) < MIN_WORD_LENGTH]
        if short and request is not None:
            listed = ", ".join(f'"{word}"' for word in short)
            messages.warning(request, f"Words shorter than {MIN_WORD_LENGTH} characters are not searched: {listed}.")
        for word in words:
            if len(word) >= MIN_WORD_LENGTH:
                queryset = queryset.filter(keywords__contains=word)
        return queryset, False

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and "_set_columns" in request.POST:
            allowed = {name for name, _label in OPTIONAL_COLUMNS}
            request.session[COLUMNS_SESSION_KEY] = [name for name in request.POST.getlist("column") if name in allowed]
            return HttpResponseRedirect(request.get_full_path())
        if request.GET.get("_export") == "csv":
            return self.export_view(request)
        chosen = set(request.session.get(COLUMNS_SESSION_KEY, []))
        extra_context = {
            **(extra_context or {}),
            "optional_columns": [(name, label, name in chosen) for name, label in OPTIONAL_COLUMNS],
            "export_query": self.export_query(request),
        }
        return super().changelist_view(request, extra_context)

    @staticmethod
    def export_query(request) -> str:
        query = request.GET.copy()
        query.pop("p", None)
        query["_export"] = "csv"
        return query.urlencode()

    def export_view(self, request):
        """The toolbar's Export CSV: every row the current filters and search select, streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        request.GET = request.GET.copy()
        del request.GET["_export"]
        changelist = self.get_changelist_instance(request)
        return csv_response(changelist.queryset)

    @admin.action(permissions=["view"], description="Export CSV")
    def export_csv(self, request, queryset):
        return csv_response(queryset)

    def too_many(self, request, queryset, limit: int, what: str) -> bool:
        """A selection over ``limit`` ("select all" of a filter over a million rows) is refused with a
        message: the action runs inside the request, so it must stay bounded."""
        if queryset[limit : limit + 1].exists():
            self.message_user(
                request,
                f"{what} takes at most {limit:,} invoices at a time; narrow the selection with the filters.",
                messages.ERROR,
            )
            return True
        return False

    @admin.action(permissions=["view"], description="PDF Invoices")
    def pdf_invoices(self, request, queryset):
        if self.too_many(request, queryset, PDF_ACTION_MAX, "PDF Invoices"):
            return None
        invoices = Invoice.objects.filter(pk__in=queryset.values("pk")).order_by("-pk")
        return pdf_response(invoices_pdf(invoices))

    @admin.action(permissions=["email"], description="Resend invoice e-mail")
    def resend_invoice_email(self, request, queryset):
        if self.too_many(request, queryset, RESEND_ACTION_MAX, "Resend invoice e-mail"):
            return None
        invoices = list(queryset.values_list("pk", "increment_id"))
        queued = 0
        for invoice_id, increment_id in invoices:
            try:
                with admin_action_recorded(
                    request,
                    action=AuditAction.INVOICE_EMAIL_RESEND,
                    model=Invoice,
                    object_id=invoice_id,
                    object_repr=f"#{increment_id}",  # as str(invoice)
                    detail="grid action",
                ):
                    invoice_email_send(invoice_id=invoice_id)
            except DomainError as refused:
                self.message_user(request, f"#{increment_id}: {refused.message}", messages.ERROR)
            else:
                queued += 1
        self.message_user(request, f"Queued the e-mail of {queued} invoice(s).", messages.SUCCESS)

    # Columns
    @admin.display(description="Status", ordering="state")
    def status(self, row):
        return row.state_label

    grand_total_base = money_column("base_grand_total", "base_currency_code", "Grand Total (Base)")
    grand_total_purchased = money_column("grand_total", "order_currency_code", "Grand Total (Purchased)")
    subtotal_base = money_column("subtotal", "base_currency_code", "Subtotal")
    shipping_and_handling_base = money_column("shipping_and_handling", "base_currency_code", "Shipping and Handling")

    @admin.display(description="Payment Method", ordering="payment_method")
    def payment_method_title(self, row):
        return method_get(row.payment_method).title if row.payment_method else ""

    @admin.display(description="E-mail")
    def email_status(self, row):
        email = getattr(row, "email", {})
        if email.get("outbox_status"):
            attempts = email["outbox_attempts"]
            label = EmailOutbox.Status(email["outbox_status"]).label
            return f"{label} ({attempts} attempt{'' if attempts == 1 else 's'})"
        if email.get("email_sent") == 1:
            return "Sent"
        return "Pending" if email.get("send_email") else "Not requested"


def export_values(rows: QuerySet) -> Iterator[tuple]:
    """Every row, EXPORT_CHUNK per round trip through a server-side cursor held inside one transaction.

    Not ``rows.iterator()``: with DISABLE_SERVER_SIDE_CURSORS (DATABASE_SESSION_FEATURES off) it reads the
    whole result into the worker first. Not keyset pages: a sort column may hold NULLs or change between
    pages, skipping a row or exporting it twice. A transaction-mode pooler keeps a transaction on one server
    session from BEGIN to COMMIT, so the cursor is found there; its one statement sees one snapshot, so the
    file is consistent without REPEATABLE READ. The price: an export holds a server connection and an open
    transaction for as long as its client takes to download it."""
    with transaction.atomic(using=rows.db):
        yield from ValuesListIterable(rows, chunked_fetch=True, chunk_size=EXPORT_CHUNK)


def csv_rows(queryset: QuerySet[InvoiceGrid]) -> Iterator[list]:
    yield [label for _name, label in EXPORT_COLUMNS]
    zone = timezone.get_current_timezone()
    money = {"base_grand_total", "grand_total", "subtotal", "shipping_and_handling"}
    dates = {"created_at", "order_created_at"}
    names = [name for name, _label in EXPORT_COLUMNS]
    for values in export_values(queryset.values_list(*names)):
        row: list[str | Decimal] = []
        for name, value in zip(names, values, strict=True):
            if value is None:
                row.append("")
            elif name in money:
                row.append(round_price(value))  # a Decimal: written as a number, never neutralised as text
            elif name in dates:
                row.append(value.astimezone(zone).isoformat(timespec="seconds"))
            elif name == "state":
                row.append(InvoiceGrid(state=value).state_label)
            else:
                row.append(value)
        yield row


def csv_response(queryset: QuerySet[InvoiceGrid]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(csv_rows(queryset)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="invoice_{timezone.now():%Y-%m-%d_%H-%M-%S}.csv"'
    return response
