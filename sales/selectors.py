"""Reads: each door's query set, with its relations loaded in a fixed number of queries."""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, models
from django.db.models import BooleanField, F, Field, Model, Prefetch, Q, QuerySet
from django.db.models.expressions import OrderBy, RawSQL

from notifications.models import EmailOutbox
from sales.errors import NoSuchEntityError
from sales.models import (
    Invoice,
    InvoiceComment,
    InvoiceItem,
    Order,
    OrderItem,
    OrderStatusHistory,
    column_of,
    concrete_field,
)

ID_MAX = 2**63 - 1  # bigint
# The most ids one read binds: any page (/V1's pageSize is at most 10,000) is one query, and a search without
# pageSize (every match) is read in batches of this many, under PostgreSQL's 65,535 parameters a statement and
# SQLite's 32,766 (its default; some builds take more).
IDS_PER_QUERY = 10_000


class InvoiceRows(NamedTuple):
    """One invoice as stored: its columns, its rows' and its comments', each in the order of the names asked for."""

    invoice: tuple
    items: list[tuple]
    comments: list[tuple]
    order_increment_id: str | None


class InvoiceFields(NamedTuple):
    """The Magento names to read (``entity_id`` is the primary key; a foreign key is ``<name>_id``)."""

    invoice: tuple[str, ...]
    item: tuple[str, ...]
    comment: tuple[str, ...]


def invoices_with_rows(
    *, invoice_ids: Sequence[int], fields: InvoiceFields, order_number: bool = False
) -> list[InvoiceRows]:
    """Invoices with their rows and comments, in the order of ``invoice_ids`` (unknown ids are left out).

    One query for up to ``IDS_PER_QUERY`` invoices however many rows or comments they have: the rows and
    comments come as JSON arrays, built by the database in the order of ``fields``. No model instances: a page
    of 50 invoices is thousands of values, and instantiating them was most of a list's time.

    Amounts are Decimal or their text, never a Python float. PostgreSQL sends each exactly, trim_scale() dropping
    the column's trailing zeros (1917.6000 -> 1917.6) so the JSON writer can write it as it is; the JSON is
    parsed with ``parse_float=Decimal``. SQLite has no decimal type: it keeps an amount as a REAL, 15
    significant digits (Django's own read of it rounds to those 15 digits too), and the query reads it as
    SQLite's text of that REAL, so the digits SQLite holds come out as they are.
    """
    # An id no id column can hold (a client's 99999999999999999999) names no invoice: not a driver error.
    ids = [int(invoice_id) for invoice_id in invoice_ids if 0 < int(invoice_id) <= ID_MAX]
    if not ids:
        return []
    sql, decoders = _invoice_rows_sql(fields, order_number, connection.vendor)
    fetched = []
    with connection.cursor() as cursor:
        for start in range(0, len(ids), IDS_PER_QUERY):
            batch = ids[start : start + IDS_PER_QUERY]
            # One placeholder per id: the same text for every page of the same size (so PostgreSQL keeps it
            # prepared), and no array to adapt (for one invoice that was a tenth of the request's Python).
            cursor.execute(sql.format(invoice_ids=", ".join(["%s"] * len(batch))), batch)
            fetched += cursor.fetchall()
    invoice_decode, item_decode, comment_decode = decoders
    found = {}
    for row in fetched:
        invoice_id, *columns, order_increment_id, items, comments = row
        found[invoice_id] = InvoiceRows(
            invoice=_decoded(columns, invoice_decode),
            items=[_decoded(item, item_decode) for item in _json_rows(items)],
            comments=[_decoded(comment, comment_decode) for comment in _json_rows(comments)],
            order_increment_id=order_increment_id,
        )
    return [found[invoice_id] for invoice_id in ids if invoice_id in found]


def invoice_documents(
    *,
    invoice_ids: Sequence[int],
    invoice_members: Sequence[str],
    item_members: Sequence[str],
    comment_members: Sequence[str],
    order_number_key: str | None = None,
) -> list[str]:
    """PostgreSQL: each invoice as a JSON document the database writes, in the order of ``invoice_ids`` (unknown
    ids left out); one query for up to ``IDS_PER_QUERY`` invoices.

    ``*_members`` are the door's members of each object, text expressions over the invoice ``i``, a row ``r`` and
    a comment ``c``, each ``"key":value`` or NULL for a member left out. The document is the invoice's members,
    then ``items`` (by id) and ``comments`` (oldest first), then the order's number under ``order_number_key``.
    Written as text by ``concat_ws``, which skips the NULLs: no json_strip_nulls pass over the whole document
    (a third of the query's time on a page of 50).
    """
    ids = [int(invoice_id) for invoice_id in invoice_ids if 0 < int(invoice_id) <= ID_MAX]
    if not ids:
        return []
    sql = _invoice_documents_sql(tuple(invoice_members), tuple(item_members), tuple(comment_members), order_number_key)
    found = {}
    with connection.cursor() as cursor:
        for start in range(0, len(ids), IDS_PER_QUERY):
            batch = ids[start : start + IDS_PER_QUERY]
            cursor.execute(sql.format(invoice_ids=", ".join(["%s"] * len(batch))), batch)
            found.update(cursor.fetchall())
    return [found[invoice_id] for invoice_id in ids if invoice_id in found]


def _json_object(members: Sequence[str]) -> str:
    if len(members) > 99:  # concat_ws takes at most 100 arguments, the separator included
        raise ValueError(f"{len(members)} members are more than one concat_ws can join")
    return f"'{{' || concat_ws(',', {', '.join(members)}) || '}}'"


@functools.cache
def _invoice_documents_sql(
    invoice_members: tuple, item_members: tuple, comment_members: tuple, order_number_key: str | None
) -> str:
    quote = connection.ops.quote_name
    i_id = f"i.{quote('id')}"

    def rows(model: type[Model], alias: str, members: tuple, ordering: str) -> str:
        table, parent = quote(model._meta.db_table), f"{alias}.{quote('parent_id')}"
        return (
            f"coalesce((SELECT '[' || string_agg({_json_object(members)}, ',' ORDER BY {ordering}) || ']'"
            f" FROM {table} {alias} WHERE {parent} = {i_id}), '[]')"
        )

    items = rows(InvoiceItem, "r", item_members, f"r.{quote('id')}")
    comments = rows(InvoiceComment, "c", comment_members, f"c.{quote('created_at')}, c.{quote('id')}")
    members = [*invoice_members, f"'\"items\":' || {items}", f"'\"comments\":' || {comments}"]
    join = ""
    if order_number_key is not None:
        if not order_number_key.isidentifier():
            raise ValueError(f"{order_number_key} is not a key the database can write")
        members.append(f"'\"{order_number_key}\":' || to_json(o.{quote('increment_id')})::text")
        join = f" INNER JOIN {quote(Order._meta.db_table)} o ON o.{quote('id')} = i.{quote('order_id')}"
    document = _json_object(members).replace("{", "{{").replace("}", "}}")  # literal braces, for str.format
    # {invoice_ids} is the one slot filled in per call (a placeholder per id); the rest is fixed text.
    return f"SELECT {i_id}, {document} FROM {quote(Invoice._meta.db_table)} i{join} WHERE {i_id} IN ({{invoice_ids}})"


def _json_rows(text: str | None) -> list:
    return json.loads(text, parse_float=Decimal) if text else []


def _decoded(values: Sequence, decoders: tuple) -> tuple:
    if not decoders:
        return tuple(values)
    values = list(values)
    for index, decode in decoders:
        if values[index] is not None:
            values[index] = decode(values[index])
    return tuple(values)


def _utc_datetime(value: str | datetime.datetime) -> datetime.datetime:
    """A datetime read as text (JSON, or SQLite's naive UTC text) as an aware datetime."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


def _model_field(model: type[Model], name: str) -> Field:
    if name == "entity_id":
        return model._meta.pk
    return next(field for field in model._meta.concrete_fields if field.attname == name)


@functools.cache
def _invoice_rows_sql(fields: InvoiceFields, order_number: bool, vendor: str) -> tuple[str, tuple]:
    """The query of ``invoices_with_rows``, a ``str.format`` template with one slot, ``{invoice_ids}``, and,
    per part, which positions need decoding (datetimes read as text)."""
    postgres = vendor == "postgresql"
    quote = connection.ops.quote_name

    def column(alias: str, field: Field) -> str:
        name = f"{alias}.{quote(column_of(field))}"
        if isinstance(field, models.DecimalField):
            # PostgreSQL: exact numerics without trailing zeros; SQLite: the text of its REAL, not a Python float.
            return f"trim_scale({name})" if postgres else f"CAST({name} AS TEXT)"
        return name

    def part(model: type[Model], names: tuple[str, ...], alias: str, *, in_json: bool) -> tuple[str, tuple]:
        model_fields = [_model_field(model, name) for name in names]
        columns = ", ".join(column(alias, field) for field in model_fields)
        text_dates = in_json or not postgres
        decoders = tuple(
            (index, _utc_datetime)
            for index, field in enumerate(model_fields)
            if text_dates and isinstance(field, models.DateTimeField)
        )
        return columns, decoders

    def rows_json(model: type[Model], names: tuple[str, ...], alias: str, ordering: str) -> tuple[str, tuple]:
        columns, decoders = part(model, names, alias, in_json=True)
        table = quote(model._meta.db_table)
        parent = f"{alias}.{quote('parent_id')}"
        if postgres:
            sql = (
                f"(SELECT json_agg(json_build_array({columns}) ORDER BY {ordering})::text"
                f" FROM {table} {alias} WHERE {parent} = i.{quote('id')})"
            )
        else:  # the derived table orders the rows: SQLite's aggregates take no ORDER BY before 3.44
            rows = f"SELECT * FROM {table} {alias} WHERE {parent} = i.{quote('id')} ORDER BY {ordering}"
            sql = f"(SELECT json_group_array(json_array({columns})) FROM ({rows}) {alias})"
        return sql, decoders

    invoice_columns, invoice_decoders = part(Invoice, fields.invoice, "i", in_json=False)
    items, item_decoders = rows_json(InvoiceItem, fields.item, "r", f"r.{quote('id')}")
    comments, comment_decoders = rows_json(
        InvoiceComment, fields.comment, "c", f"c.{quote('created_at')}, c.{quote('id')}"
    )
    order_table = quote(Order._meta.db_table)
    number, join = "NULL", ""
    if order_number:
        number = f"o.{quote('increment_id')}"
        join = f" INNER JOIN {order_table} o ON o.{quote('id')} = i.{quote('order_id')}"
    # {invoice_ids} is the one slot filled in per call (a placeholder per id); the rest is fixed text.
    where = f"i.{quote('id')} IN ({{invoice_ids}})"
    sql = (
        f"SELECT i.{quote('id')}, {invoice_columns}, {number}, {items}, {comments}"
        f" FROM {quote(Invoice._meta.db_table)} i{join} WHERE {where}"
    )
    # The first column is the id, for matching the rows to the ids asked for; it is not part of the invoice.
    return sql, (invoice_decoders, item_decoders, comment_decoders)


# -- /api2's list: keyset paging -------------------------------------------------------------------------------
# A page is read from the (column, id) index after the previous page's last row, however deep, instead of
# counting past OFFSET rows. Ties are broken by id, in the sort's direction.


def _nullable(column: str) -> bool:
    return column != "pk" and Invoice._meta.get_field(column).null


def invoice_list_ordering(*, column: str, descending: bool) -> list[OrderBy]:
    """The list's ORDER BY: NULLs last ascending and first descending (PostgreSQL's order, which its indexes
    keep; SQLite is told so explicitly), then the id in the same direction."""
    nulls = {} if not _nullable(column) else {"nulls_first": True} if descending else {"nulls_last": True}
    by_column = F(column).desc(**nulls) if descending else F(column).asc(**nulls)
    return [by_column] if column == "pk" else [by_column, F("pk").desc() if descending else F("pk").asc()]


def _after_row(column: str, descending: bool, value: object, invoice_id: int) -> RawSQL:
    """``(column, id) > (value, id)`` (``<`` descending): a row comparison read from the (column, id) index."""
    quote = connection.ops.quote_name
    table = quote(Invoice._meta.db_table)
    field = concrete_field(Invoice, column)
    operator = "<" if descending else ">"
    return RawSQL(
        f"({table}.{quote(column_of(field))}, {table}.{quote('id')}) {operator} (%s, %s)",
        (field.get_db_prep_value(value, connection), invoice_id),
        output_field=BooleanField(),
    )


def invoice_keys_after(
    invoices: QuerySet[Invoice],
    *,
    column: str,
    descending: bool,
    count: int,
    after: tuple[int, Any] | None = None,
    offset: int = 0,
) -> list[tuple[int, Any]]:
    """``count`` of ``invoices`` as ``(id, value of column)``, in the list's order (``invoice_list_ordering``):
    after the invoice ``after`` names by its id and its value of ``column``, or ``offset`` rows into the list
    without one. ``column`` is a model field or ``pk`` (then the value is None). One query, or two when an
    ascending page runs past the last amount into the NULLs."""
    ordered = invoices.order_by(*invoice_list_ordering(column=column, descending=descending))
    tail_nulls = False
    if after is not None:
        after_id, value = after
        id_after = {"pk__lt" if descending else "pk__gt": after_id}
        if column == "pk":
            ordered = ordered.filter(**id_after)
        elif value is None:  # inside the NULLs of a nullable column, ordered by id
            rest = Q(**{f"{column}__isnull": True}, **id_after)
            if descending:  # NULLs first: every amount is still to come
                rest |= Q(**{f"{column}__isnull": False})
            ordered = ordered.filter(rest)
        else:
            ordered = ordered.filter(_after_row(column, descending, value, after_id))
            # A row comparison is never true for a NULL; ascending, the NULLs come after the last amount.
            tail_nulls = not descending and _nullable(column)
    fields = ("pk", "pk") if column == "pk" else ("pk", column)
    keys = [
        (invoice_id, None if column == "pk" else value)
        for invoice_id, value in ordered.values_list(*fields)[offset : offset + count]
    ]
    if tail_nulls and len(keys) < count:
        nulls = invoices.filter(**{f"{column}__isnull": True}).order_by("pk").values_list("pk", column)
        keys += list(nulls[: count - len(keys)])
    return keys


def orders_with_rows() -> QuerySet[Order]:
    return Order.objects.select_related("billing_address", "shipping_address", "payment").prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("id")),
        Prefetch("status_histories", queryset=OrderStatusHistory.objects.order_by("-created_at", "-id")),
    )


def order_get(*, order_id: int) -> Order:
    order = orders_with_rows().filter(pk=order_id).first()
    if order is None:
        raise NoSuchEntityError(entity="order")
    return order


def order_status_get(*, order_id: int) -> str:
    status = Order.objects.filter(pk=order_id).values_list("status", flat=True).first()
    if status is None:
        raise NoSuchEntityError(entity="order")
    return status


def invoice_comments(*, invoice_id: int) -> list[InvoiceComment]:
    if not Invoice.objects.filter(pk=invoice_id).exists():
        raise NoSuchEntityError(entity="invoice")
    return list(InvoiceComment.objects.filter(parent_id=invoice_id).order_by("created_at", "id"))


def order_comments(*, order_id: int) -> list[OrderStatusHistory]:
    if not Order.objects.filter(pk=order_id).exists():
        raise NoSuchEntityError(entity="order")
    return list(OrderStatusHistory.objects.filter(order_id=order_id).order_by("-created_at", "-id"))


def order_id_by_increment_id(increment_id: str) -> int | None:
    """An order named by its number; the oldest when two stores share a number."""
    return Order.objects.filter(increment_id=increment_id).order_by("pk").values_list("pk", flat=True).first()


def invoice_id_by_increment_id(increment_id: str) -> int | None:
    return Invoice.objects.filter(increment_id=increment_id).order_by("pk").values_list("pk", flat=True).first()


def orders_with_documents() -> QuerySet[Order]:
    """Orders with all the order page shows: store, addresses, payment, rows, history and invoices,
    in four queries however many rows, comments or invoices there are."""
    return (
        orders_with_rows()
        .select_related("store")
        .prefetch_related(Prefetch("invoices", queryset=Invoice.objects.order_by("id")))
    )


def invoices_of_orders(orders: QuerySet[Order]) -> QuerySet[Invoice]:
    """Every invoice of these orders, order by order (the orders grid's Print Invoices)."""
    return Invoice.objects.filter(order__in=orders).only("pk").order_by("order_id", "pk")


def order_with_items_get(*, order_id: int) -> Order:
    """An order with its payment and rows (the New Invoice page): two queries however many rows."""
    order = (
        Order.objects.select_related("payment")
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("id")))
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NoSuchEntityError(entity="order")
    return order


def invoice_page_get(*, invoice_id: int) -> Invoice | None:
    """The invoice with all its admin page shows: its order with store, addresses and payment, its rows with
    their order rows, its comments (newest first) and its e-mails with their attempts, in a fixed number of
    queries."""
    return (
        Invoice.objects.select_related(
            "order__store", "order__billing_address", "order__shipping_address", "order__payment"
        )
        .prefetch_related(
            Prefetch("items", queryset=InvoiceItem.objects.select_related("order_item").order_by("id")),
            Prefetch("comments", queryset=InvoiceComment.objects.order_by("-created_at", "-id")),
            Prefetch(
                "emails",
                queryset=EmailOutbox.objects.defer("body_text", "body_html")
                .order_by("-id")
                .prefetch_related("attempt_log"),
            ),
        )
        .filter(pk=invoice_id)
        .first()
    )
