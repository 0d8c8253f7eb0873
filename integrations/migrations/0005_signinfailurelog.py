# The admin token route's lockout now covers the admin login too: one count per username, whichever door.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0004_idempotencykey"),
    ]

    operations = [
        migrations.RenameModel(old_name="AdminTokenRequestLog", new_name="SignInFailureLog"),
        migrations.AlterModelOptions(
            name="signinfailurelog",
            options={"verbose_name": "staff sign-in failure", "verbose_name_plural": "staff sign-in failures"},
        ),
    ]
