"""Sales > Orders and Sales > Invoices: Magento's back office screens in the Django admin."""

from sales.admin.base import NoFullCountPaginator, ReadOnlyAdmin, ReadOnlyInline
from sales.admin.invoices import InvoiceAdmin
from sales.admin.orders import OrderAdmin

__all__ = ["InvoiceAdmin", "NoFullCountPaginator", "OrderAdmin", "ReadOnlyAdmin", "ReadOnlyInline"]
