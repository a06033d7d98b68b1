from django.db import migrations

from crm_site import schedule


def install(apps, schema_editor):
    schedule.install(
        apps.get_model("django_celery_beat", "PeriodicTask"), apps.get_model("django_celery_beat", "CrontabSchedule")
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="feed: load ready files from the inbox"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feed", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
