from __future__ import annotations

from typing import Any

from django.db import transaction

from sales.errors import ErrorCode, InputError, NoSuchEntityError
from sales.locking import retry_transient
from sales.models import Invoice, InvoiceComment
from sales.services.invoice_email import invoice_comment_email_queue


@retry_transient()
def invoice_comment_add(
    *, invoice_id: Any, comment: Any, is_customer_notified: bool = False, is_visible_on_front: bool = False
) -> InvoiceComment:  # invoice_id and comment as the client sent them: checked here
    """Magento's invoice comment repository save, with its validator's messages.

    ``"Parent Invoice Id" is required...`` when the key is missing, ``... can not be empty``
    when it is blank; all of them joined under ``Cannot save comment:``.
    """
    problems = []
    for label, value in (("Parent Invoice Id", invoice_id), ("Comment", comment)):
        if value is None:
            problems.append(f'"{label}" is required. Enter and try again.')
        elif isinstance(value, str) and not value.strip():
            problems.append(f"{label} can not be empty")
    if problems:
        raise InputError("\n".join(["Cannot save comment:", *problems]), code=ErrorCode.COMMENT_INVALID)
    if not isinstance(comment, str):
        raise InputError.invalid_value("comment", type(comment).__name__)
    try:
        invoice_id = int(invoice_id)
    except (TypeError, ValueError):
        raise InputError.invalid_value("parent_id", invoice_id) from None
    with transaction.atomic():
        if not Invoice.objects.filter(pk=invoice_id).exists():
            raise NoSuchEntityError(entity="invoice")
        created = InvoiceComment.objects.create(
            parent_id=invoice_id,
            comment=comment,
            is_customer_notified=is_customer_notified,
            is_visible_on_front=is_visible_on_front,
        )
        if is_customer_notified:
            invoice_comment_email_queue(comment=created)  # Magento's "Invoice Update" mail
        return created
