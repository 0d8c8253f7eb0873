"""The list's query parameters, as a django-filter FilterSet, and its keyset (cursor) paging."""

from __future__ import annotations

import base64
import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import django_filters as filters
from django.db import connection
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL

from sales.api.api2.errors import Api2Error
from sales.models import Invoice, InvoiceState


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


class InvoiceFilter(filters.FilterSet):
    """Dates are whole UTC days, both ends included: ``created_to=2026-12-31`` keeps all of that day."""

    state = filters.TypedChoiceFilter(choices=InvoiceState.choices, coerce=int)
    order_id = filters.NumberFilter(field_name="order_id")
    order_increment_id = filters.CharFilter(field_name="order__increment_id")
    created_from = filters.DateFilter(method="filter_from", field_name="created_at")
    created_to = filters.DateFilter(method="filter_to", field_name="created_at")
    updated_from = filters.DateFilter(method="filter_from", field_name="updated_at")
    updated_to = filters.DateFilter(method="filter_to", field_name="updated_at")

    class Meta:
        model = Invoice
        fields = ["state", "order_id", "order_increment_id"]

    def filter_from(self, queryset, name, value):
        return queryset.filter(**{f"{name}__gte": _day_start(value)})

    def filter_to(self, queryset, name, value):
        return queryset.filter(**{f"{name}__lt": _day_start(value + datetime.timedelta(days=1))})


# -- keyset paging ---------------------------------------------------------------------------------------------

# Each sort is a column with an index on (column, id): a page is read from the index after the previous page's
# last row, however deep, instead of counting past OFFSET rows. Ties are broken by id, in the sort's direction.
SORT_FIELDS = {"entity_id": "pk", "created_at": "created_at", "updated_at": "updated_at",
               "increment_id": "increment_id", "grand_total": "grand_total"}  # fmt: skip
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
    if not isinstance(value, str) or "\x00" in value:
        raise invalid_cursor()
    if sort == "increment_id":
        return value
    if sort == "grand_total":
        try:
            amount = Decimal(value)
        except ArithmeticError:
            raise invalid_cursor() from None
        if not amount.is_finite():
            raise invalid_cursor()
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


def _nullable(column: str) -> bool:
    return column != "pk" and Invoice._meta.get_field(column).null


def cursor_ordering(cursor: Cursor) -> list:
    """The list's ORDER BY: NULLs last ascending and first descending (PostgreSQL's order, which its indexes keep)."""
    column = cursor.column
    if cursor.descending:
        by_column = F(column).desc(nulls_first=True) if _nullable(column) else F(column).desc()
    else:
        by_column = F(column).asc(nulls_last=True) if _nullable(column) else F(column).asc()
    return [by_column] if column == "pk" else [by_column, F("pk").desc() if cursor.descending else F("pk").asc()]


def _row_after(cursor: Cursor) -> RawSQL:
    """``(column, id) > (value, id)`` (``<`` descending): a row comparison read from the (column, id) index."""
    quote = connection.ops.quote_name
    table = quote(Invoice._meta.db_table)
    field = Invoice._meta.get_field(cursor.column)
    operator = "<" if cursor.descending else ">"
    return RawSQL(
        f"({table}.{quote(field.column)}, {table}.{quote('id')}) {operator} (%s, %s)",
        (field.get_db_prep_value(cursor.value, connection), cursor.invoice_id),
        output_field=BooleanField(),
    )


def rows_after(queryset: QuerySet[Invoice], cursor: Cursor, count: int, *, offset: int = 0) -> list[tuple]:
    """``count`` rows as ``(id, sort value)``: after the cursor's row, or ``offset`` rows into the list without one."""
    column = cursor.column
    ordered = queryset.order_by(*cursor_ordering(cursor))
    id_after = {"pk__lt" if cursor.descending else "pk__gt": cursor.invoice_id}
    tail_nulls = False
    if cursor.invoice_id is None:
        pass
    elif column == "pk":
        ordered = ordered.filter(**id_after)
    elif cursor.value is None:  # inside the NULLs of a nullable column, ordered by id
        after = Q(**{f"{column}__isnull": True}, **id_after)
        if cursor.descending:  # NULLs first: every amount is still to come
            after |= Q(**{f"{column}__isnull": False})
        ordered = ordered.filter(after)
    else:
        ordered = ordered.filter(_row_after(cursor))
        # A row comparison is never true for a NULL; ascending, the NULLs come after the last amount.
        tail_nulls = not cursor.descending and _nullable(column)
    fields = ("pk", "pk") if column == "pk" else ("pk", column)
    keys = [(invoice_id, None if column == "pk" else value) for invoice_id, value in
            ordered.values_list(*fields)[offset : offset + count]]  # fmt: skip
    if tail_nulls and len(keys) < count:
        nulls = queryset.filter(**{f"{column}__isnull": True}).order_by("pk").values_list("pk", column)
        keys += list(nulls[: count - len(keys)])
    return keys
