"""Magento's error envelope for /V1: ``{"message", "parameters"}`` (parameters only when present).

``exception_handler`` is every /V1 view's (``get_exception_handler``): Magento's status and message for each
error, and 429 with Retry-After for a request past its rate limit (``sales.api.throttling`` counts, this renders).
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from integrations.exceptions import IdempotencyKeyInProgress, IdempotencyKeyInvalid, IdempotencyKeyReused
from sales.api.inputs import InputInvalid, Kind
from sales.api.json import RequestBodyTooLarge
from sales.api.throttling import refusal_counted, throttled_response
from sales.errors import DATABASE_RETRY_AFTER_SECONDS, DomainError, InputError, NoSuchEntityError, database_unavailable

logger = logging.getLogger("counterfoil.api.v1")

UNAUTHORIZED = "The consumer isn't authorized to access %resources."
TOKEN_EXPIRED = "Consumer key has expired"
NO_ROUTE = "Request does not match any route."
INTERNAL = "Internal Error. Details are available in Magento log file. Report ID: %1"
UNAVAILABLE = "The service is temporarily unavailable. Try again later. Report ID: %1"  # the database, not the request
TOO_MANY_REQUESTS = "Too Many Requests"  # Magento 2.4.7's RequestValidator::checkBackpressure, without parameters
TOO_LARGE = "The request body is larger than the limit of %1 bytes."  # Counterfoil's: Magento leaves it to PHP
# Idempotency-Key refusals (Counterfoil's; Magento has no such header), by status.
IDEMPOTENCY_ERRORS = {
    IdempotencyKeyInvalid: (400, "The Idempotency-Key header must be 1 to 255 characters."),
    IdempotencyKeyReused: (422, "Idempotency-Key is already used for a different request."),
    IdempotencyKeyInProgress: (409, "A request with this Idempotency-Key is still being processed. Retry later."),
}


def envelope(template: str, parameters=None) -> dict:
    body = {"message": template}
    if parameters:
        body["parameters"] = parameters
    return body


def domain_error_body(error: DomainError) -> dict:
    if isinstance(error, InputError) and error.errors:
        return {
            "message": error.template,
            "errors": [envelope(problem.template, problem.parameters) for problem in error.errors],
        }
    return envelope(error.template, error.parameters)


def door_error(exc: Exception) -> Exception:
    """An input serializer's refusal (``sales.api.inputs.InputInvalid``) as Magento's InputException: one
    problem, or the aggregate of several, in the serializer's order. The base view applies it before the
    audit trail records the error, so both see Magento's error; anything else is returned as it is."""
    if not isinstance(exc, InputInvalid):
        return exc
    return InputError.collect(
        [
            InputError.required(problem.path)
            if problem.kind == Kind.REQUIRED
            else InputError.invalid_value(problem.path, problem.value)
            for problem in exc.problems
        ]
    )


def exception_handler(exc, context):
    exc = refusal_counted(door_error(exc), context)  # a refused caller spends its budget: past it, 429, not 401
    if isinstance(exc, exceptions.Throttled):
        return throttled_response(exc, envelope(TOO_MANY_REQUESTS))
    view = context.get("view")
    resource = getattr(view, "acl_resource", None) or "Magento_Sales::sales"
    if isinstance(exc, DomainError):
        return Response(domain_error_body(exc), status=exc.http_status)
    if type(exc) in IDEMPOTENCY_ERRORS:
        status, message = IDEMPOTENCY_ERRORS[type(exc)]
        return Response(envelope(message), status=status)
    if isinstance(exc, Http404 | exceptions.NotFound):
        return Response(envelope(NoSuchEntityError.DEFAULT), status=404)
    if isinstance(exc, exceptions.AuthenticationFailed) and exc.get_codes() == "token_expired":
        return Response(envelope(TOKEN_EXPIRED), status=401)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed | exceptions.PermissionDenied):
        return Response(envelope(UNAUTHORIZED, {"resources": resource}), status=401)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return Response(envelope(NO_ROUTE), status=404)  # Magento routes by method and path together
    if isinstance(exc, RequestBodyTooLarge | RequestDataTooBig):  # the parser's, or Django's own reading the body
        return Response(envelope(TOO_LARGE, [settings.DATA_UPLOAD_MAX_MEMORY_SIZE]), status=413)
    if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
        return Response(envelope("Decoding error: %1", [str(exc.detail)]), status=400)
    if isinstance(exc, exceptions.APIException):
        return Response(envelope(str(exc.detail)), status=exc.status_code)
    if database_unavailable(exc):
        return unavailable(view)
    # A bug: logged with a report id, answered in Magento's envelope rather than an HTML page.
    report_id = uuid.uuid4().hex[:12]
    logger.exception("unhandled error in %s (report %s)", type(view).__name__ if view else "?", report_id)
    return Response(envelope(INTERNAL, [report_id]), status=500)


def unavailable(view) -> Response:
    """The database could not serve the request: logged (the error being handled) with a report id, 503."""
    report_id = uuid.uuid4().hex[:12]
    logger.exception("database unavailable in %s (report %s)", type(view).__name__ if view else "?", report_id)
    return Response(
        envelope(UNAVAILABLE, [report_id]), status=503, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    )
