"""Who may call the REST doors.

Admin tokens belong to active staff users (Magento's admin users) and open both doors.
Integration tokens, issued by staff, open /api2; on /V1 only when
``INTEGRATION_TOKENS_AS_BEARER`` is on, Magento's ``oauth/consumer/enable_integration_as_bearer``
(off by default since 2.4.4). Mapping each route's ACL resource to a permission comes with the
admin's permission groups.
"""

from django.conf import settings
from rest_framework.permissions import BasePermission


def _active(request) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.is_active)


def _is_integration(request) -> bool:
    return getattr(request.auth, "kind", None) == "integration"


class IsAdminConsumer(BasePermission):
    """/V1: an admin token, or an integration token where the setting allows it."""

    def has_permission(self, request, view) -> bool:
        if not _active(request):
            return False
        if _is_integration(request):
            return bool(getattr(settings, "INTEGRATION_TOKENS_AS_BEARER", False))
        return request.user.is_staff


class IsApiConsumer(BasePermission):
    """/api2: an admin token or an integration token."""

    def has_permission(self, request, view) -> bool:
        return _active(request) and (request.user.is_staff or _is_integration(request))
