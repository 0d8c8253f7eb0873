from django.db import migrations

from sales.numbering import sequences_create


def create_default_stores(apps, schema_editor):
    Store = apps.get_model("sales", "Store")
    SalesSequence = apps.get_model("sales", "SalesSequence")
    using = schema_editor.connection.alias
    for store_id, code, name in ((0, "admin", "Admin"), (1, "default", "Default Store View")):
        Store.objects.using(using).get_or_create(
            id=store_id, defaults={"code": code, "name": name, "frontend_name": "Main Website Store"}
        )
        sequences_create(store_id=store_id, using=using, sequence_model=SalesSequence)


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create_default_stores, migrations.RunPython.noop)]
