from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        from notifications.sent import on_email_sent
        from sales.services.invoice_email import INVOICE_NEW

        # Magento's email_sent: 1 once the invoice's "New Invoice" mail is out (null while pending); an "Invoice
        # Update" mail does not count. Written by the e-mail worker with its own bookkeeping, on the same claim.
        on_email_sent(INVOICE_NEW, set_on_invoice={"email_sent": 1})
