"""The grid's filters that Django's admin has no widget for: Magento's from/to ranges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import admin, messages
from django.utils import timezone


class RangeFilter(admin.FieldListFilter):
    """A from/to pair of inputs; either end may be left empty. Input that is not a value of the
    column is reported to the user and ignored, never a 500."""

    template = "admin/sales/range_filter.html"
    input_type = "text"
    noun = "value"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_from = f"{field_path}__from"
        self.lookup_to = f"{field_path}__to"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = field.verbose_name
        self.request = request

    def expected_parameters(self):
        return [self.lookup_from, self.lookup_to]

    def value(self, lookup: str) -> str:
        value = self.used_parameters.get(lookup, "")
        text = value[-1] if isinstance(value, list) else value  # the query string's: a list of str, or a str
        return text.strip() if isinstance(text, str) else ""

    def parse(self, text: str):
        raise NotImplementedError

    def bounds(self, start, end) -> dict:
        return {
            **({f"{self.field_path}__gte": start} if start is not None else {}),
            **({f"{self.field_path}__lte": end} if end is not None else {}),
        }

    def queryset(self, request, queryset):
        parsed = []
        for lookup in (self.lookup_from, self.lookup_to):
            text = self.value(lookup)
            try:
                parsed.append(self.parse(text) if text else None)
            except (ValueError, InvalidOperation):
                problem = f'"{text}" is not a valid {self.noun} for {self.title}; that filter is ignored.'
                messages.error(request, problem)
                return queryset
        conditions = self.bounds(*parsed)
        return queryset.filter(**conditions) if conditions else queryset

    def choices(self, changelist):
        # One "choice": what the template needs to draw the form and keep the other filters, the
        # search and the sort (every parameter but the page and this filter's own).
        others = {
            name: value for name, value in changelist.filter_params.items() if name not in self.expected_parameters()
        }
        yield {
            "lookup_from": self.lookup_from,
            "lookup_to": self.lookup_to,
            "value_from": self.value(self.lookup_from),
            "value_to": self.value(self.lookup_to),
            "input_type": self.input_type,
            "others": [
                (name, item)
                for name, values in others.items()
                for item in (values if isinstance(values, list) else [values])
            ],
            "clear_url": changelist.get_query_string(remove=self.expected_parameters()),
        }


class DateRangeFilter(RangeFilter):
    """Dates are whole days in the admin's time zone: "to" includes the whole last day."""

    input_type = "date"
    noun = "date (YYYY-MM-DD)"

    def parse(self, text: str) -> dt.date:
        return dt.date.fromisoformat(text)

    def bounds(self, start, end) -> dict:
        zone = timezone.get_current_timezone()
        conditions = {}
        if start is not None:
            conditions[f"{self.field_path}__gte"] = dt.datetime.combine(start, dt.time.min, zone)
        if end is not None:
            conditions[f"{self.field_path}__lt"] = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, zone)
        return conditions


class AmountRangeFilter(RangeFilter):
    input_type = "number"
    noun = "amount"

    def parse(self, text: str) -> Decimal:
        amount = Decimal(text)
        if not amount.is_finite():
            raise InvalidOperation(text)
        return amount
