"""Magento's ACL resources as Django permissions, and who may use a route that declares them.

A REST view declares the resources it needs on its class (``default_acl_resource``, or
``acl_resources`` per HTTP method; a string or a tuple of strings, all required, as Magento's
``<resources>`` in webapi.xml). A request passes when every resource is allowed:

- admin token: the staff user has each resource's Django permission (a superuser has all);
- integration token: the resource is in the token's scope (ticked by staff when issuing it) and
  the token's user has the permission, so a token never does more than its user could.

A resource without a known permission is refused to everyone but superusers (fail closed). The
table names permissions as strings ("app_label.codename"): this leaf app imports no domain code.
Other apps add their resources with ``acl_resources_register`` (e.g. in ``AppConfig.ready``) or
the ``ACL_RESOURCE_PERMISSIONS`` setting ({resource: "app_label.codename"}).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from integrations.models import is_integration

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

ANONYMOUS = "anonymous"  # Magento's resource of routes open to everyone (the admin token route)


@dataclass(frozen=True)
class AclResource:
    resource: str
    permission: str  # "app_label.codename"
    label: str


# Magento 2.4's resources (reference 1.1, Magento_Sales acl.xml) and the nearest Django permission.
_RESOURCES: dict[str, AclResource] = {}


def acl_resources_register(entries: Iterable[tuple[str, str, str]]) -> None:
    """Add or replace (resource, "app_label.codename", label) entries."""
    for resource, permission, label in entries:
        _RESOURCES[resource] = AclResource(resource=resource, permission=permission, label=label)


acl_resources_register(
    [
        ("Magento_Sales::actions_view", "sales.view_order", "Orders: view"),
        ("Magento_Sales::create", "sales.add_order", "Orders: create (import)"),
        ("Magento_Sales::comment", "sales.comment_invoice", "Orders and invoices: add comments"),
        ("Magento_Sales::sales_invoice", "sales.view_invoice", "Invoices: view"),
        ("Magento_Sales::invoice", "sales.invoice_order", "Invoices: create"),
        ("Magento_Sales::capture", "sales.capture_invoice", "Invoices: capture"),
        # Magento has no resource of its own for voiding an invoice (its void needs only sales_invoice);
        # Counterfoil's admin guards Void with sales.void_invoice, so the API does too.
        ("Counterfoil_Sales::void", "sales.void_invoice", "Invoices: void"),
        ("Magento_Sales::cancel", "sales.cancel_invoice", "Invoices: cancel"),
        ("Magento_Sales::emails", "sales.email_invoice", "Invoices: send e-mails"),
        # Payment transactions are read with the order they belong to: the sales groups carry view_order.
        ("Magento_Sales::transactions_fetch", "sales.view_order", "Payment transactions: view"),
        # MSI's resources declared by the /V1/inventory routes, on the inventory models' permissions.
        ("Magento_InventoryApi::source", "inventory.view_source", "Inventory sources and source items: view"),
        ("Magento_InventoryApi::stock", "inventory.view_stock", "Inventory stocks: view"),
        ("Magento_InventoryApi::stock_source_link", "inventory.view_stocksourcelink", "Stock-source links: view"),
        (
            "Magento_InventoryApi::stock_source_item_assign",
            "inventory.change_sourceitem",
            "Inventory source items: save quantities",
        ),
        ("Magento_InventorySalesApi::stock", "inventory.view_stock", "Salable quantity: view"),
    ]
)


def acl_resource_table() -> dict[str, AclResource]:
    """Every known resource, with the ``ACL_RESOURCE_PERMISSIONS`` setting applied on top."""
    extra = settings.ACL_RESOURCE_PERMISSIONS
    if not extra:
        return dict(_RESOURCES)
    table = dict(_RESOURCES)
    for resource, permission in extra.items():
        label = table[resource].label if resource in table else resource
        table[resource] = AclResource(resource=resource, permission=permission, label=label)
    return table


def acl_permission_of(resource: str) -> str | None:
    # Asked on every request: a look-up in the setting then the table, without building the merged table.
    extra = settings.ACL_RESOURCE_PERMISSIONS
    if resource in extra:
        return extra[resource]
    entry = _RESOURCES.get(resource)
    return entry.permission if entry else None


def acl_resource_choices() -> list[tuple[str, str]]:
    """(resource, label) pairs for the admin's checkboxes, in the table's order."""
    return [(entry.resource, f"{entry.label} ({entry.resource})") for entry in acl_resource_table().values()]


def as_resources(declared: str | Iterable[str] | None) -> tuple[str, ...]:
    """A view's declaration (a string, a tuple of strings or None) as a tuple."""
    if not declared:
        return ()
    if isinstance(declared, str):
        return (declared,)
    return tuple(declared)


def view_acl_resources(view_class: type, method: str) -> tuple[str, ...]:
    """The resources a view class declares for ``method`` (e.g. "POST"): per method, else its default."""
    per_method = getattr(view_class, "acl_resources", None) or {}
    method = method.upper()
    if method == "HEAD" and "HEAD" not in per_method:
        method = "GET"  # Django answers HEAD with its GET: it reads what GET reads, so it needs what GET needs
    declared = per_method.get(method, getattr(view_class, "default_acl_resource", None))
    return as_resources(declared)


def acl_allows(*, user: User | AnonymousUser, token: object, resources: Iterable[str]) -> bool:
    """Whether ``user``, calling with ``token`` (an AccessToken), may use every one of ``resources``."""
    resources = tuple(resources)
    if not resources:
        return False  # a route that declares nothing is nobody's: fail closed
    needed = [resource for resource in resources if resource != ANONYMOUS]
    if not needed:
        return True
    if is_integration(token):
        scope = set(token.acl_resources or ())
        if not scope.issuperset(needed):
            return False
    if user.is_active and user.is_superuser:
        return True
    permissions = [acl_permission_of(resource) for resource in needed]
    known = [permission for permission in permissions if permission is not None]
    if len(known) < len(permissions):  # a resource no permission stands for
        return False
    return user.has_perms(known)


def acl_resources_of_user(user: User | AnonymousUser) -> list[str]:
    """The known resources whose permission ``user`` has (all of them for a superuser)."""
    table = acl_resource_table()
    if user.is_active and user.is_superuser:
        return list(table)
    return [resource for resource, entry in table.items() if user.has_perm(entry.permission)]
