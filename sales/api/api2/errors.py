"""Seed 004's error table for /api2: ``{"error": "..."}`` with its status codes.

``exception_handler`` is every /api2 view's (``get_exception_handler``): the table's status and text for each
error, and 429 with Retry-After for a request past its rate limit (``sales.api.throttling`` counts, this renders).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from integrations.exceptions import IdempotencyKeyInProgress, IdempotencyKeyInvalid, IdempotencyKeyReused
from sales.api.inputs import InputInvalid
from sales.api.json import BodyRefused, RequestBodyTooLarge
from sales.api.throttling import refusal_counted, throttled_response
from sales.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    ConflictError,
    DocumentValidationError,
    DomainError,
    ErrorCode,
    InputError,
    NoSuchEntityError,
    PaymentError,
    PaymentGatewayFailed,
    database_unavailable,
)

logger = logging.getLogger("counterfoil.api.api2")

INVALID_ITEM = "Invalid item"
CANNOT_CREATE = "Cannot create invoice"
TOO_MANY_REQUESTS = "Too many requests"
NOT_FOUND = "Not found"  # a route this door does not have
UNAVAILABLE = "Service unavailable, try again later"  # the database, not the request
IDEMPOTENCY_ERRORS = {
    IdempotencyKeyInvalid: (400, "Invalid Idempotency-Key: expected 1 to 255 characters"),
    IdempotencyKeyReused: (422, "Idempotency-Key is already used for a different request"),
    IdempotencyKeyInProgress: (409, "A request with this Idempotency-Key is in progress"),
}


class Api2Error(Exception):
    """A door-level refusal with its exact /api2 body."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def door_error(exc: Exception) -> Exception:
    """An input serializer's refusal (``sales.api.inputs.InputInvalid``) as /api2's error: its first problem's
    text. The base view applies it before the audit trail records the error; anything else is returned as it is."""
    if isinstance(exc, InputInvalid):
        return Api2Error(exc.problems[0].message)
    return exc


def error(message: str, status: int) -> Response:
    return Response({"error": message}, status=status)


def exception_handler(exc, context):
    exc = refusal_counted(door_error(exc), context)  # a refused caller spends its budget: past it, 429, not 401
    if isinstance(exc, exceptions.Throttled):
        return throttled_response(exc, {"error": TOO_MANY_REQUESTS})
    if isinstance(exc, Api2Error):
        return error(exc.message, exc.status)
    if type(exc) in IDEMPOTENCY_ERRORS:
        status, message = IDEMPOTENCY_ERRORS[type(exc)]
        return error(message, status)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed | exceptions.PermissionDenied):
        return error("Unauthorized", 401)
    if isinstance(exc, NoSuchEntityError):
        return error("Order not found" if exc.entity == "order" else "Invoice not found", 404)
    if isinstance(exc, ConflictError | IntegrityError):
        return error("Conflict on save", 409)
    if isinstance(exc, PaymentGatewayFailed | PaymentError):
        return error("Payment gateway error", 500)  # the one documented 500
    if isinstance(exc, DocumentValidationError):
        refused = {ErrorCode.ORDER_STATUS_REFUSES, ErrorCode.NOTHING_TO_INVOICE} & set(exc.reasons)
        return error(CANNOT_CREATE if refused else INVALID_ITEM, 400)
    if isinstance(exc, DomainError) and exc.code == ErrorCode.INVALID_QTY:
        return error(INVALID_ITEM, 400)
    if isinstance(exc, InputError):
        messages = [problem.message for problem in exc.errors] or [exc.message]
        return error("; ".join(messages), 400)
    if isinstance(exc, DomainError):
        return error(exc.message, exc.http_status)
    if isinstance(exc, RequestBodyTooLarge | RequestDataTooBig):  # the parser's, or Django's own reading the body
        return error(f"Request body too large: the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes", 413)
    if isinstance(exc, BodyRefused):
        return error(f"Invalid body: {exc.reason}", 400)
    if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
        return error("The body must be a JSON object", 400)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return error("Method not allowed", 405)
    if isinstance(exc, Http404 | exceptions.NotFound):
        return error(NOT_FOUND, 404)
    if isinstance(exc, exceptions.APIException):
        return error(str(exc.detail), exc.status_code)
    if database_unavailable(exc):
        return unavailable(context)
    logger.exception("unhandled error in /api2 %s", type(context.get("view")).__name__)
    return error("Internal error", 500)


def unavailable(context) -> Response:
    """The database could not serve the request: logged (the error being handled), 503 with Retry-After."""
    logger.exception("database unavailable in /api2 %s", type(context.get("view")).__name__)
    response = error(UNAVAILABLE, 503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response
