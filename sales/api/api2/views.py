"""``/api2/invoice``: list, look up, create and resend the e-mail of invoices (seed 004).

The same services and selectors as /V1; this door only speaks its own parameters and errors. A body, and the
list's query string, are parsed only by the route's input serializers (``sales.api.api2.inputs``): they refuse
(``InputInvalid``) or yield what the service or selector takes; django-filter's ``InvoiceFilter`` reads the
list's filters.
"""

from __future__ import annotations

import math
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction, AuditChannel
from integrations.idempotency import IdempotencyKeyMixin
from sales import selectors
from sales.api import schema as doc
from sales.api import throttling
from sales.api.api2 import errors, inputs
from sales.api.api2.errors import Api2Error
from sales.api.api2.filters import Cursor, InvoiceFilter
from sales.api.audit import AuditedWrites
from sales.api.auth import IsApiConsumer
from sales.api.json import DecimalJSONParser, DecimalJSONRenderer
from sales.api.v1.representations import invoice_documents
from sales.api.validation import request_nul_character_path
from sales.errors import NoSuchEntityError
from sales.models import Invoice
from sales.services import invoice_email_send, invoice_order


def api2_invoices(invoice_ids) -> list:
    """These invoices, in this order, as /V1 writes them plus the order's number: one query whatever their number,
    rows or comments."""
    return invoice_documents(invoice_ids, order_number_key="order_increment_id")


def nul_character_error(where: str) -> Api2Error:
    """A NUL character (no text column can store it) is bad input, a 400 naming where it was."""
    return Api2Error(f"Invalid {where}: a NUL character")


class Api2View(AuditedWrites, APIView):
    """An /api2 route; its ACL resources are declared like /V1's (``default_acl_resource``, ``acl_resources``)."""

    acl_resources: dict[str, str | tuple[str, ...]] = {}
    default_acl_resource: str | tuple[str, ...] = "Magento_Sales::sales"
    renderer_classes = [DecimalJSONRenderer]
    parser_classes = [DecimalJSONParser]
    permission_classes = [IsApiConsumer]
    throttle_classes = throttling.DOOR_THROTTLES
    schema = doc.DoorSchema()
    audit_channel = AuditChannel.API2  # writes are recorded in the audit trail (sales.api.audit)

    def get_exception_handler(self):
        return errors.exception_handler  # /api2's errors, and 429 with Retry-After

    def handle_exception(self, exc):
        return super().handle_exception(errors.door_error(exc))  # the audit trail records /api2's error too

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        nul_in = request_nul_character_path(self)
        if nul_in is not None:
            raise nul_character_error(nul_in)


class InvoiceListView(Api2View):
    """``GET /api2/invoice`` and ``/api2/invoices``: a lookup by id or increment_id, else a list."""

    default_acl_resource = "Magento_Sales::sales_invoice"

    @extend_schema(
        summary="List invoices, or look one up",
        description='With `id` or `increment_id`: `{"invoice": {...}}`; otherwise a page of `invoices` '
        "filtered, sorted and paged by the other parameters. Any other parameter is 400.",
        parameters=[
            inputs.Api2InvoiceLookupQuery,
            inputs.Api2InvoiceListQuery,
            *doc.api2_filter_parameters(InvoiceFilter.base_filters),
        ],
        responses={200: OpenApiResponse(doc.API2_LIST_RESPONSE), **doc.api2_errors(400, 401, 404, 429)},
    )
    def get(self, request):
        params = request.query_params
        # Parsed by the class, not an instance: the route's hottest path (``InputSerializer.parse``).
        if inputs.LOOKUP_PARAMETERS & params.keys():
            return self.lookup(inputs.Api2InvoiceLookupQuery.parse(params))
        return self.list(params, inputs.Api2InvoiceListQuery.parse(params))

    def lookup(self, invoice_id: int):
        invoices = api2_invoices([invoice_id])
        if not invoices:
            raise NoSuchEntityError(entity="invoice")
        return Response({"invoice": invoices[0]})

    def list(self, params, query: inputs.InvoiceListQuery):
        page, limit, sort, descending = query.page, query.limit, query.sort, query.descending
        filterset = InvoiceFilter(params, queryset=Invoice.objects.all())
        if not filterset.is_valid():
            name, problems = next(iter(filterset.errors.items()))
            raise Api2Error(f"Invalid {name}: {problems[0]}")
        filtered = filterset.qs
        after: tuple[int, Any] | None
        if query.cursor is not None:
            cursor = Cursor.decode(query.cursor, sort=sort, descending=descending)
            assert cursor.invoice_id is not None  # a decoded cursor names its row (Cursor.decode refuses else)
            after, start = (cursor.invoice_id, cursor.value), 0
        else:
            cursor = Cursor(sort=sort, descending=descending)
            after, start = None, (page - 1) * limit
        keys = selectors.invoice_keys_after(
            filtered, column=cursor.column, descending=descending, count=limit + 1, after=after, offset=start
        )
        # One row more than the page says whether there is a next one; the page's last row is its cursor.
        next_cursor = None
        if len(keys) > limit:
            keys = keys[:limit]
            next_cursor = Cursor(sort, descending, *keys[-1]).encode()
        body: dict[str, Any] = {
            "invoices": api2_invoices([invoice_id for invoice_id, _ in keys]),
            "next_cursor": next_cursor,
        }
        # Seed 004's pagination describes a numbered page: its number, and the filtered list's total and pages.
        # The total does not depend on where a page starts, so a cursor page (it has no number) leaves the block
        # out rather than count up to a million rows again on every page of a walk: its first page carries it.
        if query.include_pagination and query.cursor is None:
            total = filtered.count()
            body["pagination"] = {"page": page, "limit": limit, "total": total, "pages": math.ceil(total / limit)}
        return Response(body)


class InvoiceCreateView(IdempotencyKeyMixin, Api2View):
    """``POST /api2/invoice/create``: a full or partial invoice; 201 ``{"invoice": {...}}``."""

    default_acl_resource = "Magento_Sales::invoice"
    audit_actions = {"POST": AuditAction.INVOICE_CREATE}

    @extend_schema(
        summary="Create an invoice",
        parameters=[doc.IDEMPOTENCY_KEY],
        request=inputs.Api2InvoiceCreateInput,
        responses={201: doc.Api2InvoiceCreatedSerializer, **doc.api2_errors(400, 401, 404, 409, 422, 429, 500)},
    )
    def post(self, request):
        body = inputs.Api2InvoiceCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = invoice_order(
            **body.validated_data,
            comment_in_order_history=True,  # accounting traceability: the source system in the history
        )
        self.audited_object = invoice  # the answer's document is written by the database: name it here
        [saved] = api2_invoices([invoice.pk])
        return Response({"invoice": saved}, status=status.HTTP_201_CREATED)


class InvoiceEmailView(IdempotencyKeyMixin, Api2View):
    """``POST /api2/invoice/email``: queue the invoice e-mail again; 202."""

    default_acl_resource = "Magento_Sales::emails"
    audit_actions = {"POST": AuditAction.INVOICE_EMAIL_RESEND}

    def answered_object(self, data):
        return Invoice, data["invoice_id"], ""

    @extend_schema(
        summary="Send the invoice e-mail again",
        parameters=[doc.IDEMPOTENCY_KEY],
        request=inputs.Api2InvoiceEmailInput,
        responses={202: doc.Api2EmailQueuedSerializer, **doc.api2_errors(400, 401, 404, 409, 422, 429)},
    )
    def post(self, request):
        body = inputs.Api2InvoiceEmailInput(data=request.data)
        body.is_valid(raise_exception=True)
        # The same key asks for one mail, however often: replayed above, and deduplicated by the outbox.
        invoice = invoice_email_send(**body.validated_data, key=self.idempotency_key)
        return Response({"invoice_id": invoice.pk, "queued": True}, status=status.HTTP_202_ACCEPTED)
