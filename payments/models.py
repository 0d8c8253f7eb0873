"""Magento's sales_order_payment: one payment per order, its method and its running amounts."""

from django.db import models


def _money(**kwargs):
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
