from django.db import migrations


def seed(apps, schema_editor):
    from banking.payments.directory import seed_reference_data

    seed_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial"), ("deposits", "0002_standard_products")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
