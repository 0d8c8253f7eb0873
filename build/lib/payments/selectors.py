from django.db.models import Prefetch, QuerySet

from payments.models import Transaction


def transactions_with_children() -> QuerySet[Transaction]:
    """Transactions with their parent's id and their children: a fixed number of queries."""
    return Transaction.objects.select_related("parent").prefetch_related(
        Prefetch("children", queryset=Transaction.objects.select_related("parent").order_by("id"))
    )


def transaction_get(*, transaction_id: int) -> Transaction | None:
    return transactions_with_children().filter(pk=transaction_id).first()
