"""What every /V1 door shares: Bearer auth, the route's ACL resource, Magento's JSON and errors."""

from __future__ import annotations

from collections.abc import Sequence

from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from audit.models import AuditChannel
from integrations.acl import view_acl_resources
from sales.api import throttling
from sales.api.audit import AuditedWrites
from sales.api.auth import IsAdminConsumer
from sales.api.json import DecimalJSONParser, DecimalJSONRenderer
from sales.api.schema import DoorSchema
from sales.api.v1 import errors
from sales.api.validation import request_nul_character_path
from sales.errors import InputError, NoSuchEntityError
from sales.models import Store

# Store codes with fixed ids: no query to resolve them.
FIXED_STORE_CODES = {"all": Store.ADMIN_ID, "admin": Store.ADMIN_ID, "default": Store.DEFAULT_ID}
STORE_NOT_FOUND = "The store that was requested wasn't found. Verify the store and try again."


class MagentoView(AuditedWrites, APIView):
    """A /V1 route. Its ACL resources (Magento's webapi.xml ``<resources>``) are declared on the class:
    ``default_acl_resource``, or ``acl_resources`` per HTTP method; a string or a tuple (all required).
    ``sales.api.auth`` enforces them; a refusal names them in Magento's 401."""

    acl_resources: dict[str, str | tuple[str, ...]] = {}  # per HTTP method, where a route's methods differ
    default_acl_resource: str | tuple[str, ...] = "Magento_Sales::sales"
    renderer_classes = [DecimalJSONRenderer]
    parser_classes = [DecimalJSONParser]
    permission_classes = [IsAdminConsumer]
    throttle_classes: Sequence[type[BaseThrottle]] = throttling.DOOR_THROTTLES
    schema = DoorSchema()
    audit_channel = AuditChannel.API_V1  # writes are recorded in the audit trail (sales.api.audit)

    @property
    def acl_resource(self) -> str:
        """The route's resources as Magento names them in ``%resources`` (comma-separated)."""
        method = self.request.method if getattr(self, "request", None) else ""
        return ", ".join(view_acl_resources(type(self), method or ""))

    def get_exception_handler(self):
        return errors.exception_handler  # Magento's errors, and 429 with Retry-After

    def handle_exception(self, exc):
        return super().handle_exception(errors.door_error(exc))  # the audit trail records Magento's error too

    def store_id(self) -> int:
        """The store of the URL (``/rest/<store_code>/V1/``); no code means the default store."""
        code = self.kwargs.get("store_code")
        if code is None:
            return Store.DEFAULT_ID
        if code in FIXED_STORE_CODES:
            return FIXED_STORE_CODES[code]
        store_id = Store.objects.filter(code=code).values_list("id", flat=True).first()
        if store_id is None:
            raise NoSuchEntityError(STORE_NOT_FOUND)
        return store_id

    def initial(self, request, *args, **kwargs):
        # Magento matches method and path before it checks the consumer: a wrong method is no route.
        method = request.method.lower()
        if method == "options" or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)
        nul_in = request_nul_character_path(self)
        if nul_in is not None:
            raise nul_character_error(nul_in)
        if kwargs.get("store_code") not in (None, *FIXED_STORE_CODES):
            self.store_id()  # an unknown store code is refused before the route runs


def nul_character_error(where: str) -> InputError:
    """A NUL character (no text column can store it) is Magento's invalid value of the field, a 400."""
    return InputError.invalid_value(where, "a NUL character")
