"""The /api2 door's input serializers: every body an /api2 route takes, and the invoice list's query string, are
parsed and validated here, and nowhere else (the list's filters are django-filter's, ``sales.api.api2.filters``).

Each class is its route's OpenAPI request schema, or its query parameters, too. A problem carries /api2's text
(seed 004's table: ``Invalid item``, ``Invalid send_email: expected true or false``, ``Unknown field: x``); the
first one found is the answer (``sales.api.api2.errors``), in the order the checks run: the body's shape, unknown
names, NUL characters (in a query string, the view's), the route's rules for the whole body, then each field in
declaration order.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django.utils.datastructures import MultiValueDict
from drf_spectacular.drainage import set_override
from rest_framework import serializers

from inventory.quantity import as_number
from sales import selectors
from sales.api.api2.errors import INVALID_ITEM
from sales.api.api2.filters import INVALID_CURSOR, MAX_PAGE, SORT_FIELDS, InvoiceFilter
from sales.api.inputs import InputField, InputInvalid, InputSerializer, Kind, nested_problems, refuse
from sales.api.validation import nul_character_path
from sales.errors import NoSuchEntityError
from sales.services import CaptureCase, InvoiceCommentRequest, InvoiceLineRequest

NOT_AN_OBJECT = "The body must be a JSON object"
CAPTURE_CASES = {"online": CaptureCase.ONLINE, "offline": CaptureCase.OFFLINE, "no_capture": CaptureCase.NOT_CAPTURE}
DEFAULT_CAPTURE = "offline"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


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


# -- GET /api2/invoice, /api2/invoices: the query string ----------------------------------------------------


class QueryNumberField(InputField, serializers.IntegerField):
    """A whole number in ASCII digits (blanks around it ignored), from 1 up to ``max_value`` when there is one."""

    def __init__(self, **kwargs: Any):
        super().__init__(min_value=1, **kwargs)
        bound = f" from 1 to {self.max_value}" if self.max_value else " of at least 1"
        self.message = "Invalid {name}: expected a whole number" + bound

    def to_internal_value(self, data: Any) -> int:
        text = str(data).strip()
        # "²" is a digit to str.isdigit, not to int; through Decimal, as int() refuses past 4300 digits.
        number = int(Decimal(text)) if text.isascii() and text.isdigit() else 0
        if number < 1 or (self.max_value is not None and number > self.max_value):
            self.refuse(Kind.INVALID, data)
        return number


class QueryChoiceField(InputField, serializers.CharField):
    """One of ``choices`` as written (in lower case first with ``lowered``): a string enum in the document, without
    DRF's ChoiceField's generated list of the choices in its description."""

    def __init__(self, *, choices: Collection[str], lowered: bool = False, **kwargs: Any):
        self.choices = frozenset(choices)
        self.lowered = lowered
        super().__init__(required=False, allow_blank=True, **kwargs)
        # extend_schema_field's override, on this field rather than its class (each has its own choices).
        set_override(self, "field", {"type": "string", "enum": list(choices)})

    def to_internal_value(self, data: Any) -> str:
        value = data.lower() if self.lowered else data
        if value not in self.choices:
            self.refuse(Kind.INVALID, data)
        return value


class QueryTextField(InputField, serializers.CharField):
    """Text handed on as sent (the query string has nothing else)."""

    def __init__(self, **kwargs: Any):
        super().__init__(required=False, allow_blank=True, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return data


class Api2InvoiceQuery(InputSerializer):
    """A query string of the invoice list's route: every name is one of its parameters (``INVOICE_PARAMETERS``:
    the lookup's, the list's or a filter of ``InvoiceFilter``, which parses the filters itself)."""

    def to_internal_value(self, data: Any) -> Any:
        # Each parameter's last value, as QueryDict.get reads it; a plain dict answers an absent name without
        # QueryDict's KeyError (most of a list's parameters are absent).
        return super().to_internal_value(data.dict() if isinstance(data, MultiValueDict) else data)

    def check_body(self, data: Any) -> None:
        unknown = sorted(set(data) - INVOICE_PARAMETERS)
        if unknown:
            refuse(Kind.INVALID, unknown[0], f"Unknown parameter: {unknown[0]}", path=unknown[0])


class Api2InvoiceLookupQuery(Api2InvoiceQuery):
    """``id`` or ``increment_id`` (not both): the invoice's id; an unknown number is the route's 404."""

    id = QueryNumberField(required=False, help_text="Look one invoice up by its id.")
    increment_id = IncrementIdField(
        lookup=selectors.invoice_id_by_increment_id,
        entity="invoice",
        allow_blank=True,
        help_text="Look one invoice up by its number.",
    )

    def check_body(self, data: Any) -> None:
        super().check_body(data)
        if "id" in data and "increment_id" in data:
            refuse(Kind.INVALID, None, "Use either id or increment_id, not both")

    def build(self, values: dict[str, Any]) -> int:
        return values["id"] if "id" in values else values["increment_id"]


@dataclass(frozen=True, slots=True)
class InvoiceListQuery:
    """A list's page and order; an absent parameter is its default."""

    page: int = 1
    limit: int = DEFAULT_LIMIT
    sort: str = "entity_id"
    direction: str = "desc"
    include_pagination: bool = False
    cursor: str | None = None

    @property
    def descending(self) -> bool:
        return self.direction == "desc"


class Api2InvoiceListQuery(Api2InvoiceQuery):
    """A list's paging and sort (``page`` or ``cursor``, not both); ``sales.api.api2.filters`` reads the filters."""

    page = QueryNumberField(
        required=False,
        max_value=MAX_PAGE,
        help_text="Default 1. Counts past (page - 1) x limit rows: slow deep in a large list, "
        "where `cursor` is the way to page.",
    )
    cursor = QueryTextField(
        help_text="The `next_cursor` of the previous page: the page after it, read straight "
        "from an index however deep. Only with the sort and direction it was made "
        "for; not with `page`. Anything else is 400 `Invalid cursor`.",
    )
    limit = QueryNumberField(required=False, max_value=MAX_LIMIT, help_text=f"Default {DEFAULT_LIMIT}.")
    sort = QueryChoiceField(
        choices=SORT_FIELDS,
        message=f"Invalid sort: expected one of {', '.join(SORT_FIELDS)}",
        help_text="Default entity_id.",
    )
    direction = QueryChoiceField(
        choices=("asc", "desc"),
        lowered=True,
        message="Invalid direction: expected asc or desc",
        help_text="Default desc.",
    )
    include_pagination = QueryChoiceField(
        choices=("0", "1", "true", "false"),
        message="Invalid include_pagination: expected 0 or 1",
        help_text="1 adds `pagination`.",
    )

    def check_body(self, data: Any) -> None:
        super().check_body(data)
        if "cursor" in data and "page" in data:
            refuse(Kind.INVALID, None, INVALID_CURSOR)

    def build(self, values: dict[str, Any]) -> InvoiceListQuery:
        if "include_pagination" in values:
            values["include_pagination"] = values["include_pagination"] in ("1", "true")
        return InvoiceListQuery(**values)


LOOKUP_PARAMETERS = frozenset(Api2InvoiceLookupQuery.bound_fields()[0])  # either names one invoice, else a list
INVOICE_PARAMETERS = frozenset(
    [*Api2InvoiceLookupQuery.bound_fields()[0], *Api2InvoiceListQuery.bound_fields()[0], *InvoiceFilter.base_filters]
)
