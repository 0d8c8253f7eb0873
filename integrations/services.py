"""Writes and the authentication read for API tokens (admin and integration), and the staff sign-in lockout.

Raw tokens leave these functions once, as return values; the database only ever holds their
sha256, so a leaked database dump does not leak usable credentials.

Authentication runs on every request, so each process keeps the tokens it has just accepted, by
hash, with their user and (for users who are not superusers) the user's permissions: a token used
again within ``API_TOKEN_CACHE_SECONDS`` (default 10; 0 switches the cache off) costs no query at
all, neither for the token nor for the ACL check. Only accepted tokens are kept, at most
``TOKEN_CACHE_MAX_ENTRIES``, and each request gets its own copies of them.

What a kept token may miss, and for how long:

- its expiry: never; ``expires_at`` is checked on every request, kept or not;
- a revocation through ``access_token_revoke`` (the API, the admin's action), a change or deletion
  of the token, of its user (deactivation, password, staff flag, deletion) or of permissions and
  groups through the ORM (the admin's pages): at once in the process that made it, and within
  ``API_TOKEN_CACHE_SECONDS`` in every other worker, which keeps its copy until then;
- the same changes made with ``QuerySet.update()``, raw SQL or another service: within
  ``API_TOKEN_CACHE_SECONDS`` everywhere.

A process-local cache rather than a shared one in Redis: a hit costs no round trip at all (Redis
would still cost one, plus unpickling a user), and nothing has to be invalidated across processes,
which a shared cache would need for every path above (a missed one would last until its TTL, not
seconds). Set ``API_TOKEN_CACHE_SECONDS = 0`` where a revocation must be refused by every worker at
the same instant.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest
from django.utils import timezone

from integrations.exceptions import (
    CredentialsMissing,
    InvalidCredentials,
    SignInLocked,
    TokenExpired,
    TokenInvalid,
)
from integrations.models import (
    USERNAME_KEY_MAX_LENGTH,
    AccessToken,
    SignInFailureLog,
    token_hash_of,
    username_throttle_key,
)

TOKEN_CACHE_MAX_ENTRIES = 1024  # tokens in use at once per process; the least recently used goes first


def _new_raw_token() -> str:
    return secrets.token_urlsafe(32)


def _admin_token_expires_at(now: datetime) -> datetime | None:
    """``now`` + ADMIN_TOKEN_LIFETIME_HOURS; empty or <= 0 disables expiry, as in Magento."""
    hours = settings.ADMIN_TOKEN_LIFETIME_HOURS
    if hours is None or hours <= 0:
        return None
    return now + timedelta(hours=hours)


def _is_blank(value: object) -> bool:
    # Magento: !is_string($value) || strlen($value) == 0 (no trimming).
    return not isinstance(value, str) or value == ""


_NO_FAILURES = object()


def _sign_in_lock_of(key: str) -> object:
    """The username's ``lock_expires_at`` (None: failures but no lock), or _NO_FAILURES without a row."""
    row = SignInFailureLog.objects.filter(username=key).values_list("lock_expires_at", flat=True)
    return next(iter(row), _NO_FAILURES)


def sign_in_failure_record(*, username: str) -> SignInFailureLog:
    """Count one failed sign-in of ``username``; the ``SIGN_IN_MAX_FAILURES``-th locks it.

    The row is created or locked (SELECT ... FOR UPDATE) and updated in one transaction, so parallel
    failures each count: none reads a stale count and overwrites another's increment.
    """
    max_failures = settings.SIGN_IN_MAX_FAILURES
    lock_seconds = settings.SIGN_IN_LOCK_SECONDS
    with transaction.atomic():
        log, _ = SignInFailureLog.objects.select_for_update().get_or_create(username=username_throttle_key(username))
        now = timezone.now()
        if log.lock_expires_at is not None and log.lock_expires_at <= now:
            # The lock ran out: the username starts a fresh count, as in Magento.
            log.failures_count, log.lock_expires_at = 0, None
        log.failures_count += 1
        if max_failures and max_failures > 0 and log.failures_count >= max_failures and log.lock_expires_at is None:
            log.lock_expires_at = now + timedelta(seconds=lock_seconds)
        log.save(update_fields=["failures_count", "lock_expires_at", "updated_at"])
    return log


def staff_sign_in(*, username: str, password: str, request: HttpRequest | None = None) -> User:
    """The active staff user these credentials name, for both doors: the admin login and the admin token route.

    One count per username whichever door it comes through: ``SIGN_IN_MAX_FAILURES`` consecutive
    failures lock it for ``SIGN_IN_LOCK_SECONDS`` (Magento's 6 and 1800 s). While locked the password is
    not even checked (SignInLocked, which every door answers like wrong credentials); a success resets
    the count. ``request`` goes to the authentication backends, as Django's login passes it.
    """
    key = username_throttle_key(username)
    if len(key) > USERNAME_KEY_MAX_LENGTH:
        # No account has a name this long (Django's are at most 150 characters), and the log could not count it.
        raise InvalidCredentials()
    lock_expires_at = _sign_in_lock_of(key)
    if isinstance(lock_expires_at, datetime) and lock_expires_at > timezone.now():  # neither None nor _NO_FAILURES
        raise SignInLocked()
    user = authenticate(request=request, username=username, password=password)
    # ModelBackend already refuses inactive users; checked again for other backends.
    if user is None or not user.is_active or not user.is_staff:
        sign_in_failure_record(username=username)
        raise InvalidCredentials()
    if lock_expires_at is not _NO_FAILURES:
        SignInFailureLog.objects.filter(username=key).delete()  # a success resets the count
    return user


def admin_token_create(*, username: str, password: str) -> str:
    """Magento's ``POST /V1/integration/admin/token``: check credentials, return a new raw token.

    Blank fields are refused before they are counted; the rest goes through ``staff_sign_in`` and its
    lockout, shared with the admin login.
    """
    missing = [name for name, value in (("username", username), ("password", password)) if _is_blank(value)]
    if missing:
        raise CredentialsMissing(*missing)

    user = staff_sign_in(username=username, password=password)
    raw_token = _new_raw_token()
    AccessToken.objects.create(
        user=user,
        kind=AccessToken.Kind.ADMIN,
        token_hash=token_hash_of(raw_token),
        expires_at=_admin_token_expires_at(timezone.now()),
    )
    return raw_token


def integration_token_create(*, user: User, name: str, acl_resources: Iterable[str] = ()) -> str:
    """A long-lived token for a named integration; it never expires, it is revoked.

    ``acl_resources`` is its scope: the token opens a route only if the route's resources are all in
    it and its user has their permissions. An empty scope opens nothing.
    """
    raw_token = _new_raw_token()
    AccessToken.objects.create(
        user=user,
        kind=AccessToken.Kind.INTEGRATION,
        name=name,
        token_hash=token_hash_of(raw_token),
        expires_at=None,
        acl_resources=sorted(set(acl_resources)),
    )
    return raw_token


def access_token_revoke(*, token: AccessToken) -> None:
    """Revoke a token; revoking twice keeps the first revocation time."""
    now = timezone.now()
    # Conditional update: two concurrent revocations cannot overwrite each other's timestamp.
    revoked = AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    # .update() sends no signal: this process forgets the token here, the others within the cache's TTL.
    _forget(lambda: accepted_tokens.discard(token.token_hash))
    if revoked:
        token.revoked_at = now
    else:
        token.refresh_from_db(fields=["revoked_at"])


def access_token_authenticate(*, raw_token: str) -> AccessToken:
    """The token (with its user) that ``raw_token`` names, or TokenInvalid/TokenExpired.

    No write; one indexed SELECT (and for a user who is not a superuser, the two of its permissions)
    unless this process accepted the token less than ``API_TOKEN_CACHE_SECONDS`` ago. The token and
    its user are the caller's own copies.
    """
    if not raw_token:
        raise TokenInvalid()
    token_hash = token_hash_of(raw_token)
    ttl = settings.API_TOKEN_CACHE_SECONDS
    token = accepted_tokens.get(token_hash) if ttl and ttl > 0 else None
    if token is None:
        read_from = accepted_tokens.mark()  # before the read: a change discarded after it keeps nothing stale
        token = _access_token_read(token_hash)
        if not (ttl and ttl > 0):
            return token
        _freeze_permissions(token)
        accepted_tokens.put(token_hash, token, ttl=ttl, read_from=read_from)
    elif token.is_expired(timezone.now()):
        accepted_tokens.discard(token_hash)
        raise TokenExpired()
    return _detached(token)


def _access_token_read(token_hash: str) -> AccessToken:
    """The token, with its user, from the database if it is accepted now."""
    try:
        token = AccessToken.objects.select_related("user").get(token_hash=token_hash)
    except AccessToken.DoesNotExist:
        raise TokenInvalid() from None
    user = token.user
    # A disabled account's token is invalid whatever its expiry, so check that first.
    if token.is_revoked or not user.is_active:
        raise TokenInvalid()
    if token.is_expired(timezone.now()):
        raise TokenExpired()
    return token


def _freeze_permissions(token: AccessToken) -> None:
    """Load the user's permissions onto it (has_perm then asks no query while the token is kept), as sets
    no request can change: every request's copy of the user shares them."""
    user = token.user
    if not user.is_superuser:
        user.get_all_permissions()
        for name in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
            if hasattr(user, name):
                setattr(user, name, frozenset(getattr(user, name)))


def _detached(token: AccessToken) -> AccessToken:
    """A copy of a kept token and of its user that the request may change without touching the cache
    (its scope copied, the user's permission sets frozen)."""
    copied = _model_copy(token)
    copied.user = _model_copy(token.user)
    if token.acl_resources is not None:
        copied.acl_resources = list(token.acl_resources)
    return copied


_M = TypeVar("_M", bound=Model)


def _model_copy(instance: _M) -> _M:
    # copy.copy() goes through pickling's __reduce__ (an app registry look-up and version checks): 3x slower.
    clone = instance.__class__.__new__(instance.__class__)
    clone.__dict__.update(instance.__dict__)
    clone._state = ModelState()
    clone._state.db, clone._state.adding = instance._state.db, instance._state.adding
    return clone


class AcceptedTokenCache:
    """Accepted tokens by hash, each until its TTL runs out; bounded, least recently used evicted first."""

    clock = staticmethod(time.monotonic)

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[AccessToken, float]] = OrderedDict()
        self._lock = threading.Lock()  # gthread workers share the process
        self._discards = 0  # how many discards so far: a read older than the last one may be stale

    def mark(self) -> tuple[int, float]:
        """Taken before reading a token: ``put`` keeps the read only if nothing was discarded since, and
        only until TTL seconds after the read began."""
        with self._lock:
            return self._discards, self.clock()

    def get(self, token_hash: str) -> AccessToken | None:
        with self._lock:
            entry = self._entries.get(token_hash)
            if entry is None:
                return None
            token, fresh_until = entry
            if self.clock() >= fresh_until:
                del self._entries[token_hash]
                return None
            self._entries.move_to_end(token_hash)
            return token

    def put(self, token_hash: str, token: AccessToken, *, ttl: float, read_from: tuple[int, float]) -> None:
        discards, started = read_from
        with self._lock:
            if discards != self._discards:
                return  # a revocation or a change landed while the token was read: keep nothing
            self._entries[token_hash] = (token, started + ttl)
            self._entries.move_to_end(token_hash)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard(self, token_hash: str) -> None:
        with self._lock:
            self._discards += 1
            self._entries.pop(token_hash, None)

    def discard_user(self, user_id: int) -> None:
        with self._lock:
            self._discards += 1
            for token_hash in [key for key, (token, _) in self._entries.items() if token.user_id == user_id]:
                del self._entries[token_hash]

    def clear(self) -> None:
        with self._lock:
            self._discards += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


accepted_tokens = AcceptedTokenCache(TOKEN_CACHE_MAX_ENTRIES)


# Changes saved through the ORM (the admin's pages included) reach this process's cache at once. Signals
# here are cache bookkeeping, not domain flow: Django's own auth admin has no other seam to call.
def _forget(callback: Callable[[], object]) -> None:
    """Now, and again on commit: a request reading the row before the change commits may have kept it."""
    callback()
    transaction.on_commit(callback)


def _token_changed(sender: type[AccessToken], instance: AccessToken, created: bool = False, **kwargs: Any) -> None:
    if not created:  # a new token cannot be kept yet
        _forget(lambda: accepted_tokens.discard(instance.token_hash))


def _user_changed(sender: type[User], instance: User, **kwargs: Any) -> None:
    _forget(lambda: accepted_tokens.discard_user(instance.pk))


def _permissions_changed(sender: type[Model], **kwargs: Any) -> None:
    _forget(accepted_tokens.clear)


def _memberships_changed(sender: type[Model], action: str, **kwargs: Any) -> None:
    if action.startswith("post_"):
        _forget(accepted_tokens.clear)


for _signal, _when in ((post_save, "saved"), (post_delete, "deleted")):
    _signal.connect(_token_changed, sender=AccessToken, dispatch_uid=f"accepted_tokens:token_{_when}")
    _signal.connect(_user_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid=f"accepted_tokens:user_{_when}")
    for _model in (Group, Permission):
        _signal.connect(_permissions_changed, sender=_model, dispatch_uid=f"accepted_tokens:{_model.__name__}_{_when}")
_user_model = get_user_model()
for _through in (_user_model.groups.through, _user_model.user_permissions.through, Group.permissions.through):
    m2m_changed.connect(_memberships_changed, sender=_through, dispatch_uid=f"accepted_tokens:{_through.__name__}")
