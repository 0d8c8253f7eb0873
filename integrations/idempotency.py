"""``Idempotency-Key`` for the REST doors: the IETF httpapi draft's semantics, as Stripe applies them.

A caller (an admin token's user, or one integration token) sends ``Idempotency-Key: <key>`` on a
POST that creates, captures, voids, cancels or e-mails. The first request with the key runs and its
answer is stored; a repeat with the same method, path and body gets that answer again (with
``Idempotent-Replayed: true``) and runs nothing; the same key on a different request is 422; a
repeat while the first still runs is 409 with ``Retry-After: 1``. Without the header a request
behaves exactly as before and this module runs no query (Magento clients never send one).

Keys live ``IDEMPOTENCY_KEY_TTL_HOURS`` (24) and are purged by ``idempotency_keys_purge``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.http.request import RawPostDataException
from django.utils import timezone

from integrations.exceptions import IdempotencyKeyInProgress, IdempotencyKeyInvalid, IdempotencyKeyReused
from integrations.models import IdempotencyKey, is_integration

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
PURGE_BATCH = 5000
_BEGIN_ATTEMPTS = 3

State = IdempotencyKey.State


def _ttl() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def _stale_after() -> timedelta:
    return timedelta(seconds=settings.IDEMPOTENCY_KEY_STALE_SECONDS)


# -- the request -------------------------------------------------------------------------------------------


def idempotency_key_parse(raw: str) -> str:
    """The key of a header value; the draft's quoted form (``"abc"``) and a bare one (``abc``) are the same key."""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyInvalid()
    return key


def _canonical(value: object) -> str:
    """JSON with sorted keys, no spaces and numbers by value (1, 1.0 and 1.00 are one number)."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{json.dumps(key)}:{_canonical(item)}" for key, item in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    if isinstance(value, Decimal) and value.is_finite():
        return "0" if value == 0 else format(value.normalize(), "f")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, default=str)


def canonical_body(raw: bytes) -> bytes:
    if not raw.strip():
        return b""
    try:
        return _canonical(json.loads(raw, parse_float=Decimal, parse_int=Decimal)).encode("utf-8")
    except (ValueError, RecursionError):
        return raw  # not JSON, or nested too deep to walk (the door refuses it): the bytes themselves


def request_fingerprint(request: Request) -> str:
    """sha256 of method, full path and canonical body: what makes two requests "the same request"."""
    try:
        raw = request._request.body
    except RawPostDataException:  # the body was already streamed: its parsed form stands in
        raw = json.dumps(request.data, sort_keys=True, default=str).encode("utf-8")
    digest = hashlib.sha256()
    for part in ((request.method or "").encode(), request.get_full_path().encode("utf-8"), canonical_body(raw)):
        digest.update(part)
        digest.update(b"\n")
    return digest.hexdigest()


def request_principal(request: Request) -> str:
    """Whose keys these are: an integration token's own namespace, else the user's.

    An admin's keys survive re-login (admin tokens last hours, a retry may come with a new one);
    two integrations acting as one user keep their keys apart.
    """
    if is_integration(request.auth):
        return f"integration:{request.auth.pk}"
    return f"user:{request.user.pk}"


# -- services ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Begun:
    """The outcome of ``idempotency_key_begin``: a record to run under, or a stored answer to replay."""

    record: IdempotencyKey | None = None
    replay: IdempotencyKey | None = None


def _insert(**fields: Any) -> IdempotencyKey | None:
    try:
        # Its own transaction, committed before the view runs (ATOMIC_REQUESTS is off), so a concurrent
        # twin's INSERT conflicts with it at once; a savepoint when a caller's transaction is open.
        with transaction.atomic():
            return IdempotencyKey.objects.create(**fields)
    except IntegrityError:
        return None


def idempotency_key_begin(*, principal: str, key: str, fingerprint: str, method: str, path: str) -> Begun:
    """Take ``key`` for a request, or find what it already names.

    Raises IdempotencyKeyReused (another request's key) or IdempotencyKeyInProgress (still running).
    """
    for _ in range(_BEGIN_ATTEMPTS):
        now = timezone.now()
        record = _insert(
            principal=principal,
            key=key,
            request_fingerprint=fingerprint,
            request_method=method,
            request_path=path[:2048],
            state=State.IN_PROGRESS,
            created_at=now,
            started_at=now,
            expires_at=now + _ttl(),
        )
        if record is not None:
            return Begun(record=record)
        existing = IdempotencyKey.objects.filter(principal=principal, key=key).first()
        if existing is None:
            continue  # released between our INSERT and SELECT (the first run failed): take it now
        if existing.expires_at <= now:
            IdempotencyKey.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
            continue  # an expired key is a new key
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if existing.state == State.COMPLETED:
            return Begun(replay=existing)
        if existing.started_at <= now - _stale_after():
            # The run that took it died; take it over, conditionally, so only one repeat does.
            taken = IdempotencyKey.objects.filter(
                pk=existing.pk, state=State.IN_PROGRESS, started_at=existing.started_at
            ).update(started_at=now)
            if taken:
                existing.started_at = now
                return Begun(record=existing)
            continue
        raise IdempotencyKeyInProgress()
    raise IdempotencyKeyInProgress()  # the key kept changing hands: the client retries shortly


def idempotency_key_complete(*, record: IdempotencyKey, status: int, body: str, content_type: str) -> None:
    IdempotencyKey.objects.filter(pk=record.pk).update(
        state=State.COMPLETED, response_status=status, response_body=body, response_content_type=content_type
    )


def idempotency_key_release(*, record: IdempotencyKey) -> None:
    """Forget a key whose request failed, so that a retry with it runs again."""
    IdempotencyKey.objects.filter(pk=record.pk, state=State.IN_PROGRESS).delete()


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete the keys past their ``expires_at``, in batches; the number deleted."""
    now = now or timezone.now()
    purged = 0
    while True:
        batch = list(IdempotencyKey.objects.filter(expires_at__lte=now).values_list("pk", flat=True)[:PURGE_BATCH])
        if not batch:
            return purged
        deleted, _ = IdempotencyKey.objects.filter(pk__in=batch).delete()
        purged += deleted


# -- the DRF view mixin -----------------------------------------------------------------------------------


def _is_stored(status: int) -> bool:
    """Which answers a repeat replays: successes and the client's errors.

    Not 5xx: the service rolled its transaction back (a gateway failure, a bug), nothing was written,
    so a retry must run again rather than replay a failure that was not the request's. Not 409 nor
    429 either: a lock wait or a rate limit passes, and the retry should get its chance.
    """
    return status < 500 and status not in (409, 429)


class _Replay(Exception):
    def __init__(self, record: IdempotencyKey):
        super().__init__(record.key)
        self.record = record


def replay_response(record: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        record.response_body.encode("utf-8"), status=record.response_status, content_type=record.response_content_type
    )
    response[REPLAYED_HEADER] = "true"
    return response


if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.response import Response
    from rest_framework.views import APIView

    _View = APIView  # what IdempotencyKeyMixin is mixed into
else:
    _View = object


class IdempotencyKeyMixin(_View):
    """For DRF views: honour ``Idempotency-Key`` on ``idempotent_methods``. Put it before the view's base class.

    The key is taken after authentication and the ACL check (a refused request stores nothing), and
    the view reads the parsed key as ``self.idempotency_key`` (None without the header).
    """

    idempotent_methods = frozenset({"POST"})
    idempotency_key: str | None = None
    _idempotency_record: IdempotencyKey | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.idempotency_key, self._idempotency_record = None, None
        super().initial(request, *args, **kwargs)
        if request.method not in self.idempotent_methods:
            return
        raw = request.headers.get(HEADER)
        if raw is None:
            return  # no header, no query: the request runs as it always did
        self.idempotency_key = idempotency_key_parse(raw)
        begun = idempotency_key_begin(
            principal=request_principal(request),
            key=self.idempotency_key,
            fingerprint=request_fingerprint(request),
            method=request.method,
            path=request.get_full_path(),
        )
        if begun.replay is not None:
            raise _Replay(begun.replay)
        self._idempotency_record = begun.record

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            # DRF's dispatch takes any HttpResponse here (finalize_response asserts HttpResponseBase); its stubs
            # say Response.
            return replay_response(exc.record)  # type: ignore[return-value]
        response = super().handle_exception(exc)
        if isinstance(exc, IdempotencyKeyInProgress):
            response["Retry-After"] = "1"
        return response

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            self._idempotency_finish(record, response)
        return response

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return super().dispatch(request, *args, **kwargs)
        except BaseException:
            # An error no handler answered: nothing to replay, so free the key for a retry.
            record, self._idempotency_record = self._idempotency_record, None
            if record is not None:
                idempotency_key_release(record=record)
            raise

    def _idempotency_finish(self, record: IdempotencyKey, response: Response) -> None:
        if not _is_stored(response.status_code):
            idempotency_key_release(record=record)
            return
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        try:
            body = response.content.decode("utf-8")
        except (UnicodeDecodeError, AttributeError):  # a binary or streamed answer cannot be replayed
            idempotency_key_release(record=record)
            return
        idempotency_key_complete(
            record=record, status=response.status_code, body=body, content_type=response.get("Content-Type", "")
        )
