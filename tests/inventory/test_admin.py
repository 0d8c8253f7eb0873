"""The inventory screens: Products with Quantity per Source and Salable Quantity, source items, sources,
stocks, read-only reservations; a fixed number of queries per page; the groups' permissions."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Reservation, SourceItem, StockItemConfiguration
from inventory.services import SourceItemData, source_items_save
from sales.services import invoice_order
from tests.factories import staff_client
from tests.inventory.conftest import add_source, line, order_entity, seed_001_with_vp1

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/inventory/stockitemconfiguration/",
    "/admin/inventory/sourceitem/",
    "/admin/inventory/source/",
    "/admin/inventory/stock/",
    "/admin/inventory/reservation/",
]


def stock(*entries: tuple) -> None:
    source_items_save(
        items=[SourceItemData(sku=sku, source_code=code, quantity=Decimal(qty), status=1) for sku, code, qty in entries]
    )


@pytest.fixture(autouse=True)
def inventory_groups(db):
    """Migration 0002's groups; made again if a transactional test's flush deleted them."""
    from django.contrib.auth.models import Permission

    groups = importlib.import_module("inventory.migrations.0002_default_source_and_stock").GROUPS
    for name, codenames in groups.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="inventory", codename__in=codenames))


def test_products_show_quantity_per_source_and_salable_quantity_after_seed_001s_invoice(
    admin_client, default_stock, import_order
):
    # given seed 001's verify step: 10,000 vp1, an order of 2 invoiced
    stock(("vp1", "default", 10000))
    invoice_order(order_id=import_order(seed_001_with_vp1()).pk)

    page = admin_client.get("/admin/inventory/stockitemconfiguration/", {"q": "vp1"}).content.decode()

    assert "Quantity per Source" in page and "Salable Quantity" in page
    assert "Default Source: 9998" in page
    assert "Default Stock: 9998" in page


def test_products_show_each_source_and_each_assigned_stock(admin_client, default_stock, import_order):
    add_source("east", priority=2)
    stock(("vp1", "default", 5), ("vp1", "east", "2.5"))
    StockItemConfiguration.objects.create(sku="unmanaged", manage_stock=False)
    stock(("unmanaged", "default", 1))
    import_order(order_entity(line("vp1", qty=3)))

    page = admin_client.get("/admin/inventory/stockitemconfiguration/").content.decode()

    assert "Default Source: 5<br>East: 2.5" in page
    assert "Default Stock: 4.5" in page
    assert "Default Stock: Manage Stock: No" in page


def test_the_products_page_runs_the_same_queries_for_3_and_30_skus(admin_client, default_stock, import_order):
    add_source("east", priority=2)
    counts = {}
    for size in (3, 30):
        skus = [f"p{n:02d}" for n in range(size)]
        stock(*[(sku, "default", 10) for sku in skus], *[(sku, "east", 1) for sku in skus])
        import_order(order_entity(*[line(sku, qty=1) for sku in skus]))
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get("/admin/inventory/stockitemconfiguration/")
        assert response.status_code == 200
        assert response.content.decode().count("Default Stock: ") == size
        counts[size] = len(queries.captured_queries)
    assert counts[3] == counts[30], counts


@pytest.mark.parametrize("url", PAGES[1:])
def test_the_other_lists_run_the_same_queries_for_3_and_30_rows(admin_client, default_stock, import_order, url):
    counts = {}
    for size in (3, 30):
        while SourceItem.objects.count() < size:
            number = SourceItem.objects.count()
            add_source(f"s{number}", priority=number + 2)
            stock((f"sku{number}", f"s{number}", number))
            import_order(order_entity(line(f"sku{number}", qty=1)))
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        counts[size] = len(queries.captured_queries)
    assert counts[3] == counts[30], counts


def test_reservations_are_read_only_in_the_admin(admin_client, default_stock, import_order):
    import_order(order_entity(line("vp1", qty=2)))
    reservation = Reservation.objects.get()

    page = admin_client.get("/admin/inventory/reservation/").content.decode()
    assert "order_placed" in page and "-2" in page
    assert admin_client.get("/admin/inventory/reservation/add/").status_code == 403
    assert admin_client.post(f"/admin/inventory/reservation/{reservation.pk}/delete/").status_code == 403
    assert Reservation.objects.count() == 1


def test_a_source_item_saved_in_the_admin_goes_through_magentos_validators(admin_client, default_stock):
    add_url = "/admin/inventory/sourceitem/add/"
    refused = admin_client.post(add_url, {"sku": "vp1", "source": "default", "quantity": "-1", "status": "1"})
    assert refused.status_code == 200 and "&quot;quantity&quot; can not be negative." in refused.content.decode()
    assert not SourceItem.objects.exists()

    saved = admin_client.post(add_url, {"sku": "vp1", "source": "default", "quantity": "7", "status": "1"})
    assert saved.status_code == 302
    item = SourceItem.objects.get()
    assert (item.sku, item.quantity) == ("vp1", Decimal(7))
    assert StockItemConfiguration.objects.filter(sku="vp1").exists()  # the service assigned the SKU

    changed = admin_client.post(f"/admin/inventory/sourceitem/{item.pk}/change/", {"quantity": "3", "status": "0"})
    assert changed.status_code == 302
    item.refresh_from_db()
    assert (item.quantity, item.status) == (Decimal(3), 0)


def test_the_default_stock_and_sources_cannot_be_deleted(admin_client, default_stock):
    assert admin_client.post("/admin/inventory/stock/1/delete/").status_code == 403
    assert admin_client.post("/admin/inventory/source/default/delete/").status_code == 403


def test_an_inventory_viewer_sees_the_lists_and_changes_nothing(client, default_stock):
    stock(("vp1", "default", 1))
    viewer = staff_client(client, "Inventory viewer")

    for url in PAGES:
        assert viewer.get(url).status_code == 200, url
    assert viewer.get("/admin/inventory/sourceitem/add/").status_code == 403
    item = SourceItem.objects.get()
    viewer.post(f"/admin/inventory/sourceitem/{item.pk}/change/", {"quantity": "99", "status": "1"})
    item.refresh_from_db()
    assert item.quantity == Decimal(1)


def test_staff_without_an_inventory_group_cannot_open_the_inventory(client, default_stock):
    nobody = staff_client(client)
    for url in PAGES:
        assert nobody.get(url).status_code == 403, url


def test_an_inventory_manager_can_set_a_quantity(client, default_stock):
    stock(("vp1", "default", 1))
    manager = staff_client(client, "Inventory manager")
    item = SourceItem.objects.get()

    response = manager.post(f"/admin/inventory/sourceitem/{item.pk}/change/", {"quantity": "99", "status": "1"})

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.quantity == Decimal(99)
