"""The OpenAPI 3 document of both doors (drf-spectacular): what each route takes and what it answers.

The doors render plain dicts (``sales.api.v1.representations``) rather than DRF serializers, so the
serializers here exist only to describe those dicts. The field lists are the representations' own and
each field's type comes from the model column it is read from, so the document follows the models:
amounts are JSON numbers (the renderer writes Decimals as exact numbers), Magento's 0/1 flags are
integers, datetimes are ``Y-m-d H:i:s`` strings, and a field whose value is null is left out (Magento
does the same), so only the columns that are never null are required.

Views carry ``extend_schema`` decorators naming these objects; nothing here changes behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers

from inventory.models import Source, SourceItem, Stock, StockSourceLink
from payments.models import Payment, Transaction
from sales.api.inputs import InputSerializer
from sales.api.v1.representations import (
    INVOICE_COMMENT_FIELDS,
    INVOICE_FIELDS,
    INVOICE_ITEM_FIELDS,
    ORDER_SHIPPING_TOTAL,
    STATUS_HISTORY_FIELDS,
)
from sales.api.v1.search_criteria import CONDITION_TYPES, MAX_PAGE_SIZE
from sales.models import (
    Invoice,
    InvoiceComment,
    InvoiceItem,
    InvoiceState,
    Order,
    OrderAddress,
    OrderItem,
    OrderStatusHistory,
)

ViewMethod = TypeVar("ViewMethod", bound=Callable[..., Any])

BEARER = "bearerAuth"
MAGENTO_DATETIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
TAG_AUTH = "V1 admin token"
TAG_ORDERS = "V1 orders"
TAG_INVOICES = "V1 invoices"
TAG_TRANSACTIONS = "V1 transactions"
TAG_INVENTORY = "V1 inventory"
TAG_API2 = "api2 invoice"


# -- authentication and operation ids -----------------------------------------------------------------------


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.authentication.BearerTokenAuthentication"
    name = BEARER

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An admin token (`POST /rest/V1/integration/admin/token`, 4 hours) or, on /api2, an "
            "integration token issued in the admin. Each route needs its Magento ACL resource.",
        }


class DoorSchema(AutoSchema):
    """Operation ids and tags from the path. Every /V1 route is served under ``/rest/V1/`` and again under
    ``/rest/{store_code}/V1/``: the second gets its own id (``..._in_store``) and the ``store_code`` parameter."""

    def get_operation_id(self):
        words = [word.strip("{}").replace("-", "_") for word in self.path.strip("/").split("/")]
        words = [word for word in words if word not in ("rest", "store_code")]
        operation_id = "_".join([*words, self.method.lower()])
        return f"{operation_id}_in_store" if "{store_code}" in self.path else operation_id

    def get_serializer_name(self, serializer, direction):
        # An input serializer is named for the body it reads: InvoiceOrderInput documents "InvoiceOrderRequest".
        name = super().get_serializer_name(serializer, direction)
        return name.removesuffix("Input") if isinstance(serializer, InputSerializer) else name

    def get_tags(self):
        path = self.path
        if path.startswith("/api2/"):
            return [TAG_API2]
        for marker, tag in (
            ("/integration/", TAG_AUTH),
            ("/inventory/", TAG_INVENTORY),
            ("/transactions", TAG_TRANSACTIONS),
            ("/invoice", TAG_INVOICES),
        ):
            if marker in path:
                return [tag]
        return [TAG_ORDERS]

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if "{store_code}" in self.path:
            parameters = [STORE_CODE, *parameters]
        return parameters


# -- model columns as response fields ----------------------------------------------------------------------


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": 1})
class FlagField(serializers.IntegerField):
    """Magento's boolean columns, written 0 or 1."""


@extend_schema_field({"type": "string", "pattern": MAGENTO_DATETIME, "example": "2026-01-31 09:30:00"})
class MagentoDateTimeField(serializers.CharField):
    """A datetime in UTC, as Magento writes it: ``Y-m-d H:i:s``."""


@extend_schema_field({})
class AnyJSONField(serializers.JSONField):
    """Any JSON value."""


@extend_schema_field({"type": "number"})
class NumberField(serializers.DecimalField):
    """An exact decimal written as a JSON number (``1917.6``, ``165``), never a string."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=None, decimal_places=None, coerce_to_string=False, **kwargs)


def _model_field(model: type[models.Model], name: str) -> models.Field:
    """The column a representation reads ``name`` from: a field, a foreign key's attname, or the pk."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        for column in model._meta.concrete_fields:
            if column.attname == name:
                return column
        if name in ("entity_id", "item_id") and model._meta.pk is not None:
            return model._meta.pk
        raise
    if not isinstance(field, models.Field):
        raise FieldDoesNotExist(f"{model.__name__}.{name} is a relation, not a column")
    return field


def column_field(field: models.Field, *, flags: bool = True) -> serializers.Field:
    """A response field for a column's rendered value (see the module docstring); ``flags=False`` for
    representations that write booleans as JSON booleans (Magento's InventoryApi does)."""
    required, help_text = not field.null, str(field.help_text) or None
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if isinstance(field, models.DecimalField):
        return NumberField(required=required, help_text=help_text)
    if isinstance(field, models.BooleanField):
        if flags:
            return FlagField(required=required, help_text=help_text)
        return serializers.BooleanField(required=required, help_text=help_text)
    if isinstance(field, models.IntegerField | models.AutoField):
        if field.choices:
            return serializers.ChoiceField(
                choices=[value for value, _ in field.choices], required=required, help_text=help_text
            )
        return serializers.IntegerField(required=required, help_text=help_text)
    if isinstance(field, models.DateTimeField):
        return MagentoDateTimeField(required=required, help_text=help_text)
    if isinstance(field, models.JSONField):
        return AnyJSONField(required=required, help_text=help_text)
    return serializers.CharField(required=required, help_text=help_text)


def columns_serializer(
    name: str,
    model: type[models.Model],
    names: Iterable[str],
    *,
    extra: Mapping[str, serializers.Field] | None = None,
    doc: str = "",
    flags: bool = True,
) -> type:
    """A response serializer named ``name`` with a field per rendered column, plus ``extra`` fields."""
    attrs: dict[str, object] = {column: column_field(_model_field(model, column), flags=flags) for column in names}
    attrs.update(extra or {})
    attrs["__doc__"] = doc or f"{name} as the API renders it."
    return type(name, (serializers.Serializer,), attrs)


def _stored_columns(model, *, skip=()) -> list[str]:
    """What ``representations._model_dict`` writes: every concrete column but the pk, by attname."""
    return [
        field.attname for field in model._meta.concrete_fields if not field.primary_key and field.attname not in skip
    ]


# -- /V1 errors ---------------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [{"type": "object", "additionalProperties": {}}, {"type": "array", "items": {}}],
        "description": "The values of the message's placeholders: by name (`%fieldName`) or by position (`%1`).",
    }
)
class ParametersField(serializers.JSONField):
    pass


class MagentoErrorDetailSerializer(serializers.Serializer):
    """One problem of an aggregate InputException."""

    message = serializers.CharField()
    parameters = ParametersField(required=False)


# A class statement could not declare ``errors``: the name is the Serializer's own property.
MagentoErrorSerializer = type(
    "MagentoErrorSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "Magento's error envelope: a message template and the values of its placeholders.",
        "message": serializers.CharField(help_text='Magento\'s template, e.g. `"%fieldName" is required.`'),
        "parameters": ParametersField(required=False),
        "errors": MagentoErrorDetailSerializer(many=True, required=False, help_text="Every problem, for several."),
        "trace": serializers.CharField(required=False, help_text="Developer mode only (never sent by Counterfoil)."),
    },
)


V1_ERRORS = {
    400: "Bad input (Magento's InputException, several problems under `errors`), a refused invoice "
    "(`Invoice Document Validation Error(s):` ...), a declined capture, or a malformed Idempotency-Key.",
    401: "No, an invalid or an expired token (`Consumer key has expired`), or a token without the route's "
    "ACL resource (`The consumer isn't authorized to access %resources.`).",
    404: "An unknown id or store code (`The entity that was requested doesn't exist.`).",
    409: "Another request holds the order longer than ORDER_LOCK_TIMEOUT_SECONDS, or a request with the same "
    "Idempotency-Key is still running (with `Retry-After`).",
    422: "The Idempotency-Key was already used for a different request.",
    413: "The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE bytes (2.5 MB unless configured); nothing is read.",
    429: "Too many requests.",
    503: "The database could not serve the request (connection lost, statement timeout); with `Retry-After`. "
    "Never the client's fault, and nothing was written.",
}


def v1_errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The route's errors, plus 503: any route can meet a database that fails."""
    return {code: OpenApiResponse(MagentoErrorSerializer, description=V1_ERRORS[code]) for code in (*codes, 503)}


# -- /api2 errors -------------------------------------------------------------------------------------------


class Api2ErrorSerializer(serializers.Serializer):
    """/api2's error: one message."""

    error = serializers.CharField(help_text="e.g. `Invalid item`, `Cannot create invoice`, `Order not found`.")


API2_ERRORS = {
    400: "`Invalid item`, `Cannot create invoice`, an unknown field or parameter, or a wrong type, named.",
    401: "`Unauthorized`: a missing, invalid or expired token, or one without the route's ACL resource.",
    404: "`Order not found` or `Invoice not found`.",
    409: "`Conflict on save`: another request held the order too long; or an Idempotency-Key still in progress.",
    422: "The Idempotency-Key was already used for a different request.",
    413: "`Request body too large: the limit is N bytes`: over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB unless configured).",
    429: "`Too many requests`.",
    500: "`Payment gateway error`: an online capture failed; nothing was written.",
    503: "`Service unavailable, try again later`: the database could not serve the request; with `Retry-After`.",
}


def api2_errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The route's errors, plus 503: any route can meet a database that fails."""
    return {code: OpenApiResponse(Api2ErrorSerializer, description=API2_ERRORS[code]) for code in (*codes, 503)}


def document_body_limit(result, generator, request, public):
    """drf-spectacular's post-processing hook: every operation that takes a body answers 413 past the size limit
    (sales/api/json.py's parser, one rule for every route), in its door's envelope."""
    for path, operations in result.get("paths", {}).items():
        api2 = path.startswith("/api2/")
        envelope, descriptions = ("Api2Error", API2_ERRORS) if api2 else ("MagentoError", V1_ERRORS)
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["responses"].setdefault(
                    "413",
                    {
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{envelope}"}}},
                        "description": descriptions[413],
                    },
                )
    return result


# -- parameters -------------------------------------------------------------------------------------------

STORE_CODE = OpenApiParameter(
    "store_code",
    {"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$"},
    OpenApiParameter.PATH,
    description="A store view's code; `default` and `all` (the admin store) always exist.",
    examples=[OpenApiExample("default", value="default"), OpenApiExample("all", value="all")],
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    description="Repeats of the same request with the same key run once and get the first answer again "
    "(`Idempotent-Replayed: true`); the key on a different request is 422; while the first runs, 409.",
)


def _path_id(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}, OpenApiParameter.PATH, description=description
    )


ORDER_ID = _path_id("order_id", "The order's `entity_id`.")
INVOICE_ID = _path_id("invoice_id", "The invoice's `entity_id`.")
TRANSACTION_ID = _path_id("transaction_id", "The transaction's `transaction_id`.")
STOCK_ID = OpenApiParameter(
    "stock_id",
    {"type": "string", "pattern": r"^[^/]+$"},
    OpenApiParameter.PATH,
    description="The stock's id (a positive integer; anything else is 400).",
    examples=[OpenApiExample("default stock", value="1")],
)
SOURCE_CODE = OpenApiParameter(
    "source_code",
    {"type": "string", "pattern": r"^[^/]+$"},
    OpenApiParameter.PATH,
    description="The source's code.",
    examples=[OpenApiExample("default", value="default")],
)
SKU = OpenApiParameter(
    "sku", {"type": "string", "minLength": 1}, OpenApiParameter.PATH, description="The SKU (`/` sent as `%2F`)."
)


def search_criteria_parameters(fields, *, required: bool) -> list[OpenApiParameter]:
    """Magento's searchCriteria, the documented subset: the first filter of the first group, the first sort
    order, page size and page. More groups, filters and sort orders work the same way with other indexes."""
    names = sorted(fields)
    group = "searchCriteria[filter_groups][0][filters][0]"
    return [
        OpenApiParameter(
            "searchCriteria",
            str,
            required=required,
            description="Any value; with no other `searchCriteria[...]` key, every row. The route refuses a request "
            "without a searchCriteria key."
            if required
            else "Optional: without it, every row.",
        ),
        OpenApiParameter(
            f"{group}[field]",
            {"type": "string", "enum": names},
            description="A field to filter on. Filters of one group are OR-ed, groups AND-ed.",
        ),
        OpenApiParameter(
            f"{group}[value]", str, description="The value; comma-separated for `in`/`nin`, `%` and `_` for `like`."
        ),
        OpenApiParameter(
            f"{group}[condition_type]", {"type": "string", "enum": sorted(CONDITION_TYPES)}, description="Default `eq`."
        ),
        OpenApiParameter("searchCriteria[sort_orders][0][field]", {"type": "string", "enum": names}),
        OpenApiParameter(
            "searchCriteria[sort_orders][0][direction]",
            {"type": "string", "enum": ["ASC", "DESC"]},
            description="Default DESC.",
        ),
        OpenApiParameter(
            "searchCriteria[pageSize]",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            description="Without it, every matching row.",
        ),
        OpenApiParameter(
            "searchCriteria[currentPage]",
            {"type": "integer", "minimum": 1},
            description="Default 1; a page past the last is empty.",
        ),
    ]


# -- /V1 bodies -----------------------------------------------------------------------------------------------

InvoiceItemSerializer = columns_serializer(
    "InvoiceItem", InvoiceItem, INVOICE_ITEM_FIELDS, doc="Magento's InvoiceItemInterface."
)
InvoiceCommentSerializer = columns_serializer(
    "InvoiceComment", InvoiceComment, INVOICE_COMMENT_FIELDS, doc="Magento's InvoiceCommentInterface."
)
InvoiceSerializer = columns_serializer(
    "Invoice",
    Invoice,
    INVOICE_FIELDS,
    doc="Magento's InvoiceInterface; `state` 1 open (Pending), 2 paid, 3 canceled.",
    extra={"items": InvoiceItemSerializer(many=True), "comments": InvoiceCommentSerializer(many=True)},
)
StatusHistorySerializer = columns_serializer(
    "OrderStatusHistory",
    OrderStatusHistory,
    [name for name in STATUS_HISTORY_FIELDS if name != "parent_id"],
    extra={"parent_id": serializers.IntegerField(help_text="The order's entity_id.")},
    doc="Magento's OrderStatusHistoryInterface: one comment of the order's history.",
)
_ITEM_EXTRA = {"item_id": serializers.IntegerField(), "order_id": serializers.IntegerField()}
OrderParentItemSerializer = columns_serializer(
    "OrderParentItem",
    OrderItem,
    _stored_columns(OrderItem, skip={"order_id"}),
    extra=_ITEM_EXTRA,
    doc="The parent row (bundle, configurable) of a child row.",
)
OrderItemSerializer = columns_serializer(
    "OrderItem",
    OrderItem,
    _stored_columns(OrderItem, skip={"order_id"}),
    extra={**_ITEM_EXTRA, "parent_item": OrderParentItemSerializer(required=False)},
    doc="Magento's OrderItemInterface; a child row carries its parent as `parent_item`.",
)
OrderAddressSerializer = columns_serializer(
    "OrderAddress",
    OrderAddress,
    _stored_columns(OrderAddress, skip={"order_id"}),
    extra={
        "entity_id": serializers.IntegerField(),
        "parent_id": serializers.IntegerField(),
        "street": serializers.ListField(child=serializers.CharField(allow_blank=True)),
    },
    doc="Magento's OrderAddressInterface.",
)
OrderPaymentSerializer = columns_serializer(
    "OrderPayment",
    Payment,
    _stored_columns(Payment, skip={"order_id"}),
    extra={"entity_id": serializers.IntegerField(), "parent_id": serializers.IntegerField()},
    doc="Magento's OrderPaymentInterface.",
)
_SHIPPING_TOTAL_FIELDS = ORDER_SHIPPING_TOTAL.names  # what the representation writes, documented
ShippingTotalSerializer = type(
    "ShippingTotal", (serializers.Serializer,), {name: NumberField(required=False) for name in _SHIPPING_TOTAL_FIELDS}
)


class ShippingSerializer(serializers.Serializer):
    method = serializers.CharField(required=False)
    address = OrderAddressSerializer(required=False)
    total = ShippingTotalSerializer(required=False)


class ShippingAssignmentSerializer(serializers.Serializer):
    shipping = ShippingSerializer()
    items = OrderItemSerializer(many=True, help_text="The order's top-level rows.")


class OrderExtensionAttributesSerializer(serializers.Serializer):
    shipping_assignments = ShippingAssignmentSerializer(many=True)


OrderSerializer = columns_serializer(
    "Order",
    Order,
    _stored_columns(Order),
    extra={
        "entity_id": serializers.IntegerField(),
        "total_due": NumberField(),
        "base_total_due": NumberField(),
        "items": OrderItemSerializer(many=True),
        "billing_address": OrderAddressSerializer(required=False),
        "payment": OrderPaymentSerializer(required=False),
        "status_histories": StatusHistorySerializer(many=True),
        "extension_attributes": OrderExtensionAttributesSerializer(required=False),
    },
    doc="Magento's OrderInterface: every stored column under its Magento name, nulls left out.",
)

_TRANSACTION_FIELDS = {
    "transaction_id": serializers.IntegerField(),
    "parent_id": serializers.IntegerField(required=False),
    "order_id": serializers.IntegerField(),
    "payment_id": serializers.IntegerField(),
    "txn_id": serializers.CharField(),
    "parent_txn_id": serializers.CharField(required=False),
    "txn_type": serializers.ChoiceField(choices=Transaction.Type.values),
    "is_closed": FlagField(),
    "additional_information": AnyJSONField(help_text="The gateway's answer."),
    "created_at": MagentoDateTimeField(),
}
ChildTransactionSerializer = type("ChildTransaction", (serializers.Serializer,), {**_TRANSACTION_FIELDS})
TransactionSerializer = type(
    "Transaction",
    (serializers.Serializer,),
    {
        **_TRANSACTION_FIELDS,
        "child_transactions": ChildTransactionSerializer(many=True),
        "__doc__": "Magento's TransactionInterface.",
    },
)


class FilterEchoSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField(required=False)
    condition_type = serializers.CharField()


class FilterGroupEchoSerializer(serializers.Serializer):
    filters = FilterEchoSerializer(many=True)


class SortOrderEchoSerializer(serializers.Serializer):
    field = serializers.CharField()
    direction = serializers.ChoiceField(choices=["ASC", "DESC"])


class SearchCriteriaEchoSerializer(serializers.Serializer):
    """The criteria the result was found with, as Magento echoes them."""

    filter_groups = FilterGroupEchoSerializer(many=True)
    sort_orders = SortOrderEchoSerializer(many=True, required=False)
    page_size = serializers.IntegerField(required=False)
    current_page = serializers.IntegerField(required=False)


def search_result(name: str, item) -> type:
    return type(
        name,
        (serializers.Serializer,),
        {
            "items": item(many=True),
            "search_criteria": SearchCriteriaEchoSerializer(),
            "total_count": serializers.IntegerField(help_text="Every matching row, whatever the page."),
            "__doc__": "Magento's search result: one page of rows, the criteria and the count of every match.",
        },
    )


def item_list(name: str, item) -> type:
    return type(
        name,
        (serializers.Serializer,),
        {
            "items": item(many=True),
            "total_count": serializers.IntegerField(),
        },
    )


OrderSearchResultSerializer = search_result("OrderSearchResult", OrderSerializer)
InvoiceSearchResultSerializer = search_result("InvoiceSearchResult", InvoiceSerializer)
TransactionSearchResultSerializer = search_result("TransactionSearchResult", TransactionSerializer)
OrderStatusHistoryListSerializer = item_list("OrderStatusHistoryList", StatusHistorySerializer)
InvoiceCommentListSerializer = item_list("InvoiceCommentList", InvoiceCommentSerializer)

# Bare answers: Magento's for a service method that returns a scalar.
TRUE = {"type": "boolean", "enum": [True], "description": "`true`"}
BARE_TOKEN = {"type": "string", "description": "The admin token, as a bare JSON string."}
BARE_ID = {"type": "integer", "description": "The new invoice's entity_id, as a bare JSON number."}
BARE_STATUS = {"type": "string", "description": "The order's status code, as a bare JSON string (e.g. `pending`)."}
BARE_QTY = {"type": "number", "description": "The salable quantity, as a bare JSON number."}
EMPTY_ARRAY = {"type": "array", "items": {}, "maxItems": 0, "description": "`[]` (Magento's answer to a void method)."}


def invoice_action(summary: str) -> Callable[[ViewMethod], ViewMethod]:
    """The schema of ``POST /V1/invoices/{id}/<action>``: no body, ``true``."""
    return extend_schema(
        summary=summary,
        parameters=[INVOICE_ID, IDEMPOTENCY_KEY],
        request=None,
        responses={200: OpenApiResponse(TRUE), **v1_errors(400, 401, 404, 409, 422, 429)},
    )


# -- /V1 inventory ------------------------------------------------------------------------------------------

SourceSerializer = columns_serializer(
    "Source",
    Source,
    [field.attname for field in Source._meta.concrete_fields],
    extra={"carrier_links": serializers.ListField(child=AnyJSONField(), max_length=0)},
    doc="Magento's SourceInterface (InventoryApi).",
    flags=False,
)
StockSerializer = columns_serializer("Stock", Stock, ["stock_id", "name"], doc="Magento's StockInterface.")
StockSourceLinkSerializer = type(
    "StockSourceLink",
    (serializers.Serializer,),
    {
        "stock_id": serializers.IntegerField(),
        "source_code": serializers.CharField(),
        "priority": column_field(StockSourceLink._meta.get_field("priority")),
    },
)
SourceItemSerializer = type(
    "SourceItem",
    (serializers.Serializer,),
    {
        "sku": serializers.CharField(),
        "source_code": serializers.CharField(),
        "quantity": column_field(SourceItem._meta.get_field("quantity")),
        "status": serializers.ChoiceField(choices=[0, 1], help_text="1 in stock, 0 out of stock."),
    },
)
SourceSearchResultSerializer = search_result("SourceSearchResult", SourceSerializer)
StockSearchResultSerializer = search_result("StockSearchResult", StockSerializer)
StockSourceLinkSearchResultSerializer = search_result("StockSourceLinkSearchResult", StockSourceLinkSerializer)
SourceItemSearchResultSerializer = search_result("SourceItemSearchResult", SourceItemSerializer)


# -- /api2 ----------------------------------------------------------------------------------------------------

Api2InvoiceSerializer = columns_serializer(
    "Api2Invoice",
    Invoice,
    INVOICE_FIELDS,
    extra={
        "items": InvoiceItemSerializer(many=True),
        "comments": InvoiceCommentSerializer(many=True),
        "order_increment_id": serializers.CharField(help_text="The order's number."),
    },
    doc="The /V1 invoice plus its order's number.",
)


class Api2PaginationSerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, help_text="Left out when paging by `cursor`.")
    limit = serializers.IntegerField()
    total = serializers.IntegerField()
    pages = serializers.IntegerField()


class Api2InvoiceLookupSerializer(serializers.Serializer):
    """``?id=`` or ``?increment_id=``: one invoice."""

    invoice = Api2InvoiceSerializer()


class Api2InvoiceListSerializer(serializers.Serializer):
    """A page of invoices; ``pagination`` with ``include_pagination=1``."""

    invoices = Api2InvoiceSerializer(many=True)
    next_cursor = serializers.CharField(
        allow_null=True,
        help_text="Pass it as `cursor` (with the same sort, direction and filters) for the next page; "
        "null on the last page.",
    )
    pagination = Api2PaginationSerializer(required=False)


API2_LIST_RESPONSE = {
    "oneOf": [
        {"$ref": "#/components/schemas/Api2InvoiceLookup"},
        {"$ref": "#/components/schemas/Api2InvoiceList"},
    ]
}


def api2_filter_parameters(filter_names) -> list[OpenApiParameter]:
    """The list's filters (``sales.api.api2.filters.InvoiceFilter`` parses them); its lookup, paging and sort are
    documented by their input serializers (``sales.api.api2.inputs``)."""
    date = {"type": "string", "format": "date"}
    by_name = {
        "state": OpenApiParameter(
            "state", {"type": "integer", "enum": InvoiceState.values}, description="1 open, 2 paid, 3 canceled."
        ),
        "order_id": OpenApiParameter("order_id", {"type": "integer", "minimum": 1}),
        "order_increment_id": OpenApiParameter("order_increment_id", str, description="The order's number."),
        "created_from": OpenApiParameter("created_from", date, description="First day (UTC), included."),
        "created_to": OpenApiParameter("created_to", date, description="Last day (UTC), included."),
        "updated_from": OpenApiParameter("updated_from", date),
        "updated_to": OpenApiParameter("updated_to", date),
    }
    return [by_name[name] for name in filter_names]


class Api2InvoiceCreatedSerializer(serializers.Serializer):
    invoice = Api2InvoiceSerializer()


class Api2EmailQueuedSerializer(serializers.Serializer):
    invoice_id = serializers.IntegerField()
    queued = serializers.BooleanField()
