"""``sandbox``: a simulated card gateway, so online payments can be exercised without a network.

The order's ``payment.additional_information.sandbox_outcome`` chooses how captures answer:
``approve`` (default), ``decline``, ``timeout``, ``review`` or ``stall``. Authorizations and voids
are approved. Like a real gateway it remembers every idempotency key it has seen (for the life of
the process) and answers a repeated key with the first answer, moving no money again.

``stall`` is a test and demo aid, a fault injected at the true edge: a gateway slow to answer. The
capture waits ``additional_information.sandbox_stall_seconds`` (default 5) and then approves; a
wait that reaches the call's bound (``PAYMENT_GATEWAY_TIMEOUT_SECONDS``) ends there as a time-out,
as a real call would. Meanwhile the invoice's transaction stays open with the order row locked,
which lets a test kill the worker in the middle of invoicing.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from payments.exceptions import GatewayDeclined, GatewayTimeout
from payments.gateways import GatewayAnswer, GatewayRequest, Outcome


class SandboxLedger:
    """The sandbox's memory: answers by idempotency key, and how often money really moved."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[str, GatewayAnswer] = {}
        self.movements: Counter[str] = Counter()  # operation -> times money moved
        self.keys_seen: list[str] = []

    def once(self, operation: str, request: GatewayRequest, answer_fn: Callable[[], GatewayAnswer]) -> GatewayAnswer:
        with self._lock:
            self.keys_seen.append(request.idempotency_key)
            known = self._answers.get(request.idempotency_key)
            if known is not None:
                return known
            answer = answer_fn()  # raises for declines and time-outs: nothing is remembered
            self._answers[request.idempotency_key] = answer
            self.movements[operation] += 1
            return answer

    def reset(self) -> None:
        with self._lock:
            self._answers.clear()
            self.movements.clear()
            self.keys_seen.clear()


LEDGER = SandboxLedger()

DEFAULT_STALL_SECONDS = 5.0


def stall_seconds(additional_information: dict) -> float:
    """How long a ``stall`` capture waits: ``sandbox_stall_seconds``, a number of seconds >= 0."""
    try:
        seconds = float(additional_information.get("sandbox_stall_seconds", DEFAULT_STALL_SECONDS))
    except (TypeError, ValueError):
        return DEFAULT_STALL_SECONDS
    return seconds if math.isfinite(seconds) and seconds >= 0 else DEFAULT_STALL_SECONDS


@dataclass
class SandboxGateway:
    code: str = "sandbox"
    timeout_seconds: float = 10

    def _transaction_id(self, operation: str, request: GatewayRequest) -> str:
        return f"sbx-{operation[:4]}-{request.idempotency_key[:12]}"

    def _approve(self, operation: str, request: GatewayRequest, outcome: Outcome = Outcome.APPROVED) -> GatewayAnswer:
        return GatewayAnswer(
            outcome=outcome,
            transaction_id=self._transaction_id(operation, request),
            details={
                "gateway": "sandbox",
                "operation": operation,
                "amount": str(request.amount),
                "currency": request.currency,
                "outcome": str(outcome),
            },
        )

    def authorize(self, request: GatewayRequest) -> GatewayAnswer:
        return LEDGER.once("authorize", request, lambda: self._approve("authorize", request))

    def capture(self, request: GatewayRequest) -> GatewayAnswer:
        wanted = str(request.additional_information.get("sandbox_outcome", "approve"))
        if wanted == "stall":
            self._stall(request)  # outside the ledger's lock: a slow answer holds up no other call
            wanted = "approve"

        def answer() -> GatewayAnswer:
            if wanted == "decline":
                raise GatewayDeclined("Card declined", details={"gateway": "sandbox", "code": "card_declined"})
            if wanted == "timeout":
                raise GatewayTimeout(
                    f"No answer within {self.timeout_seconds:g} s", details={"gateway": "sandbox", "code": "timeout"}
                )
            if wanted == "review":
                return self._approve("capture", request, Outcome.REVIEW)
            return self._approve("capture", request)

        return LEDGER.once("capture", request, answer)

    def _stall(self, request: GatewayRequest) -> None:
        """Wait as a slow gateway would; no later than the call's bound, which answers as a time-out."""
        wanted = stall_seconds(request.additional_information)
        time.sleep(min(wanted, self.timeout_seconds))
        if wanted >= self.timeout_seconds:
            raise GatewayTimeout(
                f"No answer within {self.timeout_seconds:g} s", details={"gateway": "sandbox", "code": "timeout"}
            )

    def void(self, request: GatewayRequest) -> GatewayAnswer:
        return LEDGER.once("void", request, lambda: self._approve("void", request))

    def refund(self, request: GatewayRequest) -> GatewayAnswer:
        return LEDGER.once("refund", request, lambda: self._approve("refund", request))
