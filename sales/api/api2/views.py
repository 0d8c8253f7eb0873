"""``/api2/invoice``: list, look up, create and resend the e-mail of invoices (seed 004).

The same services and selectors as /V1; this door only speaks its own parameters and errors. A body is parsed
only by the route's input serializer (``sales.api.api2.inputs``): ``is_valid`` raises, the service takes
``validated_data``.
"""

from __future__ import annotations

import math
from decimal import Decimal
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
from sales.api.api2.filters import MAX_PAGE, SORT_FIELDS, Cursor, InvoiceFilter, invalid_cursor
from sales.api.audit import AuditedWrites
from sales.api.auth import IsApiConsumer
from sales.api.json import DecimalJSONParser, DecimalJSONRenderer
from sales.api.v1.representations import invoice_documents
from sales.api.validation import request_nul_character_path
from sales.errors import NoSuchEntityError
from sales.models import Invoice
from sales.services import invoice_email_send, invoice_order

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
LIST_PARAMETERS = {"page", "cursor", "limit", "include_pagination", "sort", "direction", *InvoiceFilter.base_filters}
LOOKUP_PARAMETERS = {"id", "increment_id"}


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


def _positive_int(value, name: str, *, maximum: int | None = None) -> int:
    text = str(value).strip()
    # ASCII digits only ("²" is a digit to str.isdigit, not to int); through Decimal, as int() refuses past 4300 digits.
    number = int(Decimal(text)) if text.isascii() and text.isdigit() else 0
    if number < 1 or (maximum is not None and number > maximum):
        bound = f" from 1 to {maximum}" if maximum else " of at least 1"
        raise Api2Error(f"Invalid {name}: expected a whole number{bound}")
    return number


class InvoiceListView(Api2View):
    """``GET /api2/invoice`` and ``/api2/invoices``: a lookup by id or increment_id, else a list."""

    default_acl_resource = "Magento_Sales::sales_invoice"

    @extend_schema(
        summary="List invoices, or look one up",
        description='With `id` or `increment_id`: `{"invoice": {...}}`; otherwise a page of `invoices` '
        "filtered, sorted and paged by the other parameters. Any other parameter is 400.",
        parameters=doc.api2_list_parameters(InvoiceFilter.base_filters),
        responses={200: OpenApiResponse(doc.API2_LIST_RESPONSE), **doc.api2_errors(400, 401, 404, 429)},
    )
    def get(self, request):
        params = request.query_params
        unknown = sorted(set(params) - LIST_PARAMETERS - LOOKUP_PARAMETERS)
        if unknown:
            raise Api2Error(f"Unknown parameter: {unknown[0]}")
        if LOOKUP_PARAMETERS & set(params):
            return self.lookup(params)
        return self.list(params)

    def lookup(self, params):
        if "id" in params and "increment_id" in params:
            raise Api2Error("Use either id or increment_id, not both")
        if "id" in params:
            invoice_id: int | None = _positive_int(params["id"], "id")
        else:
            invoice_id = selectors.invoice_id_by_increment_id(params["increment_id"])
            if invoice_id is None:
                raise NoSuchEntityError(entity="invoice")
        invoices = api2_invoices([invoice_id])
        if not invoices:
            raise NoSuchEntityError(entity="invoice")
        return Response({"invoice": invoices[0]})

    def list(self, params):
        if "cursor" in params and "page" in params:
            raise invalid_cursor()
        page = _positive_int(params.get("page", 1), "page", maximum=MAX_PAGE)
        limit = _positive_int(params.get("limit", DEFAULT_LIMIT), "limit", maximum=MAX_LIMIT)
        sort = params.get("sort", "entity_id")
        direction = params.get("direction", "desc").lower()
        if sort not in SORT_FIELDS:
            raise Api2Error(f"Invalid sort: expected one of {', '.join(SORT_FIELDS)}")
        if direction not in ("asc", "desc"):
            raise Api2Error("Invalid direction: expected asc or desc")
        include_pagination = params.get("include_pagination", "0")
        if include_pagination not in ("0", "1", "true", "false"):
            raise Api2Error("Invalid include_pagination: expected 0 or 1")

        filterset = InvoiceFilter(params, queryset=Invoice.objects.all())
        if not filterset.is_valid():
            name, problems = next(iter(filterset.errors.items()))
            raise Api2Error(f"Invalid {name}: {problems[0]}")
        descending = direction == "desc"
        filtered = filterset.qs
        after: tuple[int, Any] | None
        if "cursor" in params:
            cursor = Cursor.decode(params["cursor"], sort=sort, descending=descending)
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
        if include_pagination in ("1", "true") and "cursor" not in params:
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
