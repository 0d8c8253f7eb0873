"""Reads: each door's query set, with its relations loaded in a fixed number of queries."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from sales.errors import NoSuchEntityError
from sales.models import Invoice, InvoiceComment, InvoiceItem, Order, OrderItem, OrderStatusHistory


def invoices_with_rows() -> QuerySet[Invoice]:
    """Invoices with their rows and comments: three queries however many rows there are."""
    return Invoice.objects.prefetch_related(
        Prefetch("items", queryset=InvoiceItem.objects.order_by("id")),
        Prefetch("comments", queryset=InvoiceComment.objects.order_by("created_at", "id")),
    )


def invoice_get(*, invoice_id: int) -> Invoice:
    invoice = invoices_with_rows().filter(pk=invoice_id).first()
    if invoice is None:
        raise NoSuchEntityError(entity="invoice")
    return invoice


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
