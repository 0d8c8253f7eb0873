"""The /V1 door's input serializers: every body a /V1 route takes is parsed and validated here, and nowhere else.

Each class is its route's OpenAPI request schema too. Problems carry Magento's field paths (``items[1].qty``,
``comment.comment``); ``sales.api.v1.errors`` renders them as Magento's ``"%fieldName" is required. Enter and
try again.`` / ``Invalid value of "%value" provided for the %fieldName field.``, several as its aggregate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from inventory.quantity import as_number
from inventory.services import SourceItemData
from sales.api.inputs import InputField, InputInvalid, InputSerializer, Kind, Problem, nested_problems, refuse
from sales.api.validation import nul_character_path
from sales.models import ProductType
from sales.payloads.order import ADDRESS_FIELDS, ITEM_FIELDS, ORDER_FIELDS, PAYMENT_FIELDS, OrderDraft, parse_order
from sales.services import CaptureCase, InvoiceCommentRequest, InvoiceLineRequest

NUL_CHARACTER = "a NUL character"  # the %value of a NUL character's refusal
UNKNOWN_FIELD = "unknown field"


class MagentoInput(InputSerializer):
    """A /V1 body or an object inside one. The body itself must be an object free of NUL characters (no text
    column can store one: ``sales.api.validation``); ``refuses_unknown_fields`` refuses every other name."""

    refuses_unknown_fields: ClassVar[bool] = False

    def check_body(self, data: Any) -> None:
        if self.parent is not None:
            super().check_body(data)
            return
        if not isinstance(data, dict):
            refuse(Kind.INVALID, type(data).__name__, path="body")
        nul_in = nul_character_path(data)
        if nul_in is not None:
            refuse(Kind.INVALID, NUL_CHARACTER, path=nul_in)
        if self.refuses_unknown_fields:
            unknown = sorted(name for name in data if not self.takes(name))
            if unknown:
                raise InputInvalid([Problem(name, Kind.INVALID, UNKNOWN_FIELD) for name in unknown])


# -- fields -------------------------------------------------------------------------------------------------


class MagentoBooleanField(InputField, serializers.BooleanField):
    """Magento's web API casts booleans from true/false, 1/0 and their strings; absent is false."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("default", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if data in (0, 1):
            return bool(data)
        if isinstance(data, str) and data.lower() in ("true", "false", "1", "0"):
            return data.lower() in ("true", "1")
        self.refuse(Kind.INVALID, data)


class PositiveIntegerField(InputField, serializers.IntegerField):
    """A positive integer, as a JSON number or a numeric string (not a boolean)."""

    def __init__(self, **kwargs: Any):
        super().__init__(min_value=1, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        try:
            number = int(str(data))  # int() refuses more than 4300 digits with a ValueError: refused below
        except (TypeError, ValueError):
            self.refuse(Kind.INVALID, data)
        if number <= 0 or isinstance(data, bool):
            self.refuse(Kind.INVALID, data)
        return number


class QuantityField(InputField, serializers.DecimalField):
    """A quantity as ``inventory.quantity.as_number`` reads it; whether it may be invoiced is the service's rule."""

    def __init__(self, **kwargs: Any):
        super().__init__(max_digits=16, decimal_places=6, coerce_to_string=False, min_value=Decimal(0), **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        qty = as_number(data)
        if qty is None:
            self.refuse(Kind.INVALID, data)
        return qty


class RequiredTextField(InputField, serializers.CharField):
    """Text that must be there: absent, null, not a string or blank is Magento's "required"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or not data.strip():
            self.refuse(Kind.REQUIRED)
        return data


class CredentialField(InputField, serializers.CharField):
    """Magento's CredentialsValidator: ``!is_string($value) || strlen($value) == 0`` (no trimming) is "required"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or data == "":
            self.refuse(Kind.REQUIRED)
        return data


class PassedOn:
    """A value the service checks itself: handed on as sent, None when absent (its ``required`` is documentation:
    the service refuses the request without it, after the flags are parsed)."""

    def run_validation(self, data: Any = empty) -> Any:
        return None if data is empty else data


class PassedOnInteger(PassedOn, serializers.IntegerField):
    pass


class PassedOnText(PassedOn, serializers.CharField):
    pass


class PassedOnDecimal(PassedOn, serializers.DecimalField):
    pass


class PassedOnChoice(PassedOn, serializers.ChoiceField):
    pass


class IgnoredDictField(serializers.DictField):
    """Accepted and ignored (Magento's extension arguments)."""

    def run_validation(self, data: Any = empty) -> Any:
        raise SkipField()


# -- POST /V1/integration/admin/token -----------------------------------------------------------------------


class AdminCredentialsInput(MagentoInput):
    """Magento's admin credentials. Six failures in a row lock the username out for 30 minutes."""

    stop_at_first = False  # Magento reports both fields when both are missing

    username = CredentialField()
    password = CredentialField()


# -- POST /V1/orders, PUT /V1/orders/create -------------------------------------------------------------------


def request_field(field: models.Field) -> serializers.Field:
    """The JSON an import takes for a column (``sales.payloads.order``'s readers)."""
    help_text = str(field.help_text) or None
    if isinstance(field, models.DecimalField):
        bound = 10 ** (field.max_digits - field.decimal_places)
        return serializers.DecimalField(
            field.max_digits + 2,
            field.decimal_places + 2,
            coerce_to_string=False,
            max_value=bound - 1,
            min_value=1 - bound,
            required=False,
            allow_null=True,
            help_text=help_text,
        )
    if isinstance(field, models.BooleanField):
        return serializers.BooleanField(required=False, allow_null=True, help_text=help_text)
    if isinstance(field, models.IntegerField):
        positive = field.get_internal_type().startswith("Positive")
        return serializers.IntegerField(
            min_value=0 if positive else None, required=False, allow_null=True, help_text=help_text
        )
    if isinstance(field, models.DateTimeField):
        return serializers.DateTimeField(required=False, allow_null=True, help_text=help_text)
    if isinstance(field, models.JSONField):
        return serializers.DictField(required=False, allow_null=True, help_text=help_text)
    if field.choices:
        return serializers.ChoiceField(
            choices=[value for value, _ in field.choices], required=False, allow_null=True, help_text=help_text
        )
    return serializers.CharField(
        max_length=field.max_length, allow_blank=True, required=False, allow_null=True, help_text=help_text
    )


def column(fields: Mapping[str, object], name: str) -> models.Field:
    """A column of ``sales.payloads.order``'s field maps."""
    field = fields[name]
    if not isinstance(field, models.Field):
        raise TypeError(f"{name} is not a column")
    return field


def import_serializer(
    name: str, fields: Mapping[str, object], *, extra: Mapping[str, serializers.Field], doc: str
) -> type:
    attrs: dict[str, object] = {name: request_field(column(fields, name)) for name in fields}
    attrs.update(extra)
    attrs["__doc__"] = doc
    return type(name, (serializers.Serializer,), attrs)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class ItemReferenceField(serializers.JSONField):
    """An order row's local reference: a number or a string."""


# The order entity's document: what ``parse_order`` reads (it, not these classes, parses the entity: every
# problem at once, in its own order). They only describe it, for ``OrderEntityField``'s schema.
ImportAddressSerializer = import_serializer(
    "ImportAddress",
    ADDRESS_FIELDS,
    extra={
        "firstname": serializers.CharField(max_length=255),
        "lastname": serializers.CharField(max_length=255),
        "city": serializers.CharField(max_length=255),
        "country_id": serializers.CharField(max_length=2),
        "street": serializers.ListField(
            child=serializers.CharField(), min_length=1, help_text="Street lines (a string with newlines works too)."
        ),
    },
    doc="An address: firstname, lastname, street, city and country_id are required.",
)
ImportItemSerializer = import_serializer(
    "ImportItem",
    ITEM_FIELDS,
    extra={
        "sku": serializers.CharField(max_length=255),
        "product_type": serializers.ChoiceField(choices=ProductType.values),
        "qty_ordered": serializers.DecimalField(16, 6, coerce_to_string=False, min_value=Decimal("0.0001")),
        "item_id": ItemReferenceField(required=False, help_text="A local reference children name in parent_item_id."),
        "parent_item_id": ItemReferenceField(
            required=False, allow_null=True, help_text="The item_id of the parent row (bundle, configurable)."
        ),
    },
    doc="An order row; the base twins of its amounts default to the amounts in a one-currency order.",
)


class ImportPaymentSerializer(serializers.Serializer):
    method = serializers.CharField(
        max_length=column(PAYMENT_FIELDS, "method").max_length,
        help_text="`checkmo`, `banktransfer`, `cashondelivery`, `purchaseorder`, `free`, "
        "or an online method such as `sandbox`.",
    )
    additional_information = serializers.DictField(required=False, help_text='e.g. `{"sandbox_outcome": "approve"}`')
    po_number = request_field(column(PAYMENT_FIELDS, "po_number"))


class ImportShippingSerializer(serializers.Serializer):
    method = serializers.CharField(required=False, max_length=column(ORDER_FIELDS, "shipping_method").max_length)
    address = ImportAddressSerializer()


class ImportShippingAssignmentSerializer(serializers.Serializer):
    shipping = ImportShippingSerializer()


class ImportExtensionAttributesSerializer(serializers.Serializer):
    shipping_assignments = ImportShippingAssignmentSerializer(many=True)


ImportOrderSerializer = import_serializer(
    "ImportOrder",
    ORDER_FIELDS,
    extra={
        "customer_email": serializers.EmailField(max_length=128),
        "subtotal": serializers.DecimalField(22, 6, coerce_to_string=False),
        "grand_total": serializers.DecimalField(22, 6, coerce_to_string=False),
        "store_id": serializers.IntegerField(required=False, min_value=0),
        "items": ImportItemSerializer(many=True, min_length=1, max_length=settings.ORDER_MAX_ITEMS),
        "billing_address": ImportAddressSerializer(),
        "payment": ImportPaymentSerializer(),
        "extension_attributes": ImportExtensionAttributesSerializer(
            required=False, help_text="The shipping address: required unless every row is virtual."
        ),
    },
    doc="An order in the shape `GET /V1/orders/{id}` returns. Totals must add up (subtotal = the priced rows' "
    "row_total; grand_total = subtotal + shipping + discount + tax); unknown keys are ignored.",
)


@extend_schema_field(ImportOrderSerializer)
class OrderEntityField(InputField):
    """The order entity: required here, read by ``parse_order`` in ``OrderImportInput.build``."""

    def to_internal_value(self, data: Any) -> Any:
        return data


class OrderImportInput(MagentoInput):
    """``{"entity": {...}}``: the order to import."""

    # The entity is read by ``sales.payloads.order.parse_order`` into an ``OrderDraft`` for the route's store
    # (``context["store_id"]``, a callable: the store is looked up only for a body that has an entity); its
    # InputError (every problem of the entity, or the item limit) reaches the client as it is.

    entity = OrderEntityField()

    def build(self, values: dict[str, Any]) -> dict[str, OrderDraft]:
        store_id: Callable[[], int] = self.context["store_id"]
        return {"draft": parse_order(values["entity"], store_id=store_id())}


# -- POST /V1/orders/{id}/comments --------------------------------------------------------------------------


class OrderCommentInput(MagentoInput):
    """A comment for the order's history."""

    # The order's service checks the text and the status. Magento names the flags without ``statusHistory.``;
    # not an object (or absent) is ``"statusHistory" is required``.
    fields_rooted = True

    comment = PassedOnText(required=False, allow_null=True)
    status = PassedOnText(required=False, allow_null=True, help_text="The order's status after the comment.")
    is_customer_notified = MagentoBooleanField(help_text="true/false or 1/0")
    is_visible_on_front = MagentoBooleanField()

    def check_body(self, data: Any) -> None:
        if not isinstance(data, dict):
            refuse(Kind.REQUIRED)


class OrderCommentAddInput(MagentoInput):
    """``{"statusHistory": {...}}``."""

    statusHistory = OrderCommentInput()  # noqa: N815 - Magento's name

    def build(self, values: dict[str, Any]) -> dict[str, Any]:
        return values["statusHistory"]


# -- POST /V1/order/{id}/invoice ----------------------------------------------------------------------------


class InvoiceLineInput(MagentoInput):
    """An order row and the quantity to invoice."""

    order_item_id = PositiveIntegerField()
    qty = QuantityField()

    def build(self, values: dict[str, Any]) -> InvoiceLineRequest:
        return InvoiceLineRequest(order_item_id=values["order_item_id"], qty=values["qty"])


class InvoiceLinesField(InputField, serializers.ListField):
    """The rows to invoice. Every row's problems are reported together, in Magento's aggregate; once a row is
    wrong, the rows after it are checked for their shape only (an object, with order_item_id and qty)."""

    REQUIRED_NAMES = ("order_item_id", "qty")

    def __init__(self, **kwargs: Any):
        super().__init__(child=InvoiceLineInput(), default=list, **kwargs)

    def to_internal_value(self, data: Any) -> list[InvoiceLineRequest]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.refuse(Kind.INVALID, type(data).__name__)
        problems: list[Problem] = []
        lines = []
        for index, entry in enumerate(data):
            at = f"[{index}]"
            if not isinstance(entry, dict):
                problems.append(Problem(at, Kind.INVALID, type(entry).__name__))
                continue
            problems += [
                Problem(f"{at}.{name}", Kind.REQUIRED) for name in self.REQUIRED_NAMES if entry.get(name) is None
            ]
            if problems:
                continue
            try:
                lines.append(self.child.run_validation(entry))
            except InputInvalid as invalid:
                problems += nested_problems(at, invalid)
        if problems:
            raise InputInvalid(problems)
        return lines


class InvoiceCreationCommentInput(MagentoInput):
    """The invoice's comment."""

    comment = RequiredTextField()
    is_visible_on_front = MagentoBooleanField()

    def build(self, values: dict[str, Any]) -> InvoiceCommentRequest:
        return InvoiceCommentRequest(comment=values["comment"], is_visible_on_front=values["is_visible_on_front"])


class InvoiceOrderInput(MagentoInput):
    """Magento's InvoiceOrderInterface::execute arguments; no other key is accepted."""

    refuses_unknown_fields = True  # all of them reported; otherwise the first bad argument, in Magento's order

    capture = MagentoBooleanField(
        help_text="true captures online (gateway methods) and pays offline methods; false (default) pays offline."
    )
    notify = MagentoBooleanField(help_text="E-mail the invoice to the customer.")
    items = InvoiceLinesField(help_text="Rows and quantities; omitted, the whole order.")
    appendComment = MagentoBooleanField()  # noqa: N815 - Magento's name
    comment = InvoiceCreationCommentInput(required=False, allow_null=True, default=None)
    arguments = IgnoredDictField(required=False, help_text="Magento's extension arguments; ignored.")

    def build(self, values: dict[str, Any]) -> dict[str, Any]:
        return {
            # Magento's API: capture=true captures online, capture=false pays offline.
            "capture_case": CaptureCase.ONLINE if values["capture"] else CaptureCase.OFFLINE,
            "items": values["items"],
            "notify": values["notify"],
            "append_comment": values["appendComment"],
            "comment": values["comment"],
        }


# -- POST /V1/invoices/comments -----------------------------------------------------------------------------


class InvoiceCommentEntityInput(MagentoInput):
    """A comment for an invoice."""

    # The invoice's service checks the invoice and the text. Magento names the flags without ``entity.``; not an
    # object (or absent) is ``"entity" is required``.
    fields_rooted = True

    parent_id = PassedOnInteger(help_text="The invoice's entity_id.")
    comment = PassedOnText()
    is_customer_notified = MagentoBooleanField(help_text="E-mail the comment to the customer.")
    is_visible_on_front = MagentoBooleanField()

    def check_body(self, data: Any) -> None:
        if not isinstance(data, dict):
            refuse(Kind.REQUIRED)

    def build(self, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "invoice_id": values["parent_id"],
            "comment": values["comment"],
            "is_customer_notified": values["is_customer_notified"],
            "is_visible_on_front": values["is_visible_on_front"],
        }


class InvoiceCommentAddInput(MagentoInput):
    """``{"entity": {...}}``."""

    entity = InvoiceCommentEntityInput()

    def build(self, values: dict[str, Any]) -> dict[str, Any]:
        return values["entity"]


# -- POST /V1/inventory/source-items ------------------------------------------------------------------------


@extend_schema_serializer(component_name="SourceItemInput")  # "SourceItem" is the answer's row
class SourceItemInput(MagentoInput):
    """A SKU's quantity in a source (set, not added) and its stock status: 1 in stock, 0 out of stock."""

    # Handed on as sent: ``source_items_save`` checks the values with Magento's validators (every entry's
    # problems, in Magento's ``Validation Failed`` aggregate).

    sku = PassedOnText(max_length=64)
    source_code = PassedOnText()
    quantity = PassedOnDecimal(12, 4, coerce_to_string=False, min_value=0)
    status = PassedOnChoice(choices=[0, 1])

    def build(self, values: dict[str, Any]) -> SourceItemData:
        return SourceItemData(**values)


class SourceItemsField(InputField, serializers.ListField):
    """The ``sourceItems`` array: absent or null is required; every entry that is not an object is reported, in
    Magento's aggregate. An empty array is the service's refusal (``Input data is empty``)."""

    def __init__(self, **kwargs: Any):
        super().__init__(child=SourceItemInput(), **kwargs)

    def to_internal_value(self, data: Any) -> list[SourceItemData]:
        if data is None:
            self.refuse(Kind.REQUIRED)
        if not isinstance(data, list):
            self.refuse(Kind.INVALID, type(data).__name__)
        problems = [
            Problem(f"[{index}]", Kind.INVALID, type(entry).__name__)
            for index, entry in enumerate(data)
            if not isinstance(entry, dict)
        ]
        if problems:
            raise InputInvalid(problems)
        return [self.child.run_validation(entry) for entry in data]


class SourceItemsSaveInput(MagentoInput):
    """The source items to save, all or nothing (Magento's SourceItemsSaveInterface)."""

    sourceItems = SourceItemsField()  # noqa: N815 - Magento's name

    def build(self, values: dict[str, Any]) -> dict[str, list[SourceItemData]]:
        return {"items": values["sourceItems"]}


# -- {stockId} in a route's path ----------------------------------------------------------------------------


class StockPathInput(MagentoInput):
    """The stock a route's path names: a positive integer (Magento's ``int $stockId``)."""

    stockId = PositiveIntegerField()  # noqa: N815 - Magento's name

    def build(self, values: dict[str, Any]) -> int:
        return values["stockId"]
