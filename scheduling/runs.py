"""The run record of the daily jobs (``JobRun``), written by the jobs themselves: ``DailyJob`` marks its run
started when it starts and succeeded (or failed) when it ends; ``published`` marks it queued whenever a message
for it is published (by beat, by the catch-up, by an admin's "run now"). A day's run is done only once it
succeeded; it is in flight while a mark newer than its end is younger than the broker's visibility timeout (after
that, Redis would have handed it to another worker had one taken it: it is lost)."""

import json
import logging
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from crm_site.celery import CrmTask

from .models import JobRun

logger = logging.getLogger("scheduling")

# A job is caught up at most this many times a day: a job that fails every time is not run every ten minutes.
MAX_CATCH_UPS = 3


class DailyJob(CrmTask):
    """The base of a daily job's task (``@shared_task(base=DailyJob)``): its runs are recorded, and a day's run the
    beat schedule missed is caught up (``scheduling.services.catch_up``).

    ``catch_up_within``: how long after its time a missed run is still worth running; ``None``, the rest of its
    day. The task must be safe to run again: a run that died after its work but before its record is run again."""

    abstract = True
    catch_up_within: timedelta | None = None

    def __call__(self, *args, **kwargs):
        run = started(self.name, args, kwargs)
        try:
            result = super().__call__(*args, **kwargs)
        except BaseException as exc:
            ended(run, error=exc)
            raise
        ended(run, result=result)
        return result


def arguments_key(args, kwargs) -> str:
    """A run's arguments as one string, the same for a beat entry's ``args``/``kwargs`` and the message it sends:
    ``kind="birthday"``. A run with other arguments (a given ``day``) is another job, not the day's run."""
    parts = [json.dumps(value, sort_keys=True, ensure_ascii=False) for value in args or ()]
    parts += [
        f"{name}={json.dumps(value, sort_keys=True, ensure_ascii=False)}"
        for name, value in sorted((kwargs or {}).items())
    ]
    return ", ".join(parts)[: JobRun._meta.get_field("arguments").max_length]


def in_flight_for() -> timedelta:
    return timedelta(seconds=settings.VISIBILITY_TIMEOUT)


def _marked_since(field: str, since: datetime) -> Q:
    """The run has a ``field`` mark newer than ``since`` and than its end."""
    return Q(**{f"{field}__gt": since}) & (Q(finished_at__isnull=True) | Q(finished_at__lt=F(field)))


def missing(now: datetime) -> QuerySet[JobRun]:
    """The runs still to be caught up at ``now``: not succeeded, not in flight, not caught up too often."""
    since = now - in_flight_for()
    return (
        JobRun.objects.filter(succeeded_at__isnull=True, catch_ups__lt=MAX_CATCH_UPS)
        .exclude(_marked_since("queued_at", since))
        .exclude(_marked_since("started_at", since))
    )


def _run(task: str, args, kwargs, *, at: datetime) -> JobRun:
    run, _ = JobRun.objects.get_or_create(
        task=task,
        arguments=arguments_key(args, kwargs),
        day=timezone.localdate(at),
        defaults={"status": JobRun.Status.QUEUED},
    )
    return run


def is_daily_job(task_name: str) -> bool:
    return isinstance(current_app.tasks.get(task_name), DailyJob)


def published(task: str, args, kwargs) -> None:
    """A message for a daily job was published: its run is queued."""
    now = timezone.now()
    run = _run(task, args, kwargs, at=now)
    JobRun.objects.filter(pk=run.pk).exclude(status=JobRun.Status.RUNNING).update(status=JobRun.Status.QUEUED)
    JobRun.objects.filter(pk=run.pk).update(queued_at=now)


def claim(run: JobRun, now: datetime) -> bool:
    """Take a missing run for the catch-up: one pass wins (a conditional UPDATE), the others find it in flight."""
    return bool(
        missing(now)
        .filter(pk=run.pk)
        .update(status=JobRun.Status.RUNNING, started_at=now, catch_ups=F("catch_ups") + 1)
    )


def started(task: str, args, kwargs) -> JobRun:
    now = timezone.now()
    run = _run(task, args, kwargs, at=now)
    JobRun.objects.filter(pk=run.pk).update(status=JobRun.Status.RUNNING, started_at=now)
    return run


def ended(run: JobRun, *, result=None, error: BaseException | None = None) -> None:
    """The run ended: succeeded with the task's result, or failed (the error's class only: its text may carry
    data)."""
    now = timezone.now()
    try:
        if error is None:
            JobRun.objects.filter(pk=run.pk).update(
                status=JobRun.Status.SUCCEEDED, finished_at=now, succeeded_at=now, outcome=_json(result)
            )
        else:
            JobRun.objects.filter(pk=run.pk).update(
                status=JobRun.Status.FAILED, finished_at=now, outcome={"error": type(error).__name__}
            )
    except Exception:  # the job's own outcome stands; a run left unrecorded is caught up (it is safe to run again)
        logger.exception("the run of %s could not be recorded", run.task)


def _json(result):
    try:
        json.dumps(result)
    except (TypeError, ValueError):
        return repr(result)[:200]
    return result
