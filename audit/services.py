"""``audit_record``: the one writer of the audit trail, and what the doors hand it.

When to call it: after the action's service returned or raised, outside its transaction. A failed action's
entry must outlive the rollback, so it cannot be written inside the service's transaction; and a succeeded
one is written the same way rather than inside it, because the services own their transactions (one each,
re-run whole after a lost race by ``sales.locking.retry_transient``, which an outer transaction would switch
off) and the audit app is a leaf they do not call. The cost: a process killed between the service's commit and
this INSERT leaves an action without its entry; an INSERT that fails is logged with the whole entry instead.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, models
from django.db.models import QuerySet

from audit.models import AuditAction, AuditChannel, AuditEntry, AuditOutcome, AuditTokenKind
from integrations.client_address import client_address as request_client_address

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest
    from rest_framework.request import Request

logger = logging.getLogger(__name__)

REPR_MAX = AuditEntry._meta.get_field("object_repr").max_length
DETAIL_MAX = AuditEntry._meta.get_field("detail").max_length


def printable(text: str) -> str:
    """The text with NUL characters and lone surrogates escaped (``\\x00``, ``\\ud800``): bad input quoted in
    an error must not fail the INSERT (PostgreSQL's text refuses NUL, UTF-8 has no lone surrogate)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def audit_record(
    *,
    action: AuditAction | str,
    channel: AuditChannel | str,
    outcome: AuditOutcome | str,
    actor: User | AnonymousUser | None = None,
    obj: models.Model | None = None,
    model: type[models.Model] | None = None,
    object_id: Any = None,
    object_repr: str = "",
    token_kind: AuditTokenKind | str = "",
    token_name: str = "",
    http_status: int | None = None,
    error_message: str = "",
    client_address: str | None = None,
    detail: str = "",
) -> AuditEntry | None:
    """Write one entry: one INSERT (content types come from Django's per-process cache).

    The object is ``obj``, or ``model`` and ``object_id`` when only its id is at hand (``object_repr``
    then defaults to "<verbose name> <id>"). Never raises: an audit INSERT that fails (the database went
    away after the action) must not turn the action's answer into an error, so it is logged, entry and all.
    """
    if obj is not None:
        model, object_id = type(obj), obj.pk
        object_repr = object_repr or str(obj)
    if model is not None and object_id is not None and not object_repr:
        object_repr = f"{model._meta.verbose_name} {object_id}"
    entry = AuditEntry(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_username=actor.get_username() if actor is not None and actor.is_authenticated else "",
        channel=channel,
        token_kind=token_kind,
        token_name=printable(token_name),
        action=action,
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=False) if model else None,
        object_id="" if object_id is None else str(object_id)[:64],
        object_repr=printable(object_repr)[:REPR_MAX],
        outcome=outcome,
        http_status=http_status,
        error_message=printable(error_message),
        client_address=client_address or None,
        detail=printable(detail)[:DETAIL_MAX],
    )
    try:
        entry.save(force_insert=True)  # outside any transaction (see above): nothing to poison if it fails
    except DatabaseError:
        logger.exception(
            "audit entry not saved: %s %s %s:%s (%s) by %s via %s: %s %s",
            entry.action,
            entry.outcome,
            entry.content_type_id,
            entry.object_id,
            entry.object_repr,
            entry.actor_username,
            entry.channel,
            entry.error_message,
            entry.detail,
        )
        return None
    return entry


def client_address(request: HttpRequest | Request) -> str | None:
    """The client's address by the one rule (``integrations.client_address``: trusted proxies only), or None."""
    address = request_client_address(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # a Unix socket's peer, or nothing: no address rather than a failed INSERT
        return None


def admin_action_record(
    request: HttpRequest,
    *,
    action: AuditAction | str,
    outcome: AuditOutcome | str = AuditOutcome.SUCCEEDED,
    error_message: str = "",
    **target: Any,
) -> AuditEntry | None:
    """A staff action in the admin: the signed-in user, from their address; ``target`` names the object
    as ``audit_record`` takes it (``obj=``, or ``model=`` and ``object_id=``) and may add a ``detail``."""
    return audit_record(
        action=action,
        channel=AuditChannel.ADMIN,
        outcome=outcome,
        actor=request.user,
        error_message=error_message,
        client_address=client_address(request),
        **target,
    )


def audit_entries_of(targets: list[tuple[type[models.Model], list[Any]]], *, limit: int = 200) -> QuerySet[AuditEntry]:
    """The newest entries about these objects (each a model and ids), newest first: an object's History."""
    query = models.Q(pk__in=[])
    for model, ids in targets:
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        query |= models.Q(content_type=content_type, object_id__in=[str(pk) for pk in ids])
    return AuditEntry.objects.filter(query).order_by("-created_at", "-id")[:limit]
