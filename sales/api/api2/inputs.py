"""The /api2 door's input serializers: every body an /api2 route takes is parsed and validated here, and nowhere else.

Each class is its route's OpenAPI request schema too. A problem carries /api2's text (seed 004's table:
``Invalid item``, ``Invalid send_email: expected true or false``, ``Unknown field: x``); the first one found is
the answer (``sales.api.api2.errors``), in the order the checks run: the body's shape, unknown names, NUL
characters, the route's rules for the whole body, then each field in declaration order.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

from rest_framework import serializers

from inventory.quantity import as_number
from sales import selectors
from sales.api.api2.errors import INVALID_ITEM
from sales.api.inputs import InputField, InputInvalid, InputSerializer, Kind, nested_problems, refuse
from sales.api.validation import nul_character_path
from sales.errors import NoSuchEntityError
from sales.services import CaptureCase, InvoiceCommentRequest, InvoiceLineRequest

NOT_AN_OBJECT = "The body must be a JSON object"
CAPTURE_CASES = {"online": CaptureCase.ONLINE, "offline": CaptureCase.OFFLINE, "no_capture": CaptureCase.NOT_CAPTURE}
DEFAULT_CAPTURE = "offline"


class Api2Input(InputSerializer):
    """An /api2 body: an object whose every name is a field of the route, free of NUL characters (no text column
    can store one: ``sales.api.validation``)."""

    def check_body(self, data: Any) -> None:
        if not isinstance(data, dict):
            refuse(Kind.INVALID, data, NOT_AN_OBJECT)
        unknown = sorted(name for name in data if not self.takes(name))
        if unknown:
            refuse(Kind.INVALID, unknown[0], f"Unknown field: {unknown[0]}", path=unknown[0])
        nul_in = nul_character_path(data)
        if nul_in is not None:
            refuse(Kind.INVALID, data, f"Invalid {nul_in}: a NUL character", path=nul_in)


# -- fields -------------------------------------------------------------------------------------------------


class StrictIntegerField(InputField, serializers.IntegerField):
    """A JSON integer: not a string, not a boolean."""

    default_message = "Invalid {name}: expected an integer"

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.refuse(Kind.INVALID, data)
        return data


class StrictBooleanField(InputField, serializers.BooleanField):
    """A JSON true or false, nothing else; absent is false."""

    default_message = "Invalid {name}: expected true or false"

    def __init__(self, **kwargs: Any):
        super().__init__(default=False, **kwargs)

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.refuse(Kind.INVALID, data)
        return data


class OptionalTextField(InputField, serializers.CharField):
    """A string or null; absent is null."""

    default_message = "Invalid {name}: expected a string"

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("allow_blank", True)  # "" is taken (an empty comment is no comment)
        super().__init__(required=False, allow_null=True, default=None, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.refuse(Kind.INVALID, data)
        return data


class IncrementIdField(InputField, serializers.CharField):
    """A document's number (a string, or a number taken as its text), resolved to its id like DRF's
    ``SlugRelatedField``: none is the route's 404, raised at once as the hand-written door did."""

    default_message = "Invalid {name}: expected a string"

    def __init__(self, *, lookup: Callable[[str], int | None], entity: str, **kwargs: Any):
        self.lookup = lookup
        self.entity = entity
        super().__init__(required=False, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.refuse(Kind.INVALID, data)
        found = self.lookup(str(data))
        if found is None:
            raise NoSuchEntityError(entity=self.entity)
        return found


class CaptureField(InputField, serializers.ChoiceField):
    default_message = "Invalid capture: expected online, offline or no_capture"

    def __init__(self, **kwargs: Any):
        super().__init__(choices=list(CAPTURE_CASES), default=DEFAULT_CAPTURE, **kwargs)

    def to_internal_value(self, data: Any) -> CaptureCase:
        if not isinstance(data, str) or data not in CAPTURE_CASES:
            self.refuse(Kind.INVALID, data)
        return CAPTURE_CASES[data]

    def get_default(self) -> CaptureCase:
        return CAPTURE_CASES[DEFAULT_CAPTURE]


class QuantityField(InputField, serializers.DecimalField):
    """A positive quantity as ``inventory.quantity.as_number`` reads it."""

    def __init__(self, **kwargs: Any):
        super().__init__(
            max_digits=16, decimal_places=6, coerce_to_string=False, min_value=Decimal("0.000001"), **kwargs
        )

    def to_internal_value(self, data: Any) -> Decimal:
        qty = as_number(data)
        if qty is None or qty <= 0:
            self.refuse(Kind.INVALID, data)
        return qty


# -- POST /api2/invoice/create ------------------------------------------------------------------------------


class Api2InvoiceLineInput(InputSerializer):
    """A row by ``order_item_id`` or by ``sku``, and a positive ``qty``."""

    # Whatever is wrong with a row is "Invalid item".

    order_item_id = StrictIntegerField(required=False, allow_null=True, default=None, min_value=1, message=INVALID_ITEM)
    sku = OptionalTextField(message=INVALID_ITEM)
    qty = QuantityField(message=INVALID_ITEM)

    def check_body(self, data: Any) -> None:
        if not isinstance(data, dict) or any(not self.takes(name) for name in data):
            refuse(Kind.INVALID, data, INVALID_ITEM)

    def build(self, values: dict[str, Any]) -> InvoiceLineRequest:
        order_item_id, sku = values["order_item_id"], values["sku"]
        if order_item_id is None and not sku:
            refuse(Kind.REQUIRED, None, INVALID_ITEM)
        return InvoiceLineRequest(
            order_item_id=order_item_id, sku=sku if order_item_id is None else None, qty=values["qty"]
        )


class Api2InvoiceLinesField(InputField, serializers.ListField):
    default_message = "Invalid items: expected a list"

    def __init__(self, **kwargs: Any):
        super().__init__(child=Api2InvoiceLineInput(), default=list, **kwargs)

    def to_internal_value(self, data: Any) -> list[InvoiceLineRequest]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.refuse(Kind.INVALID, data)
        lines = []
        for index, entry in enumerate(data):
            try:
                lines.append(self.child.run_validation(entry))
            except InputInvalid as invalid:
                raise InputInvalid(nested_problems(f"[{index}]", invalid)) from None
        return lines


class Api2InvoiceCreateInput(Api2Input):
    """``order_id`` or ``order_increment_id`` (not both); no other key is accepted."""

    order_id = StrictIntegerField(required=False)
    order_increment_id = IncrementIdField(lookup=selectors.order_id_by_increment_id, entity="order")
    capture = CaptureField(help_text="Default offline.")
    send_email = StrictBooleanField()
    comment = OptionalTextField(help_text="Kept on the invoice and in the order's history.")
    items = Api2InvoiceLinesField(help_text="Omitted: every row still to invoice.")

    def check_body(self, data: Any) -> None:
        super().check_body(data)
        if "order_id" in data and "order_increment_id" in data:
            refuse(Kind.INVALID, None, "Use either order_id or order_increment_id, not both")
        if "order_id" not in data and "order_increment_id" not in data:
            refuse(Kind.REQUIRED, None, "Missing order_id or order_increment_id")

    def build(self, values: dict[str, Any]) -> dict[str, Any]:
        comment = values["comment"]
        return {
            "order_id": values["order_id"] if "order_id" in values else values["order_increment_id"],
            "capture_case": values["capture"],
            "items": values["items"],
            "notify": values["send_email"],
            "comment": InvoiceCommentRequest(comment=comment) if comment else None,
        }


# -- POST /api2/invoice/email -------------------------------------------------------------------------------


class Api2InvoiceEmailInput(Api2Input):
    """One of ``invoice_id``, ``id`` or ``increment_id``; no other key is accepted."""

    NAMES: ClassVar[tuple[str, ...]] = ("invoice_id", "id", "increment_id")

    invoice_id = StrictIntegerField(required=False)
    id = StrictIntegerField(required=False)
    increment_id = IncrementIdField(lookup=selectors.invoice_id_by_increment_id, entity="invoice")
    comment = OptionalTextField()

    def check_body(self, data: Any) -> None:
        super().check_body(data)
        if sum(name in data for name in self.NAMES) != 1:
            refuse(Kind.INVALID, None, "Name the invoice with one of invoice_id, id or increment_id")

    def build(self, values: dict[str, Any]) -> dict[str, Any]:
        [invoice_id] = [values[name] for name in self.NAMES if name in values]
        return {"invoice_id": invoice_id, "comment": values["comment"]}
