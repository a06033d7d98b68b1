from django.db import migrations

from crm_site import schedule

NAME = "dashboards: build yesterday's daily figures"


def install(apps, schema_editor):
    entries = [entry for entry in schedule.DEFAULT_SCHEDULE if entry.name == NAME]
    schedule.install(
        apps.get_model("django_celery_beat", "PeriodicTask"),
        apps.get_model("django_celery_beat", "CrontabSchedule"),
        entries=entries,
    )


class Migration(migrations.Migration):
    dependencies = [("relationships", "0006_day_figures"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
