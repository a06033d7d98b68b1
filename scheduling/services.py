"""The catch-up of the daily jobs' runs the beat schedule missed.

Beat publishes each entry at its time and moves on: when the broker is down at that minute (or beat itself is),
that day's run is never sent. The catch-up pass (``scheduling.tasks.catch_up``: every ten minutes and when a
worker starts) reads the schedule as beat does — the enabled entries of django-celery-beat's table, with the
admins' edits — and, for each daily job (a ``DailyJob`` task) whose time today has passed and whose run today is
missing in the run record (``JobRun``: never sent, failed, or lost with its worker), runs it once, in this pass,
one job after another in the order of their times (the digest after the day's reminders)."""

import functools
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from . import runs
from .models import JobRun

logger = logging.getLogger("scheduling")

# Beat's own run of an entry is published at its minute and marked queued then; the catch-up leaves an entry
# alone for this long after its time, so that it never races beat's run of the same minute.
GRACE = timedelta(minutes=2)


@dataclass(frozen=True)
class Due:
    """A daily job's run due today, as the schedule's entry sends it."""

    entry: str
    task: runs.DailyJob
    args: tuple
    kwargs: dict
    at: datetime

    @property
    def arguments(self) -> str:
        return runs.arguments_key(self.args, self.kwargs)


def last_time_today(schedule, now: datetime) -> datetime | None:
    """The latest time of a crontab schedule today (in the schedule's time zone) not after ``now``, if any."""
    local = now.astimezone(schedule.tz) if getattr(schedule, "tz", None) else timezone.localtime(now)
    day = local.date()
    if (
        day.month not in schedule.month_of_year
        or day.day not in schedule.day_of_month
        or day.isoweekday() % 7 not in schedule.day_of_week  # crontab: 0 is Sunday
    ):
        return None
    times = [
        (hour, minute)
        for hour in schedule.hour
        for minute in schedule.minute
        if (hour, minute) <= (local.hour, local.minute)
    ]
    if not times:
        return None
    hour, minute = max(times)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


@functools.cache
def _tasks_imported() -> None:
    """Every app's tasks registered (a worker has them already; once a process, not every pass)."""
    current_app.loader.import_default_modules()


def due_today(now: datetime) -> list[Due]:
    """The daily jobs of the schedule whose time today has passed (by ``GRACE``) and whose catch-up window is
    open, in the order of their times."""
    _tasks_imported()
    found: dict[tuple[str, str], Due] = {}
    entries = PeriodicTask.objects.filter(enabled=True, one_off=False, crontab__isnull=False).select_related("crontab")
    for entry in entries:
        task = current_app.tasks.get(entry.task)
        if not isinstance(task, runs.DailyJob):
            continue
        if (entry.start_time and entry.start_time > now) or (entry.expires and entry.expires <= now):
            continue
        at = last_time_today(entry.crontab.schedule, now)
        if at is None or now - at < GRACE:
            continue  # not due yet today
        if task.catch_up_within is not None and now > at + task.catch_up_within:
            continue  # too late to be worth it today
        try:
            args, kwargs = tuple(json.loads(entry.args or "[]")), dict(json.loads(entry.kwargs or "{}"))
        except (TypeError, ValueError):
            logger.warning("periodic task %r has arguments that are not JSON: not caught up", entry.name)
            continue
        due = Due(entry=entry.name, task=task, args=args, kwargs=kwargs, at=at)
        found.setdefault((task.name, due.arguments), due)
    return sorted(found.values(), key=lambda due: due.at)


def catch_up(*, now: datetime | None = None) -> list[str]:
    """Run, once each, the daily jobs due today whose run is missing; returns the schedule entries run."""
    now = now or timezone.now()
    due = due_today(now)
    if not due:
        return []
    recorded = {
        (run.task, run.arguments): run
        for run in JobRun.objects.filter(day=timezone.localdate(now), task__in={d.task.name for d in due})
    }
    done = []
    for job in due:
        run = recorded.get((job.task.name, job.arguments))
        if run is not None and run.succeeded_at is not None:
            continue
        if run is None:
            run, _ = JobRun.objects.get_or_create(
                task=job.task.name,
                arguments=job.arguments,
                day=timezone.localdate(now),
                defaults={"status": JobRun.Status.QUEUED},
            )
        if not runs.claim(run, now):
            continue  # in flight (beat's run or another pass), or caught up too often today
        logger.info("catching up %r, due at %s", job.entry, job.at.strftime("%H:%M"))
        try:
            job.task(*job.args, **job.kwargs)
        except SoftTimeLimitExceeded:
            raise  # the pass is out of time: the jobs after this one are still missing for the next pass
        except Exception:
            logger.exception("catching up %r failed", job.entry)
            continue
        done.append(job.entry)
    return done
