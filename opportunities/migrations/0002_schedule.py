from django.db import migrations

from crm_site import schedule

NAMES = (
    "opportunities: match won opportunities with holdings",
    "opportunities: remind owners of stale opportunities",
)


def install(apps, schema_editor):
    schedule.install(
        apps.get_model("django_celery_beat", "PeriodicTask"),
        apps.get_model("django_celery_beat", "CrontabSchedule"),
        entries=[entry for entry in schedule.DEFAULT_SCHEDULE if entry.name in NAMES],
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=NAMES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0001_opportunities"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
