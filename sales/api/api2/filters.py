"""The list's query parameters, as a django-filter FilterSet, and its keyset paging's cursor."""

from __future__ import annotations

import base64
import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import django_filters as filters
from django.core.validators import MaxValueValidator

from sales.api.api2.errors import Api2Error
from sales.api.validation import holds_nul_character
from sales.models import Invoice, InvoiceState
from sales.money import amount_fits


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


# A "to" day keeps rows before the next day's start: 9999-12-31 has none (a 500 before), so it is bad input.
LAST_DAY_WITH_A_NEXT = MaxValueValidator(datetime.date.max - datetime.timedelta(days=1))


class InvoiceFilter(filters.FilterSet):
    """Dates are whole UTC days, both ends included: ``created_to=2026-12-31`` keeps all of that day."""

    state = filters.TypedChoiceFilter(choices=InvoiceState.choices, coerce=int)
    order_id = filters.NumberFilter(field_name="order_id")
    order_increment_id = filters.CharFilter(field_name="order__increment_id")
    created_from = filters.DateFilter(method="filter_from", field_name="created_at")
    created_to = filters.DateFilter(method="filter_to", field_name="created_at", validators=[LAST_DAY_WITH_A_NEXT])
    updated_from = filters.DateFilter(method="filter_from", field_name="updated_at")
    updated_to = filters.DateFilter(method="filter_to", field_name="updated_at", validators=[LAST_DAY_WITH_A_NEXT])

    class Meta:
        model = Invoice
        fields = ["state", "order_id", "order_increment_id"]

    def filter_from(self, queryset, name, value):
        return queryset.filter(**{f"{name}__gte": _day_start(value)})

    def filter_to(self, queryset, name, value):
        return queryset.filter(**{f"{name}__lt": _day_start(value + datetime.timedelta(days=1))})


# Far past any list's last page, and small enough that its offset (at most 2e11 rows) fits a 64-bit integer.
MAX_PAGE = 1_000_000_000


# -- keyset paging ---------------------------------------------------------------------------------------------

# Each sort is a column with an index on (column, id), read by ``selectors.invoice_keys_after``.
SORT_FIELDS = {
    "entity_id": "pk",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "increment_id": "increment_id",
    "grand_total": "grand_total",
}
INVALID_CURSOR = "Invalid cursor"


def invalid_cursor() -> Api2Error:
    return Api2Error(INVALID_CURSOR)


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after the row ``invoice_id`` whose sort column holds ``value`` (nothing: the first page).

    Encoded as URL-safe base64 of ``[sort, direction, value, id]``, so a cursor made for one sort or direction
    is refused by another.
    """

    sort: str
    descending: bool
    invoice_id: int | None = None
    value: Any = None

    def encode(self) -> str:
        value = self.value
        if isinstance(value, datetime.datetime):
            value = value.astimezone(datetime.UTC).isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        payload = [self.sort, "desc" if self.descending else "asc", value, self.invoice_id]
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, sort: str, descending: bool) -> Cursor:
        try:
            payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
            raise invalid_cursor() from None
        if not (isinstance(payload, list) and len(payload) == 4):
            raise invalid_cursor()
        made_for, direction, value, invoice_id = payload
        if made_for != sort or direction != ("desc" if descending else "asc"):
            raise invalid_cursor()
        if type(invoice_id) is not int or not 1 <= invoice_id <= 2**63 - 1:
            raise invalid_cursor()
        return cls(sort, descending, invoice_id, _cursor_value(sort, value))

    @property
    def column(self) -> str:
        return SORT_FIELDS[self.sort]


def _cursor_value(sort: str, value):
    if sort == "entity_id":
        if value is not None:
            raise invalid_cursor()
        return None
    if sort == "grand_total" and value is None:
        return None  # a NULL amount: the column allows it
    if not isinstance(value, str) or holds_nul_character(value):
        raise invalid_cursor()
    if sort == "increment_id":
        return value
    if sort == "grand_total":
        try:
            amount = Decimal(value)
        except ArithmeticError:
            raise invalid_cursor() from None
        if not (amount.is_finite() and amount_fits(amount)):
            raise invalid_cursor()  # 1e999999 overflows the database's numeric: no row holds it
        return amount
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise invalid_cursor() from None
    if moment.tzinfo is None:
        raise invalid_cursor()
    try:
        moment.astimezone(datetime.UTC)  # 0001-01-01T00:00+01:00 lies before the first representable instant
    except OverflowError:
        raise invalid_cursor() from None
    return moment
