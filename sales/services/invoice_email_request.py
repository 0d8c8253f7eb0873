from __future__ import annotations

from django.db import transaction

from sales.errors import NoSuchEntityError
from sales.models import Invoice, InvoiceComment


def invoice_email_request(*, invoice_id: int, comment: str | None = None) -> Invoice:
    """Ask for the invoice e-mail to be (re)sent: ``send_email`` = 1 and ``email_sent`` back to null.

    Magento's meaning: null ``email_sent`` is "not sent yet". The e-mail worker picks such
    invoices up and sets ``email_sent`` = 1 once the mail is out. A comment goes with the mail.
    """
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).filter(pk=invoice_id).first()
        if invoice is None:
            raise NoSuchEntityError(entity="invoice")
        invoice.send_email = 1
        invoice.email_sent = None
        invoice.save(update_fields=["send_email", "email_sent", "updated_at"])
        if comment:
            InvoiceComment.objects.create(parent=invoice, comment=comment, is_customer_notified=True)
    return invoice
