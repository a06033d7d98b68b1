from django.db import migrations

from crm_site import schedule

NAME = "tasks: reminders of tasks due tomorrow"


def install(apps, schema_editor):
    schedule.install(
        apps.get_model("django_celery_beat", "PeriodicTask"),
        apps.get_model("django_celery_beat", "CrontabSchedule"),
        entries=[entry for entry in schedule.DEFAULT_SCHEDULE if entry.name == NAME],
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("worktasks", "0001_tasks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
