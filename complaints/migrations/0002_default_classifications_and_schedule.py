from django.db import migrations

from crm_site import schedule


def install(apps, schema_editor):
    from complaints.services import classifications_install_defaults

    classifications_install_defaults(apps.get_model("complaints", "ComplaintCategory"), apps.get_model("complaints", "ComplaintCause"))
    schedule.install(apps.get_model("django_celery_beat", "PeriodicTask"), apps.get_model("django_celery_beat", "CrontabSchedule"))


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0001_initial"),
        ("relationships", "0005_reminder_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
