"""Magento's sales_order_payment: one payment per order, its method and its running amounts."""

from typing import Any

from django.db import models


def _money(**kwargs: Any) -> models.DecimalField:
    kwargs.setdefault("null", True)
    kwargs.setdefault("blank", True)
    return models.DecimalField(max_digits=20, decimal_places=4, **kwargs)


class Payment(models.Model):
    order = models.OneToOneField("sales.Order", on_delete=models.CASCADE, related_name="payment")
    method = models.CharField(max_length=128)
    additional_information = models.JSONField(default=dict, blank=True)
    po_number = models.CharField(max_length=32, blank=True, null=True)
    last_trans_id = models.CharField(max_length=255, blank=True, null=True)

    amount_ordered = _money()
    base_amount_ordered = _money()
    shipping_amount = _money()
    base_shipping_amount = _money()
    amount_authorized = _money()
    base_amount_authorized = _money()
    amount_paid = _money()
    base_amount_paid = _money()
    base_amount_paid_online = _money()
    shipping_captured = _money()
    base_shipping_captured = _money()
    amount_canceled = _money()
    base_amount_canceled = _money()
    amount_refunded = _money()
    base_amount_refunded = _money()

    class Meta:
        indexes = [models.Index(fields=["method"], name="payments_payment_method_idx")]

    def __str__(self) -> str:
        return f"{self.method} for order {self.order_id}"

    @property
    def entity_id(self) -> int:
        return self.pk

    @property
    def parent_id(self) -> int:
        return self.order_id


class Transaction(models.Model):
    """A movement at the payment gateway (Magento's sales_payment_transaction)."""

    class Type(models.TextChoices):
        ORDER = "order", "Order"
        AUTHORIZATION = "authorization", "Authorization"
        CAPTURE = "capture", "Capture"
        VOID = "void", "Void"
        REFUND = "refund", "Refund"

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="transactions")
    order = models.ForeignKey("sales.Order", on_delete=models.CASCADE, related_name="payment_transactions")
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    txn_id = models.CharField(max_length=100)
    txn_type = models.CharField(max_length=15, choices=Type.choices)
    is_closed = models.BooleanField(default=False)
    amount = _money()
    idempotency_key = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="The gateway's answer.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "txn_id"], name="payments_transaction_payment_txn_uniq"),
        ]
        indexes = [models.Index(fields=["order", "txn_type"], name="payments_txn_order_type_idx")]

    def __str__(self) -> str:
        return f"{self.txn_type} {self.txn_id}"

    @property
    def transaction_id(self) -> int:
        return self.pk

    @property
    def parent_txn_id(self) -> str | None:
        return self.parent.txn_id if self.parent is not None else None
