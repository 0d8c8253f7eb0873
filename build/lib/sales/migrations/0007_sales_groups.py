from django.contrib.auth.management import create_permissions
from django.db import migrations

# Magento's roles as Django groups: staff get one and see only what it allows.
GROUPS = {
    "Sales viewer": ["view_order", "view_invoice", "view_store"],
    "Sales manager": [
        "view_order",
        "view_invoice",
        "view_store",
        "invoice_order",
        "capture_invoice",
        "void_invoice",
        "cancel_invoice",
        "email_invoice",
        "comment_invoice",
    ],
}


def create_groups(apps, schema_editor):
    sales = apps.get_app_config("sales")
    sales.models_module = True  # permissions are normally made after migrations; the groups need them now
    create_permissions(sales, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="sales", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("sales", "0006_invoice_permissions"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
