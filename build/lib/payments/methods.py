"""The payment methods Counterfoil knows. Offline methods settle outside any gateway."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaymentMethod:
    code: str
    title: str
    is_offline: bool


OFFLINE_METHODS = {
    method.code: method
    for method in (
        PaymentMethod("checkmo", "Check / Money order", True),
        PaymentMethod("banktransfer", "Bank Transfer Payment", True),
        PaymentMethod("cashondelivery", "Cash On Delivery", True),
        PaymentMethod("purchaseorder", "Purchase Order", True),
        PaymentMethod("free", "No Payment Information Required", True),
    )
}


def method_get(code: str) -> PaymentMethod:
    """A known method, or an online one we have no gateway for yet (title = its code)."""
    return OFFLINE_METHODS.get(code) or PaymentMethod(code, code, False)


def is_offline(code: str) -> bool:
    return code in OFFLINE_METHODS
