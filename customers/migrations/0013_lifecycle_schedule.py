from django.db import migrations

from crm_site import schedule

NAME = "customers: derive the lifecycle stages"


def install(apps, schema_editor):
    entries = [entry for entry in schedule.DEFAULT_SCHEDULE if entry.name == NAME]
    schedule.install(
        apps.get_model("django_celery_beat", "PeriodicTask"),
        apps.get_model("django_celery_beat", "CrontabSchedule"),
        entries=entries,
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0012_snapshot_partitions_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
