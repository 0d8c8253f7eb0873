"""Every REST route enforces its ACL resources, for every kind of caller.

The routes come from the URL resolver (``/rest/V1/...`` and ``/api2/...``), not from a hand-written
list, so a route added later is covered the day it is added; its resources are the ones its view
class declares (``integrations.acl.view_acl_resources``). For each route and method:

- no token: 401 in the door's shape (/V1 names the route's resources in ``%resources``);
- an admin token whose staff user has every permission but the route's: refused;
- an integration token whose superuser has everything but whose scope lacks the route's resources: refused;
- an admin token whose user has exactly the route's permissions, and an integration token whose
  user and scope have exactly the route's resources: not refused (any status but 401/403, never 5xx);
- no answer carries a stack trace or a file path.

The admin's invoice actions demand their permissions too: tests/sales/test_admin_permissions.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern

from integrations.acl import ANONYMOUS, acl_permission_of, acl_resource_table, view_acl_resources
from integrations.services import admin_token_create, integration_token_create
from tests.factories import StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "matrix-Passw0rd!"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
DOORS = ("rest/V1/", "api2/")
UNAUTHORIZED = "The consumer isn't authorized to access %resources."
SAMPLE_VALUES = {"int": "1"}  # path converters; anything else gets "x"
LEAKS = re.compile(r"Traceback|File \"|\.py\b|/work/|site-packages")


@dataclass(frozen=True)
class Route:
    url: str
    method: str
    resources: tuple[str, ...]

    @property
    def is_v1(self) -> bool:
        return self.url.startswith("/rest/")

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.url}"


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix, entry


def _regex_sample(regex: str) -> str:
    """A path that ``regex`` (a re_path route) matches: each named group replaced by a value it accepts."""
    out, index = [], 0
    body = regex.removeprefix("^").removesuffix("$").removesuffix("\\Z")
    while index < len(body):
        if body.startswith("(?P<", index):
            depth, end = 0, index
            while True:  # the group's closing parenthesis, nested groups included
                depth += {"(": 1, ")": -1}.get(body[end], 0) if body[end - 1 : end] != "\\" else 0
                if depth == 0:
                    break
                end += 1
            group = re.sub(r"^\(\?P<\w+>", "", body[index:end])
            out.append(next(value for value in ("1", "x", "x-1") if re.fullmatch(group, value)))
            index = end + 1
        else:
            out.append(body[index])
            index += 1
    return "".join(out).replace("\\", "")


def _sample_url(prefix: str, entry: URLPattern) -> str:
    if isinstance(entry.pattern, RoutePattern):
        route = str(entry.pattern)
        sample = re.sub(r"<(?:(\w+):)?\w+>", lambda match: SAMPLE_VALUES.get(match.group(1) or "str", "x"), route)
    else:
        sample = _regex_sample(str(entry.pattern))
    url = "/" + prefix + sample
    assert resolve(url).func is entry.callback, f"the sample {url} does not reach {prefix}{entry.pattern}"
    return url


def api_routes() -> list[Route]:
    """Every (URL, method) of the two doors; /V1 once, without a store code (the same views answer there)."""
    routes = []
    for prefix, entry in _walk(get_resolver().url_patterns):
        view_class = getattr(entry.callback, "view_class", None)
        full = prefix + str(entry.pattern)
        if view_class is None or not full.startswith(DOORS):
            continue  # the catch-all "no route" answer and non-REST pages
        for method in HTTP_METHODS:
            if not hasattr(view_class, method):
                continue
            resources = view_acl_resources(view_class, method)
            if resources == (ANONYMOUS,):
                continue  # the admin token route: open to everyone by design
            routes.append(Route(url=_sample_url(prefix, entry), method=method, resources=resources))
    return routes


ROUTES = api_routes()


def test_the_matrix_covers_both_doors_and_the_invoice_writes():
    urls = {str(route) for route in ROUTES}
    assert "POST /rest/V1/order/1/invoice" in urls
    assert {
        "POST /rest/V1/invoices/1/capture",
        "POST /rest/V1/invoices/1/void",
        "POST /rest/V1/invoices/1/cancel",
        "POST /rest/V1/invoices/1/emails",
    } <= urls
    assert {"GET /api2/invoice", "POST /api2/invoice/create", "POST /api2/invoice/email"} <= urls


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_route_declares_resources_that_map_to_permissions(route):
    assert route.resources, f"{route} declares no ACL resource"
    for resource in route.resources:
        permission = acl_permission_of(resource)
        assert permission, f"{route}: {resource} has no Django permission; register it in integrations/acl.py"
        app_label, codename = permission.split(".")
        assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), permission


# -- callers ---------------------------------------------------------------------------------------------------


def permissions(names) -> list[Permission]:
    found = []
    for name in set(names):
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def route_permissions(route: Route) -> set[str]:
    return {acl_permission_of(resource) for resource in route.resources}


def every_permission() -> set[str]:
    return {entry.permission for entry in acl_resource_table().values()}


def admin_bearer(django_user_model, granted) -> str:
    user = StaffUserFactory(username="matrix-admin", password=PASSWORD)
    user.user_permissions.set(permissions(granted))
    return admin_token_create(username="matrix-admin", password=PASSWORD)


def integration_bearer(django_user_model, *, scope, granted=(), superuser=False) -> str:
    user = UserFactory(username="matrix-integration", password=PASSWORD, is_superuser=superuser)
    user.user_permissions.set(permissions(granted))
    return integration_token_create(user=user, name="matrix", acl_resources=scope)


def call(client, route: Route, token: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if route.method in ("get", "delete"):
        return getattr(client, route.method)(route.url, **headers)
    return getattr(client, route.method)(route.url, "{}", content_type="application/json", **headers)


def assert_no_leak(response) -> None:
    body = response.content.decode("utf-8", "replace")
    assert not LEAKS.search(body), body


def assert_refused(route: Route, response) -> None:
    assert response.status_code == 401, (str(route), response.status_code, response.content)
    if route.is_v1:
        expected = {"message": UNAUTHORIZED, "parameters": {"resources": ", ".join(route.resources)}}
    else:
        expected = {"error": "Unauthorized"}
    assert json.loads(response.content) == expected
    assert_no_leak(response)


def assert_not_refused(route: Route, response) -> None:
    assert response.status_code not in (401, 403), (str(route), response.status_code, response.content)
    assert response.status_code < 500, (str(route), response.status_code, response.content)
    assert_no_leak(response)


@pytest.fixture(autouse=True)
def _stores(default_store, settings):
    settings.INTEGRATION_TOKENS_AS_BEARER = True  # so integration tokens reach /V1's ACL check at all


# -- the matrix ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_without_a_token_every_route_is_401(api_client, route):
    assert_refused(route, call(api_client, route))


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_an_admin_lacking_the_routes_permission_is_refused(api_client, django_user_model, route):
    token = admin_bearer(django_user_model, every_permission() - route_permissions(route))

    assert_refused(route, call(api_client, route, token))


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_an_integration_token_without_the_resource_in_its_scope_is_refused(api_client, django_user_model, route):
    scope = set(acl_resource_table()) - set(route.resources)
    token = integration_bearer(django_user_model, scope=scope, superuser=True)

    assert_refused(route, call(api_client, route, token))


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_an_integration_token_whose_user_lacks_the_permission_is_refused(api_client, django_user_model, route):
    token = integration_bearer(
        django_user_model, scope=route.resources, granted=every_permission() - route_permissions(route)
    )

    assert_refused(route, call(api_client, route, token))


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_an_admin_with_exactly_the_routes_permission_is_not_refused(api_client, django_user_model, route):
    token = admin_bearer(django_user_model, route_permissions(route))

    assert_not_refused(route, call(api_client, route, token))


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_an_integration_token_with_exactly_the_routes_resource_is_not_refused(api_client, django_user_model, route):
    token = integration_bearer(django_user_model, scope=route.resources, granted=route_permissions(route))

    assert_not_refused(route, call(api_client, route, token))


# -- doors closed to some callers whatever their permissions -----------------------------------------------------


def test_integration_tokens_stay_off_v1_unless_the_setting_allows_them(api_client, django_user_model, settings):
    settings.INTEGRATION_TOKENS_AS_BEARER = False
    token = integration_bearer(django_user_model, scope=list(acl_resource_table()), superuser=True)

    response = call(api_client, Route("/rest/V1/invoices/1", "get", ("Magento_Sales::sales_invoice",)), token)

    assert response.status_code == 401
    assert call(api_client, Route("/api2/invoice", "get", ()), token).status_code == 200


def test_an_admin_token_of_a_user_no_longer_staff_is_refused_everywhere(api_client, django_user_model):
    token = admin_bearer(django_user_model, every_permission())
    django_user_model.objects.filter(username="matrix-admin").update(is_staff=False)

    for route in ROUTES:
        assert_refused(route, call(api_client, route, token))


def test_a_scope_naming_an_unknown_resource_opens_nothing(api_client, django_user_model):
    token = integration_bearer(django_user_model, scope=["Magento_Backend::all"], superuser=True)

    for route in ROUTES:
        assert_refused(route, call(api_client, route, token))


# -- errors never leak ------------------------------------------------------------------------------------------


def test_an_unexpected_error_on_v1_is_magentos_500_with_a_report_id_and_no_trace(v1, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail at /work/main/sales/selectors.py line 1")

    monkeypatch.setattr("sales.api.v1.views.invoice_documents", broken)

    response = v1.get("/rest/V1/invoices/1")

    assert response.status_code == 500
    body = json.loads(response.content)
    assert body["message"] == "Internal Error. Details are available in Magento log file. Report ID: %1"
    assert re.fullmatch(r"[0-9a-f]{12}", body["parameters"][0])
    assert "secret detail" not in response.content.decode()
    assert_no_leak(response)


def test_an_unexpected_error_on_api2_is_a_plain_500_with_no_trace(v1, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail at /work/main/sales/selectors.py line 1")

    monkeypatch.setattr("sales.api.api2.views.invoice_documents", broken)

    response = v1.get("/api2/invoice?id=1")

    assert (response.status_code, json.loads(response.content)) == (500, {"error": "Internal error"})
    assert_no_leak(response)
