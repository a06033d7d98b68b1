"""Data that named the models' old app: content types (and so the admin permissions and the admin log that hang on
them) move to the new apps, and the periodic tasks point at the tasks' new modules. Reversible.

A content type can exist under both labels: the new app's was created by a ``post_migrate`` that ran while both
apps' models were in the migration state (``migrate relationships 0009`` rolls this migration back but leaves
``organisation 0001`` and the other new apps' first migrations applied), or by the new code run on a database
before this migration. The row that is moved keeps its id; what hangs on the other (group and user permissions,
admin log entries) is carried over to it, and the other is deleted.
"""

from django.conf import settings
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


def _merge(apps, duplicate, kept) -> None:
    """Carry the permissions granted on ``duplicate``'s models and its admin log entries over to ``kept`` (a
    content type of the same model), then delete ``duplicate`` (and its permissions)."""
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    grants = [
        (apps.get_model("auth", "Group").permissions.through, "group_id"),
        (apps.get_model(settings.AUTH_USER_MODEL).user_permissions.through, "user_id"),
    ]
    kept_permissions = {p.codename: p for p in Permission.objects.filter(content_type=kept)}
    for permission in Permission.objects.filter(content_type=duplicate):
        target = kept_permissions.get(permission.codename)
        if target is None:
            permission.content_type = kept
            permission.save(update_fields=["content_type"])
            continue
        for through, holder in grants:
            has = set(through.objects.filter(permission=target).values_list(holder, flat=True))
            gets = set(through.objects.filter(permission=permission).values_list(holder, flat=True)) - has
            through.objects.bulk_create([through(**{holder: pk, "permission_id": target.pk}) for pk in sorted(gets)])
        permission.delete()
    LogEntry.objects.filter(content_type=duplicate).update(content_type=kept)
    duplicate.delete()


def _move(apps, *, forward: bool) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for app, models in MOVED.items():
        old, new = ("relationships", app) if forward else (app, "relationships")
        for model in models:
            moving = ContentType.objects.filter(app_label=old, model=model).first()
            if moving is None:
                continue  # a fresh database: post_migrate creates the content type under its app
            duplicate = ContentType.objects.filter(app_label=new, model=model).first()
            if duplicate is not None:
                _merge(apps, duplicate, moving)
            moving.app_label = new
            moving.save(update_fields=["app_label"])
    for old, new in TASKS.items():
        a, b = (old, new) if forward else (new, old)
        PeriodicTask.objects.filter(task=a).update(task=b)


def forwards(apps, schema_editor):
    _move(apps, forward=True)


def backwards(apps, schema_editor):
    _move(apps, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("organisation", "0001_initial"),
        ("notifications", "0001_initial"),
        ("reminders", "0001_initial"),
        ("dashboards", "0001_initial"),
        ("relationships", "0010_move_models_out"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
