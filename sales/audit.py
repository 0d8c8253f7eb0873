"""What the doors tell the audit trail about a sales action: how it ended, in the trail's words."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest

from audit.models import AuditAction, AuditOutcome
from audit.services import admin_action_record
from payments.exceptions import PaymentGatewayFailure
from sales.errors import ConflictError, DomainError, PaymentGatewayFailed


def outcome_of(error: BaseException | None) -> AuditOutcome:
    """Succeeded without an error; refused when a rule turned the request away (bad input, a state that does
    not allow it); failed when it was tried and did not happen (the gateway declined or timed out, a
    concurrent write won, an unexpected error)."""
    if error is None:
        return AuditOutcome.SUCCEEDED
    if isinstance(error, PaymentGatewayFailed | ConflictError) or not isinstance(error, DomainError):
        return AuditOutcome.FAILED
    return AuditOutcome.REFUSED


def error_message_of(error: BaseException | None) -> str:
    """The error as staff read it; a gateway failure adds the gateway's own reason, which the client's
    message ("see error log for details") leaves out."""
    if error is None:
        return ""
    message = error.message if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
    cause = error.__cause__
    if isinstance(cause, PaymentGatewayFailure):
        message += f" (the gateway could not {cause.operation}: {cause.reason})"
    return message


@contextmanager
def admin_action_recorded(request: HttpRequest, *, action: AuditAction, **target: Any) -> Iterator[dict]:
    """Records the Sales admin action the block runs, however it ends: succeeded, or refused or failed with the
    error it raised (raised on, for the view to report). ``target`` names the object as ``audit_record`` takes
    it; the block may name the one it made instead (``target.update(obj=invoice, detail=...)``)."""
    target = dict(target)
    try:
        yield target
    except Exception as error:
        admin_action_record(
            request, action=action, outcome=outcome_of(error), error_message=error_message_of(error), **target
        )
        raise
    admin_action_record(request, action=action, **target)
