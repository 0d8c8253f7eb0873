from django.contrib.auth.management import create_permissions
from django.db import migrations

# Magento's roles for the inventory screens, like the sales groups: staff see only what theirs allows.
GROUPS = {
    "Inventory viewer": [
        "view_source",
        "view_stock",
        "view_stocksourcelink",
        "view_sourceitem",
        "view_stockitemconfiguration",
        "view_reservation",
    ],
    "Inventory manager": [
        "view_source",
        "view_stock",
        "view_stocksourcelink",
        "view_sourceitem",
        "view_stockitemconfiguration",
        "view_reservation",
        "add_source",
        "change_source",
        "add_stock",
        "change_stock",
        "add_stocksourcelink",
        "change_stocksourcelink",
        "delete_stocksourcelink",
        "add_sourceitem",
        "change_sourceitem",
        "add_stockitemconfiguration",
        "change_stockitemconfiguration",
    ],
}


def create_defaults(apps, schema_editor):
    """Magento's Default Source and Default Stock (id 1), linked: what a single-source shop sells from
    (the values of Magento's InventoryCatalog data patches)."""
    Source = apps.get_model("inventory", "Source")
    Stock = apps.get_model("inventory", "Stock")
    StockSourceLink = apps.get_model("inventory", "StockSourceLink")
    source, _ = Source.objects.get_or_create(
        source_code="default",
        defaults={
            "name": "Default Source",
            "enabled": True,
            "description": "Default Source",
            "latitude": 0,
            "longitude": 0,
            "country_id": "US",
            "postcode": "00000",
        },
    )
    stock, _ = Stock.objects.get_or_create(stock_id=1, defaults={"name": "Default Stock"})
    StockSourceLink.objects.get_or_create(stock=stock, source=source, defaults={"priority": 1})
    connection = schema_editor.connection
    if connection.vendor == "postgresql":  # the next stock made by the admin must not collide with id 1
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('inventory_stock', 'stock_id'),"
                " (SELECT MAX(stock_id) FROM inventory_stock))"
            )


def create_groups(apps, schema_editor):
    inventory = apps.get_app_config("inventory")
    inventory.models_module = True  # permissions are normally made after migrations; the groups need them now
    create_permissions(inventory, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="inventory", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunPython(create_defaults, migrations.RunPython.noop),
        migrations.RunPython(create_groups, migrations.RunPython.noop),
    ]
