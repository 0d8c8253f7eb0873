"""Payments and their gateway transactions, read-only: money moves only through the services."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from payments.models import Payment, Transaction


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "order",
        "method",
        "base_amount_ordered",
        "base_amount_paid",
        "base_amount_paid_online",
        "last_trans_id",
    )
    list_filter = ("method",)
    list_select_related = ("order",)
    search_fields = ("=order__increment_id", "=last_trans_id")


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("txn_id", "txn_type", "order", "amount", "is_closed", "parent", "created_at")
    list_filter = ("txn_type", "is_closed")
    list_select_related = ("order", "parent")
    search_fields = ("=txn_id", "=order__increment_id")
