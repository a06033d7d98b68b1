"""Data that named the models' old app: content types (and so the admin permissions and the admin log that hang on
them) move to the new apps, and the periodic tasks point at the tasks' new modules. Reversible."""

from django.db import migrations

MOVED = {
    "organisation": ["branch", "staff", "historicalbranch", "historicalstaff"],
    "notifications": ["notification"],
    "reminders": ["followup", "digestdelivery"],
    "dashboards": ["branchdayfigures", "rmdayfigures", "uncoveredcustomer"],
}

TASKS = {
    "relationships.tasks.purge_expired_sessions": "organisation.tasks.purge_expired_sessions",
    "relationships.tasks.generate_reminders": "reminders.tasks.generate_reminders",
    "relationships.tasks.refresh_reminders": "reminders.tasks.refresh_reminders",
    "relationships.tasks.follow_ups_housekeeping": "reminders.tasks.follow_ups_housekeeping",
    "relationships.tasks.digest_dispatch": "reminders.tasks.digest_dispatch",
    "relationships.tasks.send_digest": "reminders.tasks.send_digest",
    "relationships.tasks.build_figures": "dashboards.tasks.build_figures",
}


def _move(apps, *, forward: bool) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for app, models in MOVED.items():
        old, new = ("relationships", app) if forward else (app, "relationships")
        for model in models:
            if ContentType.objects.filter(app_label=new, model=model).exists():
                continue  # created already (a database that ran the new code before this migration)
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)
    for old, new in TASKS.items():
        a, b = (old, new) if forward else (new, old)
        PeriodicTask.objects.filter(task=a).update(task=b)


def forwards(apps, schema_editor):
    _move(apps, forward=True)


def backwards(apps, schema_editor):
    _move(apps, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("organisation", "0001_initial"),
        ("notifications", "0001_initial"),
        ("reminders", "0001_initial"),
        ("dashboards", "0001_initial"),
        ("relationships", "0010_move_models_out"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
