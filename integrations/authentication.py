"""DRF authentication for ``Authorization: Bearer <token>``.

Failures raise ``AuthenticationFailed`` with a stable code (``token_invalid`` or
``token_expired``); each door maps the code to its own text (Magento /V1, /api2), and counts the
failure against the client's rate limit. Before a token is looked up, the view's rate limits may
refuse the request (``Throttled``, 429): a client past its budget costs no query however many
tokens it tries.
"""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request

from integrations.exceptions import TokenExpired, TokenInvalid
from integrations.models import AccessToken
from integrations.services import access_token_authenticate

TOKEN_INVALID = TokenInvalid.code
TOKEN_EXPIRED = TokenExpired.code


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[object, AccessToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            # No header or another scheme: anonymous; the permission layer answers 401.
            return None
        if len(parts) == 1:
            raise AuthenticationFailed(detail="Invalid bearer header: no token provided.", code=TOKEN_INVALID)
        if len(parts) > 2:
            raise AuthenticationFailed(
                detail="Invalid bearer header: the token must not contain spaces.", code=TOKEN_INVALID
            )
        try:
            raw_token = parts[1].decode("ascii")
        except UnicodeError:
            raise AuthenticationFailed(
                detail="Invalid bearer header: the token contains invalid characters.", code=TOKEN_INVALID
            ) from None
        refuse_spent_budget(request)
        return self.authenticate_credentials(raw_token)

    def authenticate_credentials(self, raw_token: str) -> tuple[object, AccessToken]:
        try:
            token = access_token_authenticate(raw_token=raw_token)
        except TokenExpired:
            raise AuthenticationFailed(detail="The token has expired.", code=TOKEN_EXPIRED) from None
        except TokenInvalid:
            raise AuthenticationFailed(detail="Invalid token.", code=TOKEN_INVALID) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # A WWW-Authenticate value makes DRF answer 401 rather than 403.
        return self.keyword


def refuse_spent_budget(request: Request) -> None:
    """``Throttled`` if one of the view's rate limits already refuses this request before its caller is known.

    Those that can tell have a ``wait_before_authentication(request, view)`` method (``sales.api.throttling``'s
    per-address limit); integrations imports no door, so it asks the view for them.
    """
    view = (getattr(request, "parser_context", None) or {}).get("view")  # none outside a DRF view
    for throttle in view.get_throttles() if view is not None else ():
        wait_before_authentication = getattr(throttle, "wait_before_authentication", None)
        wait = wait_before_authentication(request, view) if wait_before_authentication else None
        if wait is not None:
            raise Throttled(wait)
