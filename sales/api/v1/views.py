"""Magento's /V1 routes: parse the request, call one service or selector, render Magento's JSON.

A body is parsed only by the route's input serializer (``sales.api.v1.inputs``): ``is_valid`` raises, and the
service takes ``validated_data``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from audit.models import AuditAction
from integrations.exceptions import InvalidCredentials
from integrations.idempotency import IdempotencyKeyMixin
from integrations.services import admin_token_create
from payments.selectors import transaction_get, transactions_with_children
from sales import selectors
from sales.api import schema as doc
from sales.api import throttling
from sales.api.v1 import inputs
from sales.api.v1.base import MagentoView
from sales.api.v1.errors import envelope
from sales.api.v1.representations import (
    invoice_comment_dict,
    invoice_documents,
    order_dict,
    status_history_dict,
    transaction_dict,
)
from sales.api.v1.search_criteria import apply_search_criteria, parse_search_criteria
from sales.errors import NoSuchEntityError
from sales.models import Invoice, Order
from sales.services import (
    invoice_cancel,
    invoice_capture,
    invoice_comment_add,
    invoice_email_send,
    invoice_order,
    invoice_void,
    order_comment_add,
    order_create,
)

SIGN_IN_FAILED = InvalidCredentials.message


class AdminTokenView(MagentoView):
    """``POST /V1/integration/admin/token``: the token as a bare JSON string."""

    default_acl_resource = "anonymous"
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = throttling.TOKEN_THROTTLES

    @extend_schema(
        summary="Get an admin token",
        request=inputs.AdminCredentialsInput,
        responses={200: OpenApiResponse(doc.BARE_TOKEN), **doc.v1_errors(400, 401, 404, 429)},
        examples=[
            OpenApiExample("The demo admin", value={"username": "admin", "password": "admin123"}, request_only=True)
        ],
    )
    def post(self, request, **kwargs):
        credentials = inputs.AdminCredentialsInput(data=request.data)
        credentials.is_valid(raise_exception=True)
        try:
            token = admin_token_create(**credentials.validated_data)
        except InvalidCredentials:
            return Response(envelope(SIGN_IN_FAILED), status=401)
        return Response(token)


# -- orders ------------------------------------------------------------------------------------

ORDER_SEARCH_FIELDS = {
    name: name
    for name in (
        "increment_id",
        "state",
        "status",
        "store_id",
        "customer_id",
        "customer_email",
        "customer_firstname",
        "customer_lastname",
        "created_at",
        "updated_at",
        "grand_total",
        "base_grand_total",
        "subtotal",
        "total_paid",
        "total_invoiced",
        "order_currency_code",
        "base_currency_code",
        "is_virtual",
        "customer_group_id",
        "quote_id",
        "ext_order_id",
    )
} | {"entity_id": "pk"}


def import_order_response(view: MagentoView) -> Response:
    body = inputs.OrderImportInput(data=view.request.data, context={"store_id": view.store_id})
    body.is_valid(raise_exception=True)
    order = order_create(**body.validated_data)
    return Response(order_dict(selectors.order_get(order_id=order.pk)))


def imported_order(data: dict):
    return Order, data["entity_id"], f"#{data['increment_id']}"


IMPORT_ORDER_SCHEMA = extend_schema(
    summary="Import an order",
    description="Stores the order sent in the shape `GET /V1/orders/{id}` returns and answers it as stored. "
    "At most `ORDER_MAX_ITEMS` items (1,000 unless configured).",
    parameters=[doc.IDEMPOTENCY_KEY],
    request=inputs.OrderImportInput,
    responses={200: doc.OrderSerializer, **doc.v1_errors(400, 401, 404, 409, 422, 429)},
)


class OrderCollectionView(IdempotencyKeyMixin, MagentoView):
    """``GET /V1/orders`` (searchCriteria) and ``POST /V1/orders`` (import)."""

    acl_resources = {"GET": "Magento_Sales::actions_view", "POST": "Magento_Sales::create"}
    audit_actions = {"POST": AuditAction.ORDER_IMPORT}
    answered_object = staticmethod(imported_order)

    @extend_schema(
        summary="Search orders",
        parameters=doc.search_criteria_parameters(ORDER_SEARCH_FIELDS, required=True),
        responses={200: doc.OrderSearchResultSerializer, **doc.v1_errors(400, 401, 404, 429)},
    )
    def get(self, request, **kwargs):
        criteria = parse_search_criteria(request.query_params)
        page, total_count = apply_search_criteria(selectors.orders_with_rows(), criteria, fields=ORDER_SEARCH_FIELDS)
        return Response(
            {
                "items": [order_dict(order) for order in page],
                "search_criteria": criteria.as_dict(),
                "total_count": total_count,
            }
        )

    @IMPORT_ORDER_SCHEMA
    def post(self, request, **kwargs):
        return import_order_response(self)


class OrderCreateView(IdempotencyKeyMixin, MagentoView):
    """``PUT /V1/orders/create``: Magento's other import route (its only method)."""

    default_acl_resource = "Magento_Sales::create"
    idempotent_methods = frozenset({"PUT"})  # a PUT that creates: a repeat must not make a second order
    audit_actions = {"PUT": AuditAction.ORDER_IMPORT}
    answered_object = staticmethod(imported_order)

    @IMPORT_ORDER_SCHEMA
    def put(self, request, **kwargs):
        return import_order_response(self)


class OrderDetailView(MagentoView):
    default_acl_resource = "Magento_Sales::actions_view"

    @extend_schema(
        summary="Get an order",
        parameters=[doc.ORDER_ID],
        responses={200: doc.OrderSerializer, **doc.v1_errors(401, 404, 429)},
    )
    def get(self, request, order_id, **kwargs):
        return Response(order_dict(selectors.order_get(order_id=order_id)))


class OrderStatusView(MagentoView):
    default_acl_resource = "Magento_Sales::actions_view"

    @extend_schema(
        summary="Get an order's status",
        parameters=[doc.ORDER_ID],
        responses={200: OpenApiResponse(doc.BARE_STATUS), **doc.v1_errors(401, 404, 429)},
    )
    def get(self, request, order_id, **kwargs):
        return Response(selectors.order_status_get(order_id=order_id))


class OrderCommentsView(IdempotencyKeyMixin, MagentoView):
    acl_resources = {"GET": "Magento_Sales::actions_view", "POST": "Magento_Sales::comment"}
    audit_actions = {"POST": AuditAction.ORDER_COMMENT_ADD}

    @extend_schema(
        summary="List an order's history",
        parameters=[doc.ORDER_ID],
        responses={200: doc.OrderStatusHistoryListSerializer, **doc.v1_errors(401, 404, 429)},
    )
    def get(self, request, order_id, **kwargs):
        comments = selectors.order_comments(order_id=order_id)
        return Response({"items": [status_history_dict(c) for c in comments], "total_count": len(comments)})

    @extend_schema(
        summary="Add a comment to an order's history",
        parameters=[doc.ORDER_ID, doc.IDEMPOTENCY_KEY],
        request=inputs.OrderCommentAddInput,
        responses={200: OpenApiResponse(doc.TRUE), **doc.v1_errors(400, 401, 404, 409, 422, 429)},
    )
    def post(self, request, order_id, **kwargs):
        body = inputs.OrderCommentAddInput(data=request.data)
        body.is_valid(raise_exception=True)
        order_comment_add(order_id=order_id, **body.validated_data)
        return Response(True)


# -- invoices ----------------------------------------------------------------------------------


class OrderInvoiceView(IdempotencyKeyMixin, MagentoView):
    """``POST /V1/order/{orderId}/invoice``: Magento's InvoiceOrder; answers the bare invoice id."""

    default_acl_resource = "Magento_Sales::invoice"
    audit_actions = {"POST": AuditAction.INVOICE_CREATE}

    def answered_object(self, data):
        return Invoice, data, ""  # the new invoice's bare id; a refusal names the URL's order

    @extend_schema(
        summary="Invoice an order (Magento's InvoiceOrder)",
        parameters=[doc.ORDER_ID, doc.IDEMPOTENCY_KEY],
        request=inputs.InvoiceOrderInput,
        responses={200: OpenApiResponse(doc.BARE_ID), **doc.v1_errors(400, 401, 404, 409, 422, 429)},
    )
    def post(self, request, order_id, **kwargs):
        body = inputs.InvoiceOrderInput(data=request.data)
        body.is_valid(raise_exception=True)
        invoice = invoice_order(order_id=order_id, **body.validated_data)
        return Response(invoice.pk)


INVOICE_SEARCH_FIELDS = {
    name: name
    for name in (
        "increment_id",
        "state",
        "store_id",
        "order_id",
        "created_at",
        "updated_at",
        "grand_total",
        "base_grand_total",
        "subtotal",
        "base_subtotal",
        "email_sent",
        "send_email",
        "can_void_flag",
        "billing_address_id",
        "shipping_address_id",
        "order_currency_code",
        "base_currency_code",
        "transaction_id",
        "total_qty",
    )
} | {"entity_id": "pk"}


class InvoiceCollectionView(MagentoView):
    default_acl_resource = "Magento_Sales::sales_invoice"

    @extend_schema(
        summary="Search invoices",
        parameters=doc.search_criteria_parameters(INVOICE_SEARCH_FIELDS, required=True),
        responses={200: doc.InvoiceSearchResultSerializer, **doc.v1_errors(400, 401, 404, 429)},
    )
    def get(self, request, **kwargs):
        criteria = parse_search_criteria(request.query_params)
        page, total_count = apply_search_criteria(Invoice.objects.all(), criteria, fields=INVOICE_SEARCH_FIELDS)
        return Response(
            {
                "items": invoice_documents(list(page.values_list("pk", flat=True))),
                "search_criteria": criteria.as_dict(),
                "total_count": total_count,
            }
        )


class InvoiceDetailView(MagentoView):
    default_acl_resource = "Magento_Sales::sales_invoice"

    @extend_schema(
        summary="Get an invoice",
        parameters=[doc.INVOICE_ID],
        responses={200: doc.InvoiceSerializer, **doc.v1_errors(401, 404, 429)},
    )
    def get(self, request, invoice_id, **kwargs):
        documents = invoice_documents([invoice_id])
        if not documents:
            raise NoSuchEntityError(entity="invoice")
        return Response(documents[0])


class InvoiceCommentsView(MagentoView):
    default_acl_resource = "Magento_Sales::sales_invoice"

    @extend_schema(
        summary="List an invoice's comments",
        parameters=[doc.INVOICE_ID],
        responses={200: doc.InvoiceCommentListSerializer, **doc.v1_errors(401, 404, 429)},
    )
    def get(self, request, invoice_id, **kwargs):
        comments = selectors.invoice_comments(invoice_id=invoice_id)
        return Response({"items": [invoice_comment_dict(c) for c in comments], "total_count": len(comments)})


class InvoiceCommentCreateView(IdempotencyKeyMixin, MagentoView):
    """``POST /V1/invoices/comments`` with ``{"entity": {...}}``: answers the saved comment.

    Magento 2.4 guards it with ``sales_invoice`` (view); a write needs ``Magento_Sales::comment`` here,
    as the admin's comment form needs ``sales.comment_invoice``.
    """

    default_acl_resource = "Magento_Sales::comment"
    audit_actions = {"POST": AuditAction.INVOICE_COMMENT_ADD}

    def answered_object(self, data):
        return Invoice, data["parent_id"], ""

    @extend_schema(
        summary="Add a comment to an invoice",
        parameters=[doc.IDEMPOTENCY_KEY],
        request=inputs.InvoiceCommentAddInput,
        responses={200: doc.InvoiceCommentSerializer, **doc.v1_errors(400, 401, 404, 409, 422, 429)},
    )
    def post(self, request, **kwargs):
        body = inputs.InvoiceCommentAddInput(data=request.data)
        body.is_valid(raise_exception=True)
        comment = invoice_comment_add(**body.validated_data)
        return Response(invoice_comment_dict(comment))


class InvoiceCaptureView(IdempotencyKeyMixin, MagentoView):
    """``POST /V1/invoices/{id}/capture``: capture a Pending invoice (saved, unlike Magento #31497).

    Magento 2.4 asks only ``sales_invoice`` (view) for it; capturing takes ``Magento_Sales::capture`` here.
    """

    default_acl_resource = "Magento_Sales::capture"
    audit_actions = {"POST": AuditAction.INVOICE_CAPTURE}

    @doc.invoice_action("Capture a Pending invoice")
    def post(self, request, invoice_id, **kwargs):
        invoice_capture(invoice_id=invoice_id)
        return Response(True)


class InvoiceVoidView(IdempotencyKeyMixin, MagentoView):
    """``POST /V1/invoices/{id}/void``: void an online-captured Paid invoice.

    Magento has no resource of its own for it (2.4 asks ``sales_invoice``); ours maps to ``sales.void_invoice``.
    """

    default_acl_resource = "Counterfoil_Sales::void"
    audit_actions = {"POST": AuditAction.INVOICE_VOID}

    @doc.invoice_action("Void an online-captured invoice")
    def post(self, request, invoice_id, **kwargs):
        invoice_void(invoice_id=invoice_id)
        return Response(True)


class InvoiceCancelView(IdempotencyKeyMixin, MagentoView):
    """``POST /V1/invoices/{id}/cancel``: Counterfoil's route for the admin's Cancel (Magento has no REST one)."""

    default_acl_resource = "Magento_Sales::cancel"
    audit_actions = {"POST": AuditAction.INVOICE_CANCEL}

    @doc.invoice_action("Cancel a Pending invoice")
    def post(self, request, invoice_id, **kwargs):
        invoice_cancel(invoice_id=invoice_id)
        return Response(True)


TRANSACTION_SEARCH_FIELDS = {
    "transaction_id": "pk",
    "parent_id": "parent_id",
    "order_id": "order_id",
    "payment_id": "payment_id",
    "txn_id": "txn_id",
    "txn_type": "txn_type",
    "is_closed": "is_closed",
    "created_at": "created_at",
}


class TransactionCollectionView(MagentoView):
    default_acl_resource = "Magento_Sales::transactions_fetch"

    @extend_schema(
        summary="Search payment transactions",
        parameters=doc.search_criteria_parameters(TRANSACTION_SEARCH_FIELDS, required=True),
        responses={200: doc.TransactionSearchResultSerializer, **doc.v1_errors(400, 401, 404, 429)},
    )
    def get(self, request, **kwargs):
        criteria = parse_search_criteria(request.query_params)
        page, total_count = apply_search_criteria(
            transactions_with_children(), criteria, fields=TRANSACTION_SEARCH_FIELDS
        )
        return Response(
            {
                "items": [transaction_dict(transaction) for transaction in page],
                "search_criteria": criteria.as_dict(),
                "total_count": total_count,
            }
        )


class TransactionDetailView(MagentoView):
    default_acl_resource = "Magento_Sales::transactions_fetch"

    @extend_schema(
        summary="Get a payment transaction",
        parameters=[doc.TRANSACTION_ID],
        responses={200: doc.TransactionSerializer, **doc.v1_errors(401, 404, 429)},
    )
    def get(self, request, transaction_id, **kwargs):
        transaction = transaction_get(transaction_id=transaction_id)
        if transaction is None:
            raise NoSuchEntityError(entity="transaction")
        return Response(transaction_dict(transaction))


class InvoiceEmailsView(IdempotencyKeyMixin, MagentoView):
    """``POST /V1/invoices/{id}/emails``: queue the invoice e-mail again; true once queued.

    Magento answers whether it sent synchronously; the outbox sends after commit, with retries.
    An ``Idempotency-Key`` header makes repeats of one request queue one mail: a repeat replays the
    stored answer, and the outbox's own key check stays behind it (a retry after a failed first run).
    Magento 2.4 asks ``sales_invoice`` (view); sending mail takes ``Magento_Sales::emails`` here.
    """

    default_acl_resource = "Magento_Sales::emails"
    audit_actions = {"POST": AuditAction.INVOICE_EMAIL_RESEND}

    @doc.invoice_action("Send the invoice e-mail again")
    def post(self, request, invoice_id, **kwargs):
        invoice_email_send(invoice_id=invoice_id, key=self.idempotency_key)
        return Response(True)
