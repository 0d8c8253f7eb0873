"""What every Sales screen shares: rows change only through the services, so nothing here is editable,
and no grid counts a million-row table to page it."""

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.functional import cached_property

from sales.models import Store
from sales.pdf import pdf_filename


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NoFullCountPaginator(Paginator):
    """Counts at most ``CAP + 1`` rows: a million-row table is never counted to page it."""

    CAP = 10_000
    object_list: QuerySet[Any]  # the admin's changelist pages a query set

    @cached_property
    def count(self) -> int:
        # Unordered: any 10,001 matching rows will do, so the planner may take them from any index.
        return self.object_list.order_by()[: self.CAP + 1].count()


def pdf_response(pdf: bytes) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(timezone.now())}"'
    return response


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # no second COUNT(*) over the whole table
    show_facets = admin.ShowFacets.NEVER  # facet counts are a COUNT per filter choice over the table
    paginator = NoFullCountPaginator  # and the page count stops counting at 10,001 rows
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("id", "code", "name", "base_currency_code", "is_active")
