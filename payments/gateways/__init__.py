"""Payment gateway adapters: the interface every online method implements, and the registry.

A gateway is the network edge. Each call carries an idempotency key derived from the
operation, so a request retried after a timeout or a rolled-back save reaches the gateway with
the same key and moves money once. Calls are bounded by ``PAYMENT_GATEWAY_TIMEOUT_SECONDS``.

A gateway that refuses or does not answer raises ``payments.exceptions.GatewayDeclined`` or
``GatewayTimeout``. New gateways plug in by settings: ``PAYMENT_GATEWAYS = {"method_code": "dotted.path.Class"}``.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_GATEWAYS = {"sandbox": "payments.gateways.sandbox.SandboxGateway"}


class Outcome(enum.StrEnum):
    APPROVED = "approved"
    REVIEW = "review"  # the gateway holds the money for a manual or fraud review


@dataclass(frozen=True)
class GatewayAnswer:
    outcome: Outcome
    transaction_id: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayRequest:
    """One money movement, in the base currency the order was paid in."""

    amount: Decimal
    currency: str
    idempotency_key: str
    order_reference: str
    parent_transaction_id: str | None = None
    additional_information: dict = field(default_factory=dict)


class PaymentGateway(Protocol):
    code: str
    timeout_seconds: float

    def authorize(self, request: GatewayRequest) -> GatewayAnswer: ...

    def capture(self, request: GatewayRequest) -> GatewayAnswer: ...

    def void(self, request: GatewayRequest) -> GatewayAnswer: ...

    def refund(self, request: GatewayRequest) -> GatewayAnswer: ...


def gateways() -> dict[str, str]:
    return {**DEFAULT_GATEWAYS, **settings.PAYMENT_GATEWAYS}


def has_gateway(method_code: str) -> bool:
    return method_code in gateways()


@cache
def _gateway_class(path: str) -> Callable[..., PaymentGateway]:  # a class taking code= and timeout_seconds=
    return import_string(path)


def gateway_for(method_code: str) -> PaymentGateway:
    timeout = float(settings.PAYMENT_GATEWAY_TIMEOUT_SECONDS)
    return _gateway_class(gateways()[method_code])(code=method_code, timeout_seconds=timeout)


def idempotency_key(operation: str, *parts: object) -> str:
    """The same operation on the same state gives the same key: a retry is recognised."""
    text = "|".join([operation, *(str(part) for part in parts)])
    return hashlib.sha256(text.encode()).hexdigest()[:40]
