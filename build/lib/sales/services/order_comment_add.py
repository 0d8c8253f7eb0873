from __future__ import annotations

from django.db import transaction

from sales.errors import InputError, NoSuchEntityError
from sales.locking import conflicts_as_domain_errors, lock_order, retry_transient
from sales.models import STATE_STATUSES, OrderStatusHistory


@retry_transient()
def order_comment_add(
    *,
    order_id: int,
    comment: str,
    status: str | None = None,
    is_customer_notified: bool = False,
    is_visible_on_front: bool = False,
) -> OrderStatusHistory:
    """Add a comment to the order's history; a status given with it becomes the order's status.

    The status must be one the order's current state may carry (Magento lets any status through
    and can leave an order ``complete``-labelled while it is still processing).
    """
    if not isinstance(comment, str) or not comment.strip():
        raise InputError.required("statusHistory.comment")
    with transaction.atomic(), conflicts_as_domain_errors():
        order = lock_order(order_id)
        if order is None:
            raise NoSuchEntityError(entity="order")
        if status:
            if status not in STATE_STATUSES.get(order.state, set()):
                raise InputError.invalid_value("statusHistory.status", status)
            if status != order.status:
                order.status = status
                order.save(update_fields=["status", "updated_at"])
        return OrderStatusHistory.objects.create(
            order=order,
            comment=comment,
            status=order.status,
            is_customer_notified=is_customer_notified,
            is_visible_on_front=is_visible_on_front,
            entity_name="order",
        )
