"""Magento's ``searchCriteria`` for /V1 list routes: parse it from the query string, apply it to a queryset.

Query syntax (Magento's; camelCase spellings such as ``filterGroups``/``pageSize``/``conditionType`` are
accepted too, as Magento's own deserializer does)::

    searchCriteria[filter_groups][0][filters][0][field]=order_id
    searchCriteria[filter_groups][0][filters][0][value]=5
    searchCriteria[filter_groups][0][filters][0][condition_type]=eq
    searchCriteria[sortOrders][0][field]=created_at
    searchCriteria[sortOrders][0][direction]=DESC
    searchCriteria[pageSize]=20
    searchCriteria[currentPage]=2

Semantics:

* Filters inside one filter group are OR-ed; groups are AND-ed. Indexes may be sparse; numeric order rules.
* ``condition_type`` defaults to ``eq``. Supported: eq, neq, like, in, nin, gt, gteq, lt, lteq, from (>=),
  to (<=), null, notnull. Anything else (including Magento's finset) is rejected.
* ``neq``/``nin`` behave like SQL ``<>``/``NOT IN`` (as on Magento): rows whose column is NULL never match.
* ``in``/``nin`` take comma-separated values (Magento splits on ``,`` without trimming; text values are
  kept verbatim, other values are stripped before coercion).
* ``like`` is SQL LIKE (text fields only): ``%`` any run, ``_`` one character, ``\\`` escapes the next
  character. Case sensitivity is the database's (SQLite: ASCII case-insensitive, like MySQL's default
  collations; PostgreSQL: case-sensitive).
* Values are coerced with the model field's ``to_python``. Datetimes are ``YYYY-MM-DD`` or
  ``YYYY-MM-DD HH:MM:SS`` (ISO 8601 variants also work) and mean UTC unless an offset is given; a bare date
  is midnight, so ``to 2026-01-31`` on a datetime stops at 2026-01-31 00:00:00, exactly as on Magento.
* A sort order without ``direction`` sorts DESC (Magento treats anything but ASC as DESC).
* ``pageSize`` is 1..10000; ``currentPage`` >= 1 and defaults to 1.

Error field names: every problem found while parsing names the query-string key it came from, spelled
canonically in snake_case with the client's own indexes, e.g.
``searchCriteria[filter_groups][3][filters][0][condition_type]``,
``searchCriteria[sort_orders][0][direction]``, ``searchCriteria[page_size]``; an unrecognised key is
reported as sent. Problems found while applying are about Magento field names: a field the route does not
allow (in a filter or a sort order) is ``invalid_value("field", name)``, an
uncoercible value is ``invalid_value(<Magento field name>, value)``, ``like`` on a non-text field is
``invalid_value("condition_type", "like")``. All problems of one phase are raised together through
``InputError.collect``.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import FieldError, ValidationError
from django.db.models import BooleanField, CharField, DateTimeField, Field, Lookup, Q, QuerySet, TextField
from django.db.models.constants import LOOKUP_SEP
from django.utils import timezone

from sales.errors import InputError

ROOT = "searchCriteria"
MAX_PAGE_SIZE = 10_000

# condition_type -> Django lookup (null/notnull/neq/nin/like are built specially below).
_SIMPLE_LOOKUPS = {
    "eq": "exact",
    "gt": "gt",
    "gteq": "gte",
    "lt": "lt",
    "lteq": "lte",
    "from": "gte",
    "to": "lte",
}
CONDITION_TYPES = frozenset({*_SIMPLE_LOOKUPS, "neq", "like", "in", "nin", "null", "notnull"})
_VALUELESS_CONDITIONS = frozenset({"null", "notnull"})

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_KEY = re.compile(r"searchCriteria((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_FILTER_LEAVES = ("field", "value", "condition_type")
_DIGITS = re.compile(r"[0-9]{1,18}")
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")


# --- the criteria ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    field: str
    value: str | None
    condition_type: str

    def as_dict(self) -> dict:
        data = {"field": self.field, "value": self.value, "condition_type": self.condition_type}
        if self.value is None:
            del data["value"]
        return data


@dataclass(frozen=True)
class SortOrder:
    field: str
    direction: str  # "ASC" | "DESC"

    def as_dict(self) -> dict:
        return {"field": self.field, "direction": self.direction}


@dataclass(frozen=True)
class SearchCriteria:
    filter_groups: tuple[tuple[Filter, ...], ...] = ()
    sort_orders: tuple[SortOrder, ...] = ()
    page_size: int | None = None
    current_page: int | None = None

    def as_dict(self) -> dict:
        """Magento's echo of the criteria in a search result; nulls and empty sort orders are omitted."""
        data: dict = {"filter_groups": [{"filters": [f.as_dict() for f in group]} for group in self.filter_groups]}
        if self.sort_orders:
            data["sort_orders"] = [s.as_dict() for s in self.sort_orders]
        if self.page_size is not None:
            data["page_size"] = self.page_size
        if self.current_page is not None:
            data["current_page"] = self.current_page
        return data


# --- SQL LIKE -------------------------------------------------------------------------------------------


def like_pattern(value: str) -> str:
    """Magento's LIKE value as a well-formed pattern for ``LIKE ... ESCAPE '\\'``.

    ``%`` and ``_`` stay wildcards, ``\\x`` is a literal x (MySQL's default escape, which Magento relies on),
    and a trailing lone backslash is a literal backslash (PostgreSQL would otherwise reject the pattern).
    """
    out = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            literal = next(chars, "\\")
            out.append("\\" + literal if literal in "%_\\" else literal)
        else:
            out.append(char)
    return "".join(out)


@CharField.register_lookup
@TextField.register_lookup
class MagentoLike(Lookup):
    """``field__magento_like=pattern``: SQL LIKE with Magento's wildcards (see ``like_pattern``).

    One lookup for every pattern (rather than startswith/contains for the simple ones) keeps the matching
    rules identical whatever the pattern looks like: Django's contains is ``LIKE BINARY`` on MySQL but
    plain LIKE elsewhere, which would make ``%a%`` and ``a%b`` disagree about case.
    """

    lookup_name = "magento_like"

    def get_prep_lookup(self):
        rhs = super().get_prep_lookup()
        return like_pattern(rhs) if isinstance(rhs, str) else rhs

    def _like_sql(self, compiler, connection, escape: str):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} LIKE {rhs_sql}{escape}", (*lhs_params, *rhs_params)

    def as_sql(self, compiler, connection):
        return self._like_sql(compiler, connection, " ESCAPE '\\'")

    def as_mysql(self, compiler, connection):
        # Backslash is MySQL's default LIKE escape, and a string-literal escape, so say nothing.
        return self._like_sql(compiler, connection, "")


# --- parsing --------------------------------------------------------------------------------------------


def _snake(segment: str) -> str:
    return _CAMEL_HUMP.sub("_", segment).lower()


def _pairs(query_params) -> Iterator[tuple[str, str | None]]:
    """(key, last value) for a QueryDict or a plain dict (whose values may be lists); last one wins."""
    if hasattr(query_params, "lists"):
        for key, values in query_params.lists():
            yield key, values[-1] if values else ""
        return
    for key, value in query_params.items():
        if isinstance(value, list | tuple):
            value = value[-1] if value else ""
        yield key, None if value is None else str(value)


def _path(*parts) -> str:
    return ROOT + "".join(f"[{part}]" for part in parts)


@dataclass
class _SentKeys:
    """The ``searchCriteria`` keys of a query string by slot, values as sent (``_read_keys`` fills it)."""

    present: bool = False
    groups: dict[int, dict[int, dict[str, str | None]]] = field(default_factory=dict)  # group -> filter -> leaf
    sorts: dict[int, dict[str, str | None]] = field(default_factory=dict)  # sort order -> leaf
    page_size: str | None = None
    current_page: str | None = None


def _read_keys(query_params, problems: list[InputError]) -> _SentKeys:
    """Sort each ``searchCriteria[...]`` key into its slot; a key that names no slot is a problem."""
    sent = _SentKeys()
    for key, value in _pairs(query_params):
        if key != ROOT and not key.startswith(ROOT + "["):
            continue
        sent.present = True
        key_match = _KEY.fullmatch(key)
        segments = [_snake(s) for s in _SEGMENT.findall(key_match.group(1))] if key_match else None
        match segments:
            case []:
                pass
            case ["filter_groups", group, "filters", index, leaf] if (
                leaf in _FILTER_LEAVES and _DIGITS.fullmatch(group) and _DIGITS.fullmatch(index)
            ):
                sent.groups.setdefault(int(group), {}).setdefault(int(index), {})[leaf] = value
            case ["sort_orders", index, ("field" | "direction") as leaf] if _DIGITS.fullmatch(index):
                sent.sorts.setdefault(int(index), {})[leaf] = value
            case ["page_size"]:
                sent.page_size = value
            case ["current_page"]:
                sent.current_page = value
            case _:
                problems.append(InputError.invalid_value(key, value))
    return sent


def _filter(group: int, index: int, leaves: dict[str, str | None], problems: list[InputError]) -> Filter:
    def name(leaf: str) -> str:
        return _path("filter_groups", group, "filters", index, leaf)

    field_name, value = leaves.get("field"), leaves.get("value")
    condition = (leaves.get("condition_type") or "eq").strip().lower()
    if not field_name:
        problems.append(InputError.required(name("field")))
    if condition not in CONDITION_TYPES:
        problems.append(InputError.invalid_value(name("condition_type"), leaves.get("condition_type")))
    elif value is None and condition not in _VALUELESS_CONDITIONS:
        problems.append(InputError.required(name("value")))
    return Filter(field=field_name or "", value=value, condition_type=condition)


def _sort_order(index: int, leaves: dict[str, str | None], problems: list[InputError]) -> SortOrder:
    field_name, direction = leaves.get("field"), leaves.get("direction")
    if not field_name:
        problems.append(InputError.required(_path("sort_orders", index, "field")))
    normalized = "DESC" if direction is None else direction.strip().upper()
    if normalized not in ("ASC", "DESC"):
        problems.append(InputError.invalid_value(_path("sort_orders", index, "direction"), direction))
    return SortOrder(field=field_name or "", direction=normalized)


def parse_search_criteria(query_params, *, required: bool = True) -> SearchCriteria:
    """Parse ``searchCriteria[...]`` keys out of ``query_params`` (a QueryDict or a dict).

    Keys other than ``searchCriteria`` and ``searchCriteria[...]`` are ignored; a bare ``searchCriteria``
    (any value, e.g. Magento users' ``searchCriteria=all``) means empty criteria. Raises ``InputError``:
    ``required("searchCriteria")`` when ``required`` and no such key is present, otherwise one collected
    error for every problem found (unknown keys, then filters, sort orders, page size, current page).
    """
    problems: list[InputError] = []
    sent = _read_keys(query_params, problems)
    if not sent.present:
        if required:
            raise InputError.required(ROOT)
        return SearchCriteria()
    criteria = SearchCriteria(
        filter_groups=tuple(
            tuple(_filter(group, index, leaves, problems) for index, leaves in sorted(sent.groups[group].items()))
            for group in sorted(sent.groups)
        ),
        sort_orders=tuple(_sort_order(index, sent.sorts[index], problems) for index in sorted(sent.sorts)),
        page_size=_positive_int(sent.page_size, _path("page_size"), problems, maximum=MAX_PAGE_SIZE),
        current_page=_positive_int(sent.current_page, _path("current_page"), problems),
    )
    if problems:
        raise InputError.collect(_unique(problems))
    return criteria


def _positive_int(raw: str | None, name: str, problems: list, *, maximum: int | None = None) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    number = int(text) if _DIGITS.fullmatch(text) else 0
    if number < 1 or (maximum is not None and number > maximum):
        problems.append(InputError.invalid_value(name, raw))
        return None
    return number


def _unique(problems: list[InputError]) -> list[InputError]:
    seen, unique = set(), []
    for problem in problems:
        if problem.message not in seen:
            seen.add(problem.message)
            unique.append(problem)
    return unique


# --- applying -------------------------------------------------------------------------------------------


class _BadValue(Exception):
    def __init__(self, value):
        super().__init__(value)
        self.value = value


def _resolve(model, path: str) -> tuple[Field, bool]:
    """The model field an ORM path ends on (the target's pk for reverse/m2m relations) and whether the
    path crosses a to-many relation (so filtering on it can duplicate rows)."""
    opts, field, to_many = model._meta, None, False
    for name in path.split(LOOKUP_SEP):
        if field is not None:
            if not field.is_relation:
                raise FieldError(f"{path!r}: {field.name!r} is not a relation")
            opts = field.related_model._meta
        field = opts.pk if name == "pk" else opts.get_field(name)
        if field.is_relation:
            to_many = to_many or bool(field.one_to_many or field.many_to_many)
    assert field is not None  # a path has one name at least
    if field.many_to_many or (field.is_relation and not field.concrete):
        # Reverse relations and m2m compare by the related row's pk; a ForeignKey coerces via its target.
        field = field.related_model._meta.pk
    return field, to_many


def _coerce(field: Field, raw: str):
    text = raw if isinstance(field, CharField | TextField) else raw.strip()
    if isinstance(field, BooleanField):  # Django accepts only 1/0/t/f/True/False; allow true/false too
        text = {"true": "True", "false": "False"}.get(text.lower(), text)
    try:
        value = field.to_python(text)
    except (ValidationError, ValueError, TypeError, OverflowError):
        raise _BadValue(raw) from None
    if value is None:  # "" for a non-text field
        raise _BadValue(raw)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX:
        raise _BadValue(raw)
    if isinstance(value, float) and not math.isfinite(value):
        raise _BadValue(raw)
    if isinstance(field, DateTimeField) and isinstance(value, datetime.datetime):
        value = _utc(value)
    return value


def _utc(value: datetime.datetime) -> datetime.datetime:
    """Magento's datetimes are UTC: make naive ones aware in UTC (or, without USE_TZ, local naive)."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.UTC)
    if settings.USE_TZ:
        return value
    return timezone.make_naive(value, timezone.get_default_timezone())


def _condition(path: str, field: Field, flt: Filter) -> Q:
    condition = flt.condition_type
    if condition == "null":
        return Q(**{f"{path}__isnull": True})
    if condition == "notnull":
        return Q(**{f"{path}__isnull": False})
    value = flt.value
    assert value is not None  # only null and notnull come without one (_filter refuses the rest)
    if condition == "like":
        if not isinstance(field, CharField | TextField):
            raise _BadValue(None)
        return Q(**{f"{path}__magento_like": value})
    if condition in ("in", "nin"):
        values = [_coerce(field, item) for item in value.split(",")]
        matched = Q(**{f"{path}__in": values})
    else:
        matched = Q(**{f"{path}__{_SIMPLE_LOOKUPS.get(condition, 'exact')}": _coerce(field, value)})
    if condition in ("neq", "nin"):
        # SQL's <> and NOT IN never match NULL; Django's exclude() would.
        return Q(**{f"{path}__isnull": False}) & ~matched
    return matched


def _is_pk(ordering: str, opts) -> bool:
    return ordering.lstrip("-") in ("pk", opts.pk.name, opts.pk.attname)


def _where(queryset: QuerySet, criteria: SearchCriteria, fields: Mapping[str, str], problems: list) -> QuerySet:
    """One filter() per group (AND), its filters OR-ed; distinct when a filter crosses a to-many relation."""
    to_many = False
    for group in criteria.filter_groups:
        matched = Q()
        for flt in group:
            path = fields.get(flt.field)
            if path is None:
                problems.append(InputError.invalid_value("field", flt.field))
                continue
            field, crosses_to_many = _resolve(queryset.model, path)
            try:
                matched |= _condition(path, field, flt)
            except _BadValue as bad:
                if bad.value is None:  # like on a field that is not text
                    problems.append(InputError.invalid_value("condition_type", flt.condition_type))
                else:
                    problems.append(InputError.invalid_value(flt.field, bad.value))
                continue
            to_many = to_many or crosses_to_many
        queryset = queryset.filter(matched)
    return queryset.distinct() if to_many else queryset


def _ordering(criteria: SearchCriteria, fields: Mapping[str, str], problems: list) -> list[str]:
    ordering = []
    for sort in criteria.sort_orders:
        path = fields.get(sort.field)
        if path is None:
            problems.append(InputError.invalid_value("field", sort.field))
            continue
        ordering.append(("-" if sort.direction == "DESC" else "") + path)
    return ordering


def apply_search_criteria(
    queryset: QuerySet,
    criteria: SearchCriteria,
    *,
    fields: Mapping[str, str],
    default_ordering: Sequence[str] = ("-pk",),
) -> tuple[QuerySet, int]:
    """Filter, order and page ``queryset``; return ``(page_queryset, total_count)``.

    ``fields`` maps the Magento field names a route allows (for filters and sort orders) to ORM paths.
    Runs exactly one query (the COUNT of the filtered rows); the page queryset is returned unevaluated so
    the caller can add select_related/prefetch_related (but no more filter/order_by: it may be sliced).
    Ordering is the sort orders in order (``default_ordering`` when none are given), then ``pk`` as a final
    tiebreak so pages are stable. Without a pageSize the whole result is page 1.
    A page beyond the last is empty, deliberately: Magento clamps it to the last page, which makes naive
    pagers loop forever.
    """
    problems: list[InputError] = []
    queryset = _where(queryset, criteria, fields, problems)
    ordering = _ordering(criteria, fields, problems) or list(default_ordering)
    if problems:
        raise InputError.collect(_unique(problems))
    if not any(_is_pk(item, queryset.model._meta) for item in ordering):
        ordering.append("pk")
    queryset = queryset.order_by(*ordering)

    total_count = queryset.count()
    page = criteria.current_page or 1
    if criteria.page_size is None:
        return (queryset if page == 1 else queryset.none()), total_count
    offset = (page - 1) * criteria.page_size
    if offset >= total_count:
        return queryset.none(), total_count
    return queryset[offset : offset + criteria.page_size], total_count
