"""Writes: one business operation each, in one transaction, with keyword-only arguments."""

from sales.services.invoice_comment_add import invoice_comment_add
from sales.services.invoice_email import invoice_email_send
from sales.services.invoice_order import InvoiceCommentRequest, InvoiceLineRequest, invoice_order, invoice_preview
from sales.services.invoice_payment import CaptureCase
from sales.services.invoice_settlement import invoice_cancel, invoice_capture, invoice_void
from sales.services.order_comment_add import order_comment_add
from sales.services.order_import import order_create, order_import

__all__ = [
    "CaptureCase",
    "InvoiceCommentRequest",
    "InvoiceLineRequest",
    "invoice_cancel",
    "invoice_capture",
    "invoice_comment_add",
    "invoice_email_send",
    "invoice_order",
    "invoice_preview",
    "invoice_void",
    "order_comment_add",
    "order_create",
    "order_import",
]
