"""The audit trail of the REST doors: every write made with a token, recorded in one place per door.

``AuditedWrites`` sits under both doors' base views (``MagentoView``, ``Api2View``). A route declares what its
unsafe methods do (``audit_actions``); the hook records the token's user, the token's kind (and an integration
token's name), the action, the object (from the URL, the answer or the body) and the outcome from the status,
once the answer is final. One INSERT per write and no read: the user and token are those the request was
authenticated with, content types come from Django's cache. A replayed ``Idempotency-Key`` answer did nothing
again and records nothing (the first request's entry stands for it); nor does a throttled request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from rest_framework.exceptions import Throttled
from rest_framework.permissions import SAFE_METHODS

from audit.models import AuditAction, AuditChannel, AuditOutcome
from audit.services import audit_record, client_address
from integrations.idempotency import REPLAYED_HEADER
from sales.audit import error_message_of, outcome_of
from sales.errors import DomainError
from sales.models import Invoice, Order

Target = tuple[type[models.Model], Any, str]  # model, id, repr ("" for "<verbose name> <id>")


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


if TYPE_CHECKING:
    from rest_framework.views import APIView

    _View = APIView  # what AuditedWrites is mixed into
else:
    _View = object


class AuditedWrites(_View):
    audit_channel: AuditChannel
    audit_actions: dict[str, AuditAction] = {}  # per unsafe HTTP method: what the route does
    audit_error: BaseException | None = None
    audited_object: models.Model | None = None  # what a route made, when its answer does not say it plainly

    def answered_object(self, data) -> Target | None:
        """The object a successful answer names (the invoice created, the order imported); None: the URL's."""
        return None

    def requested_object(self) -> Target | None:
        """The object the request names: in the URL (``invoice_id``, ``order_id``), else in the body."""
        for name, model in (("invoice_id", Invoice), ("order_id", Order)):
            if name in self.kwargs:
                return model, self.kwargs[name], ""
        body = self.request.__dict__.get("_full_data")  # parsed already, or not at all: never parse here
        if isinstance(body, dict):
            entity = body.get("entity")
            parent_id = _int(entity.get("parent_id")) if isinstance(entity, dict) else None  # a /V1 comment's
            for model, pk in (
                (Order, _int(body.get("order_id"))),
                (Invoice, _int(body.get("invoice_id"))),
                (Invoice, _int(body.get("id"))),
                (Invoice, parent_id),
            ):
                if pk is not None:
                    return model, pk, ""
        return None

    def audit_detail(self) -> str:
        return f"{self.request.method} {self.request.path}"

    def handle_exception(self, exc):
        self.audit_error = exc
        try:
            return super().handle_exception(exc)
        except Exception:
            self.audit_write(500, None)  # answered by Django's 500 handler; recorded here, as it passes
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if not response.has_header(REPLAYED_HEADER):
            self.audit_write(response.status_code, response)
        return response

    def audit_write(self, status: int, response) -> None:
        request = self.request
        action = self.audit_actions.get(request.method or "")
        token = request.__dict__.get("_auth")  # the authenticated token; never authenticate here
        error = self.audit_error
        if request.method in SAFE_METHODS or action is None or token is None or isinstance(error, Throttled):
            return  # a throttled request did nothing, and must not cost an INSERT each: the limit caps load
        if status < 400:
            outcome = AuditOutcome.SUCCEEDED
        elif status >= 500:
            outcome = AuditOutcome.FAILED
        else:
            outcome = outcome_of(error) if isinstance(error, DomainError) else AuditOutcome.REFUSED
        target = None
        if status < 400 and self.audited_object is not None:
            made = self.audited_object
            target = type(made), made.pk, str(made)
        elif status < 400 and response is not None:
            target = self.answered_object(getattr(response, "data", None))
        model, object_id, object_repr = target or self.requested_object() or (None, None, "")
        audit_record(
            action=action,
            channel=self.audit_channel,
            outcome=outcome,
            actor=request.__dict__.get("_user"),
            model=model,
            object_id=object_id,
            object_repr=object_repr,
            token_kind=getattr(token, "kind", ""),
            token_name=getattr(token, "name", ""),
            http_status=status,
            error_message=error_message_of(error) if outcome != AuditOutcome.SUCCEEDED else "",
            client_address=client_address(request),
            detail=self.audit_detail(),
        )
