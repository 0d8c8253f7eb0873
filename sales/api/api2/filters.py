"""The list's query parameters, as a django-filter FilterSet."""

from __future__ import annotations

import datetime

import django_filters as filters

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
