"""Every exception the payments app raises: a refused operation, and a gateway that refused or did not answer.

A gateway adapter raises a GatewayError; ``payments.services`` wraps it in a PaymentGatewayFailure, which the sales
services answer as their own domain error. Codes and templates follow Magento's phrases.
"""

from __future__ import annotations


class PaymentException(Exception):
    """A payment operation refused; ``template`` and ``parameters`` follow Magento's phrases."""

    code = "payment_refused"

    def __init__(self, template: str, parameters: list | None = None) -> None:
        self.template = template
        self.parameters = parameters or []
        super().__init__(template)


class CaptureUnavailable(PaymentException):
    code = "capture_unavailable"


class VoidUnavailable(PaymentException):
    code = "void_unavailable"


class GatewayError(Exception):
    """The gateway refused or did not answer. ``details`` is what it said, for the log."""

    reason = "gateway_error"

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.details = details or {}


class GatewayDeclined(GatewayError):
    reason = "declined"


class GatewayTimeout(GatewayError):
    reason = "timeout"


class PaymentGatewayFailure(PaymentException):
    """The gateway declined or did not answer; nothing may be written."""

    code = "payment_gateway_error"

    def __init__(self, failure: GatewayError, *, operation: str):
        super().__init__("Could not save an invoice, see error log for details")
        self.reason = failure.reason
        self.operation = operation
        self.details = failure.details
