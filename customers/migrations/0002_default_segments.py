from django.db import migrations


def install(apps, schema_editor):
    from customers.services import segments_install_defaults

    segments_install_defaults(apps.get_model("customers", "Segment"))


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
