"""Who may call the REST doors, and with which ACL resources.

Admin tokens belong to active staff users (Magento's admin users) and open both doors.
Integration tokens, issued by staff, open /api2; on /V1 only when
``INTEGRATION_TOKENS_AS_BEARER`` is on, Magento's ``oauth/consumer/enable_integration_as_bearer``
(off by default since 2.4.4).

Then every route enforces the ACL resources its view class declares (``default_acl_resource`` or
``acl_resources`` per method, see ``integrations.acl``): an admin token acts with its user's Django
permissions, an integration token with its scope and its user's permissions together. Each door
answers a refusal with its own 401.
"""

from django.conf import settings
from rest_framework.permissions import BasePermission

from integrations.acl import acl_allows, view_acl_resources
from integrations.models import is_integration


def _active(request) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.is_active)


def _acl_allows(request, view) -> bool:
    return acl_allows(user=request.user, token=request.auth, resources=view_acl_resources(type(view), request.method))


class IsAdminConsumer(BasePermission):
    """/V1: an admin token, or an integration token where the setting allows it; and the route's resources."""

    def has_permission(self, request, view) -> bool:
        if not _active(request):
            return False
        if is_integration(request.auth):
            if not settings.INTEGRATION_TOKENS_AS_BEARER:
                return False
        elif not request.user.is_staff:
            return False
        return _acl_allows(request, view)


class IsApiConsumer(BasePermission):
    """/api2: an admin token or an integration token; and the route's resources."""

    def has_permission(self, request, view) -> bool:
        if not _active(request) or not (request.user.is_staff or is_integration(request.auth)):
            return False
        return _acl_allows(request, view)
