import pytest
from django_celery_beat.models import PeriodicTask
from kombu.exceptions import OperationalError

from crm_site import schedule
from crm_site.celery import CrmTask, app
from organisation.tasks import purge_expired_sessions


def test_tasks_are_autodiscovered_and_use_the_project_base_class():
    app.loader.import_default_modules()
    assert "organisation.tasks.purge_expired_sessions" in app.tasks
    assert isinstance(purge_expired_sessions, CrmTask)
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]


@pytest.mark.django_db
def test_the_default_schedule_is_in_the_database_where_admins_can_edit_it():
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert {entry.name for entry in schedule.DEFAULT_SCHEDULE} <= names
    task = PeriodicTask.objects.get(name=schedule.DEFAULT_SCHEDULE[0].name)
    assert str(task.crontab.timezone) == "Asia/Shanghai"


@pytest.mark.django_db
def test_installing_again_keeps_an_admins_changes():
    from django_celery_beat.models import CrontabSchedule

    entry = schedule.DEFAULT_SCHEDULE[0]
    task = PeriodicTask.objects.get(name=entry.name)
    task.enabled = False
    task.save()
    assert schedule.install(PeriodicTask, CrontabSchedule) == 0
    assert PeriodicTask.objects.get(name=entry.name).enabled is False


@pytest.mark.django_db(transaction=True)
def test_delay_on_commit_waits_for_the_commit_and_survives_a_broker_outage(monkeypatch):
    from django.db import transaction

    calls = []

    def broken_publish(self, args=None, kwargs=None, **options):
        calls.append(args)
        raise OperationalError("connection refused")

    monkeypatch.setattr(CrmTask, "apply_async", broken_publish)
    with transaction.atomic():
        purge_expired_sessions.delay_on_commit()
        assert calls == []  # nothing is published before the commit
    assert calls == [()]  # published after commit; the outage was logged, not raised
