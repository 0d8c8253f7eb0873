"""Domain errors: a Magento message template, its parameters, and what kind of failure it is.

Services raise these; each door renders them in its own envelope (/V1: ``{"message",
"parameters"}`` with Magento's status codes, /api2: ``{"error"}``). A template keeps Magento's
placeholders (``%1`` or ``%name``) so that /V1 can return it exactly as Magento does.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence

from django.db import InterfaceError, OperationalError


class ErrorCode(enum.StrEnum):
    """Every machine name a sales service raises with, one list (as Saleor's ``order/error_codes.py``).

    A DomainError's ``code`` and a DocumentValidationError's ``reasons`` are these; the doors map them to their
    own envelopes. A refusal the payments or inventory apps raise keeps their own code (those apps never import
    sales) and is passed through as it is.
    """

    DOMAIN_ERROR = "domain_error"
    # bad input
    INVALID_INPUT = "invalid_input"
    REQUIRED = "required"
    INVALID_VALUE = "invalid_value"
    INVALID_QTY = "invalid_qty"
    COMMENT_INVALID = "comment_invalid"
    NO_SUCH_ENTITY = "no_such_entity"
    # an invoice that may not be created: the reasons of a DocumentValidationError
    DOCUMENT_VALIDATION = "document_validation"
    NOT_PART_OF_ORDER = "not_part_of_order"
    QTY_OVER_UNINVOICED = "qty_over_uninvoiced"
    WITHOUT_PRODUCTS = "without_products"
    ORDER_STATUS_REFUSES = "order_status_refuses"
    NOTHING_TO_INVOICE = "nothing_to_invoice"
    # paying, capturing, voiding, canceling an invoice
    COULD_NOT_INVOICE = "could_not_invoice"
    PAYMENT_ERROR = "payment_error"
    PAYMENT_GATEWAY_ERROR = "payment_gateway_error"
    INVOICE_ALREADY_PAID = "invoice_already_paid"
    CAPTURE_UNAVAILABLE = "capture_unavailable"
    VOID_UNAVAILABLE = "void_unavailable"
    CANCEL_UNAVAILABLE = "cancel_unavailable"
    INVOICE_NOT_CANCELABLE = "invoice_not_cancelable"
    # importing an order
    TOO_MANY_ITEMS = "too_many_items"
    # a concurrent write won
    CONFLICT = "conflict"
    TRANSIENT_CONFLICT = "transient_conflict"


# Magento's messages for an invoice that may not be created (its invoice and order validators), by reason; read by
# the service that refuses and by the admin page that says so before it is asked. A message raised in one place only
# stays with the rule that raises it, under its code.
INVOICE_REFUSALS = {
    ErrorCode.NOT_PART_OF_ORDER: "The invoice contains one or more items that are not part of the original order.",
    ErrorCode.QTY_OVER_UNINVOICED: (
        'The quantity to invoice must not be greater than the uninvoiced quantity for product SKU "%1".'
    ),
    ErrorCode.WITHOUT_PRODUCTS: "The invoice can't be created without products. Add products and try again.",
    ErrorCode.ORDER_STATUS_REFUSES: "An invoice cannot be created when an order has a status of %1",
    ErrorCode.NOTHING_TO_INVOICE: "The order does not allow an invoice to be created.",
}
INVALID_QTY = 'We found an invalid quantity to invoice item "%1".'  # a negative or fractional qty, refused outright

_PLACEHOLDER = re.compile(r"%(\d+|[A-Za-z_][A-Za-z0-9_]*)")


Parameters = Sequence | Mapping | None  # a template's: positional (%1) or named (%name)


def render_template(template: str, parameters: Parameters) -> str:
    """Fill ``%1``-style (positional) or ``%name``-style (named) placeholders."""
    if not parameters:
        return template

    def substitute(match: re.Match) -> str:
        key = match.group(1)
        if isinstance(parameters, Mapping):
            return str(parameters.get(key, match.group(0)))
        if key.isdigit() and 0 < int(key) <= len(parameters):
            return str(parameters[int(key) - 1])
        return match.group(0)

    return _PLACEHOLDER.sub(substitute, template)


class DomainError(Exception):
    """Base of every error a service raises on purpose.

    ``code`` is a stable machine name the doors map to their own status and envelope.
    """

    code: str = ErrorCode.DOMAIN_ERROR
    http_status = 400

    def __init__(self, template: str, parameters: Parameters = None, *, code: str | None = None) -> None:
        self.template = template
        self.parameters = parameters if parameters is not None else []
        if code:
            self.code = code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return render_template(self.template, self.parameters)


class InputError(DomainError):
    """Bad input (Magento's InputException): one or more field problems, 400."""

    code = ErrorCode.INVALID_INPUT

    def __init__(
        self,
        template: str,
        parameters: Parameters = None,
        *,
        errors: list[InputError] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(template, parameters, code=code)
        self.errors = errors or []

    @classmethod
    def required(cls, field_name: str) -> InputError:
        return cls('"%fieldName" is required. Enter and try again.', {"fieldName": field_name}, code=ErrorCode.REQUIRED)

    @classmethod
    def invalid_value(cls, field_name: str, value: object) -> InputError:
        return cls(
            'Invalid value of "%value" provided for the %fieldName field.',
            {"value": value, "fieldName": field_name},
            code=ErrorCode.INVALID_VALUE,
        )

    @classmethod
    def collect(cls, problems: list[InputError]) -> InputError:
        """One error for one problem; Magento's aggregate for several."""
        if len(problems) == 1:
            return problems[0]
        return cls("One or more input exceptions have occurred.", errors=problems, code=ErrorCode.INVALID_INPUT)


class NoSuchEntityError(DomainError):
    """An id that names nothing (Magento's NoSuchEntityException), 404."""

    code = ErrorCode.NO_SUCH_ENTITY
    http_status = 404
    DEFAULT = "The entity that was requested doesn't exist. Verify the entity and try again."

    def __init__(
        self, template: str = DEFAULT, parameters: Parameters = None, *, entity: str = "", code: str | None = None
    ) -> None:
        super().__init__(template, parameters, code=code)
        self.entity = entity


class DocumentValidationError(DomainError):
    """An invoice that may not be created: Magento's joined validation messages, 400."""

    code = ErrorCode.DOCUMENT_VALIDATION
    HEADER = "Invoice Document Validation Error(s):"

    def __init__(self, messages: list[str], *, reasons: list[ErrorCode] | None = None):
        self.messages = messages
        # The failed rules (INVOICE_REFUSALS' keys), parallel to messages; /api2 maps them to its table.
        self.reasons = reasons or []
        super().__init__("\n".join([self.HEADER, *messages]))


class CouldNotInvoiceError(DomainError):
    """A failure while paying or saving an invoice (Magento's CouldNotInvoiceException), 400."""

    code = ErrorCode.COULD_NOT_INVOICE
    DEFAULT = "Could not save an invoice, see error log for details"

    def __init__(self, template: str = DEFAULT, parameters: Parameters = None, *, code: str | None = None) -> None:
        super().__init__(template, parameters, code=code)


class PaymentError(DomainError):
    """The payment method refused or failed an operation, 400 on /V1."""

    code = ErrorCode.PAYMENT_ERROR


class PaymentGatewayFailed(CouldNotInvoiceError):
    """The payment gateway declined or timed out; the whole operation was rolled back.

    /V1 answers Magento's 400 ``Could not save an invoice, see error log for details``; /api2
    answers its documented 500 ``Payment gateway error``.
    """

    code = ErrorCode.PAYMENT_GATEWAY_ERROR


class ConflictError(DomainError):
    """A concurrent write won (lock wait timed out, serialization failure, deadlock); nothing written."""

    code = ErrorCode.CONFLICT
    http_status = 409
    DEFAULT = "The order is being changed by another request. Try again."

    def __init__(self, template: str = DEFAULT, parameters: Parameters = None, *, code: str | None = None) -> None:
        super().__init__(template, parameters, code=code)


# -- the database failing, which is never the client's doing ------------------------------------------------

DATABASE_RETRY_AFTER_SECONDS = 5  # the Retry-After of a 503: a lost connection is replaced on the next request


def database_unavailable(error: BaseException) -> bool:
    """The database could not serve the request: the connection is lost or refused, or the server stopped the
    statement (a timeout, a shutdown). Each door answers 503 with Retry-After; any other database error the
    services let through is a 500. A lost race is not this: the services raise ConflictError (409) for it."""
    return isinstance(error, OperationalError | InterfaceError)
