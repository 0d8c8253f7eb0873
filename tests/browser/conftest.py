"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Without Chromium these tests skip, or fail when ``COUNTERFOIL_REQUIRE_BROWSER=1`` (CI). A failing test leaves
a full-page screenshot in ``var/browser-screenshots/<test name>.png``.
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    # The machine's network is closed: without these Chromium stalls on its own background requests.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser-Passw0rd!"


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def browser_unavailable(reason: str) -> None:
    if os.environ.get("COUNTERFOIL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (COUNTERFOIL_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(f"{reason}: install Debian's chromium or set CHROMIUM_PATH")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture (no live server, no flush): tests marked `browser` need a Chromium to drive."""
    if item.get_closest_marker("browser") is not None and not os.access(chromium_path(), os.X_OK):
        browser_unavailable(f"needs Chromium at {chromium_path()}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item):
    outcome = yield
    report = outcome.get_result()
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if not report.failed or report.when == "teardown" or page is None or page.is_closed():
        return
    name = re.sub(r"[^\w.-]", "_", item.name)  # parametrized ids carry brackets and slashes
    path = Path(item.config.rootpath, "var", "browser-screenshots", f"{name}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=path, full_page=True)
    except Exception as error:  # a missing screenshot must not hide the test's own failure
        report.sections.append(("browser screenshot", f"could not save {path}: {error}"))
        return
    report.sections.append(("browser screenshot", str(path)))  # printed under the failure


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for the package; Playwright stops when the last browser test is done."""
    from playwright.sync_api import Error, sync_playwright

    # Playwright's sync API keeps its event loop running in the main thread, so Django's async-unsafe check
    # refuses the tests' ORM calls (SynchronousOnlyOperation) while it is active. Lifted only meanwhile.
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        try:
            chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        except Error as error:
            browser_unavailable(f"Chromium at {chromium_path()} did not start: {error.message.splitlines()[0]}")
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def sales_groups(db):
    """The groups of migration 0007: a transactional test's flush deletes them, so make them again if needed."""
    from django.contrib.auth.models import Group, Permission

    groups = importlib.import_module("sales.migrations.0007_sales_groups").GROUPS
    for name, codenames in groups.items():
        group, created = Group.objects.get_or_create(name=name)
        if created:
            group.permissions.set(Permission.objects.filter(content_type__app_label="sales", codename__in=codenames))


@pytest.fixture
def log_in(page, live_server, django_user_model, sales_groups):
    """``log_in(group)``: a staff user in that group signs in through the admin's login form."""
    from playwright.sync_api import expect

    from tests.factories import StaffUserFactory

    def _log_in(group: str):
        username = group.lower().replace(" ", "-")
        user = StaffUserFactory(username=username, password=PASSWORD, groups=[group])
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{live_server.url}/admin/")
        return user

    return _log_in
