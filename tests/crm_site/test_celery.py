import json
import os
import subprocess
import sys
from pathlib import Path

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


# -- time limits and redelivery ------------------------------------------------------------------------------------

LIMITS_PROBE = """
import json, django
django.setup()
from django.conf import settings
from crm_site.celery import app
app.loader.import_default_modules()
conf = app.conf
print(json.dumps({
    "visibility_timeout": settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
    "tasks": {
        name: [task.soft_time_limit or conf.task_soft_time_limit, task.time_limit or conf.task_time_limit]
        for name, task in app.tasks.items() if not name.startswith("celery.")
    },
}))
"""


def limits(**env) -> dict:
    """The broker's visibility timeout and every registered task's (soft, hard) time limits, as a production
    process with the default settings and a Redis broker has them."""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", LIMITS_PROBE],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(root),
            "DJANGO_SETTINGS_MODULE": "crm_site.settings",
            "DEBUG": "1",
            "REDIS_URL": "redis://cache.internal:6379/0",
            **env,
        },
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_dead_workers_tasks_come_back_within_half_an_hour_and_never_while_still_running():
    """Redis hands an unacknowledged task to another worker once the visibility timeout has passed since a worker
    took it. It must exceed twice every task's hard limit (a wait for a free process, then the run) with a margin
    — three times — or a task still running is delivered twice; and stay short, or a dead worker's digests wait."""
    found = limits()
    timeout, tasks = found["visibility_timeout"], found["tasks"]
    assert "reminders.tasks.send_digest" in tasks and "feed.chain.tiers" in tasks
    for name, (soft, hard) in tasks.items():
        assert 0 < soft < hard, name
        assert timeout >= 3 * hard, f"{name}: hard limit {hard} s, visibility timeout {timeout} s"
    assert timeout <= 30 * 60
    # The longest limits are the long jobs' (feed.chain, the lifecycle): at least four times their longest run
    # measured (118 s, docs/performance.md), and the timeout is derived from them.
    longest = max(hard for _soft, hard in tasks.values())
    assert longest == tasks["feed.chain.tiers"][1] == tasks["customers.tasks.derive_lifecycle"][1] >= 4 * 118
    assert timeout == 3 * longest


def test_the_visibility_timeout_follows_the_time_limits_and_can_be_set():
    scaled = limits(CELERY_TASK_SOFT_TIME_LIMIT="2", CELERY_TASK_TIME_LIMIT="3", LONG_TASK_SOFT_TIME_LIMIT="4", LONG_TASK_TIME_LIMIT="5")  # fmt: skip
    assert scaled["visibility_timeout"] == 15
    assert scaled["tasks"]["feed.chain.tiers"] == [4, 5] and scaled["tasks"]["reminders.tasks.send_digest"] == [2, 3]
    assert limits(CELERY_VISIBILITY_TIMEOUT="120")["visibility_timeout"] == 120
